"""Erlang B/C/A and chat maths: reference values, textbook cases, properties, simulation."""

from __future__ import annotations

import csv

import mpmath as mp
import numpy as np
import pytest
from conftest import TESTS
from hypothesis import given, settings
from hypothesis import strategies as st
from queue_sim import simulate

from forecast.erlang import (
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    offered_load,
    required_agents,
    service_level,
)


# --------------------------------------------------------------------------- reference file
def _reference_rows() -> list[dict[str, float]]:
    path = TESTS / "data" / "erlang_c_reference.csv"
    with path.open() as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def test_reference_agents_and_service_level() -> None:
    rows = _reference_rows()
    assert len(rows) == 594
    col = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    n = required_agents(
        col["calls_per_interval"],
        col["aht_s"],
        col["interval_s"],
        col["sl_target"],
        col["answer_time_s"],
    )
    assert n.dtype == np.int64
    wrong = np.flatnonzero(n != col["agents_required"])
    assert wrong.size == 0, f"{wrong.size} rows differ, first {rows[wrong[0]]} -> {n[wrong[0]]}"
    a = offered_load(col["calls_per_interval"], col["aht_s"], col["interval_s"])
    sl = service_level(a, col["agents_required"], col["aht_s"], col["answer_time_s"])
    # the file carries 10 decimals, so 1e-9 is the tightest meaningful check
    np.testing.assert_allclose(sl, col["service_level_at_that"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        asa(a, col["agents_required"], col["aht_s"]), col["asa_s"], rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        occupancy(a, col["agents_required"]), col["occupancy"], rtol=0, atol=1e-6
    )


# --------------------------------------------------------------------------- textbook cases
def test_textbook_ten_erlangs() -> None:
    # 100 calls in 30 min, AHT 180 s: A = 10 Erlangs; 80 % in 20 s needs 14 agents
    assert float(offered_load(100, 180, 1800)) == pytest.approx(10.0)
    assert float(erlang_c(10, 11)) == pytest.approx(0.6821, abs=1e-4)
    assert float(erlang_c(10, 13)) == pytest.approx(0.2853, abs=1e-4)
    assert int(required_agents(100, 180, 1800, 0.8, 20)) == 14
    assert float(service_level(10, 13, 180, 20)) < 0.8 < float(service_level(10, 14, 180, 20))
    assert float(service_level(10, 14, 180, 20)) == pytest.approx(0.8884, abs=1e-4)


def _erlang_b_exact(a: float, n: int) -> float:
    mp.mp.dps = 50
    a_ = mp.mpf(a)
    terms = [a_**k / mp.factorial(k) for k in range(n + 1)]
    return float(terms[-1] / mp.fsum(terms))


@pytest.mark.parametrize(
    ("a", "n"),
    [(0.5, 1), (5.0, 10), (10.0, 11), (83.2, 90), (950.0, 1000), (1400.0, 1500), (2.0, 400)],
)
def test_erlang_b_matches_exact_sum(a: float, n: int) -> None:
    assert float(erlang_b(a, n)) == pytest.approx(_erlang_b_exact(a, n), rel=1e-11, abs=1e-300)


def test_no_overflow_at_thousands_of_agents() -> None:
    n = required_agents(np.array([20_000.0, 50_000.0]), 300.0, 1800.0, 0.9, 20)
    a = offered_load(np.array([20_000.0, 50_000.0]), 300.0, 1800.0)
    assert np.all(n > a)
    sl = service_level(a, n, 300.0, 20)
    assert np.all(np.isfinite(sl)) and np.all(sl >= 0.9)
    assert np.all(service_level(a, n - 1, 300.0, 20) < 0.9)


def test_broadcasting_and_shapes() -> None:
    vol = np.array([[10.0, 20.0], [30.0, 0.0]])
    n = required_agents(vol, 300.0, 900.0, 0.8, 20)
    assert n.shape == (2, 2) and n[1, 1] == 0
    assert required_agents(10, 300, 900, 0.8, 20).shape == ()
    sl = service_level(np.array([1.0, 2.0, 3.0]), np.array([[4], [5]]), 300.0, 20.0)
    assert sl.shape == (2, 3)


def test_zero_volume_needs_zero_agents() -> None:
    n = required_agents([0.0, 0.0, 5.0], 300.0, 1800.0, 0.8, 20, max_occupancy=0.85, patience_s=60)
    assert list(n[:2]) == [0, 0] and n[2] >= 1
    assert float(service_level(0.0, 0, 300, 20)) == 1.0


def test_unstable_queue() -> None:
    assert float(erlang_c(5.0, 5)) == 1.0
    assert float(service_level(5.0, 4, 300, 20)) == 0.0
    assert np.isinf(asa(5.0, 5, 300))


# --------------------------------------------------------------------------- other targets
def test_occupancy_and_asa_targets_are_met_minimally() -> None:
    vol = np.linspace(1, 400, 60)
    a = offered_load(vol, 240, 1800)
    n = required_agents(vol, 240, 1800, 0.8, 20, max_occupancy=0.85, max_asa_s=15)
    assert np.all(a / n <= 0.85 + 1e-12)
    assert np.all(asa(a, n, 240) <= 15)
    assert np.all(service_level(a, n, 240, 20) >= 0.8)
    prev = np.maximum(n - 1, 0)
    fails = (
        (a / np.maximum(prev, 1e-9) > 0.85)
        | (asa(a, prev, 240) > 15)
        | (service_level(a, prev, 240, 20) < 0.8)
        | (prev <= a)
    )
    assert np.all(fails), "one agent fewer must miss a target"


def test_asa_only_target() -> None:
    n = required_agents(200, 300, 1800, None, 0, max_asa_s=30)
    a = offered_load(200, 300, 1800)
    assert float(asa(a, n, 300)) <= 30 < float(asa(a, n - 1, 300))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"volume": -1.0}, "volume"),
        ({"volume": np.array([1.0, np.nan])}, "volume"),
        ({"aht_s": 0.0}, "aht_s"),
        ({"aht_s": -5.0}, "aht_s"),
        ({"interval_s": 0.0}, "interval_s"),
        ({"sl_target": 0.0}, "sl_target"),
        ({"sl_target": 1.2}, "sl_target"),
        ({"sl_target": float("nan")}, "sl_target"),
        ({"answer_s": -1.0}, "answer_s"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"max_occupancy": 1.01}, "max_occupancy"),
        ({"patience_s": 0.0}, "patience_s"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1.5}, "concurrency"),
        ({"volume": "many"}, "volume"),
        ({"volume": np.inf}, "volume"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = dict(
        volume=10.0, aht_s=300.0, interval_s=900.0, sl_target=0.8, answer_s=20.0
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{name}:"):
        required_agents(**args)  # type: ignore[arg-type]


def test_bad_agents_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"^agents:.*whole"):
        service_level(5.0, 7.5, 300, 20)
    with pytest.raises(ValueError, match=r"^traffic:"):
        erlang_c(-1.0, 3)
    with pytest.raises(ValueError, match="at index 2"):
        erlang_c([1.0, 2.0, -3.0], 5)


# --------------------------------------------------------------------------- properties
traffic_st = st.floats(min_value=0.01, max_value=400.0, allow_nan=False)
aht_st = st.floats(min_value=10.0, max_value=1800.0, allow_nan=False)
answer_st = st.floats(min_value=0.0, max_value=120.0, allow_nan=False)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(a=traffic_st, aht=aht_st, answer=answer_st, extra=st.integers(1, 40))
def test_service_level_rises_with_agents(a: float, aht: float, answer: float, extra: int) -> None:
    n = np.arange(int(a) + 1, int(a) + 1 + extra)
    sl = service_level(a, n, aht, answer)
    assert np.all((sl >= 0) & (sl <= 1))
    assert np.all(np.diff(sl) >= -1e-12)
    assert np.all(service_level(a, np.arange(0, int(a) + 1), aht, answer) == 0.0)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    vol=st.lists(
        st.floats(min_value=0.0, max_value=3000.0, allow_nan=False), min_size=1, max_size=20
    ),
    aht=aht_st,
    target=st.floats(min_value=0.05, max_value=0.99),
    answer=answer_st,
    occ=st.floats(min_value=0.5, max_value=1.0),
)
def test_required_agents_never_falls_when_volume_rises(
    vol: list[float], aht: float, target: float, answer: float, occ: float
) -> None:
    v = np.sort(np.asarray(vol))
    n = required_agents(v, aht, 1800.0, target, answer, max_occupancy=occ)
    assert np.all(np.diff(n) >= 0)
    a = offered_load(v, aht, 1800.0)
    live = v > 0
    assert np.all(service_level(a[live], n[live], aht, answer) >= target)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=0.1, max_value=300.0),
    extra=st.integers(1, 30),
    aht=aht_st,
    answer=answer_st,
)
def test_erlang_a_with_huge_patience_is_erlang_c(
    a: float, extra: int, aht: float, answer: float
) -> None:
    n = int(a) + extra
    res = erlang_a(a, n, aht, 1e12, answer)
    assert float(res.service_level) == pytest.approx(
        float(service_level(a, n, aht, answer)), abs=1e-7
    )
    assert float(res.wait_probability) == pytest.approx(float(erlang_c(a, n)), abs=1e-7)
    assert float(res.abandonment) < 1e-6
    assert float(res.asa) == pytest.approx(float(asa(a, n, aht)), rel=1e-5, abs=1e-7)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=0.1, max_value=200.0),
    n=st.integers(1, 250),
    patience=st.floats(min_value=1.0, max_value=3600.0),
    aht=aht_st,
    answer=answer_st,
)
def test_erlang_a_is_a_probability_model(
    a: float, n: int, patience: float, aht: float, answer: float
) -> None:
    r = erlang_a(a, [n, n + 1], aht, patience, answer)
    for field in (r.service_level, r.abandonment, r.wait_probability, r.occupancy):
        assert np.all((field >= -1e-12) & (field <= 1 + 1e-12))
    assert r.service_level[1] >= r.service_level[0] - 1e-9
    assert r.abandonment[1] <= r.abandonment[0] + 1e-9
    assert np.all(r.service_level <= 1 - r.abandonment + 1e-9)
    assert np.allclose(r.mean_wait_s, r.abandonment * patience)


# --------------------------------------------------------------------------- Erlang A exact
def _erlang_a_by_states(a: float, n: int, aht: float, patience: float, answer: float) -> dict:
    """Erlang A from the birth-death chain and the hypoexponential wait, in 120-digit maths.

    Independent of the quadrature in forecast.erlang: explicit state probabilities, and for a
    caller finding j ahead the chance of being answered within T before hanging up, from the
    hypoexponential density of the time to reach an agent.
    """
    mp.mp.dps = 120
    A, h, p, T = (mp.mpf(x) for x in (a, aht, patience, answer))
    mu, th = 1 / h, 1 / p
    lam = A * mu
    low = [mp.mpf(1)]
    for k in range(1, n + 1):
        low.append(low[-1] * A / k)
    tail = [low[n]]
    while len(tail) < 60 or tail[-1] > mp.mpf(10) ** -60 * mp.fsum(tail):
        tail.append(tail[-1] * lam / (n * mu + len(tail) * th))
    z = mp.fsum(low[:n]) + mp.fsum(tail)
    sl = mp.fsum(low[:n]) / z
    served_wait = mp.mpf(0)
    for j, t in enumerate(tail):
        rates = [n * mu + i * th for i in range(j + 1)]
        within, mean_w = mp.mpf(0), mp.mpf(0)
        for i, ri in enumerate(rates):
            c = mp.fprod(rk / (rk - ri) for k, rk in enumerate(rates) if k != i)
            within += c * ri * (1 - mp.exp(-(ri + th) * T)) / (ri + th)
            mean_w += c * ri / (ri + th) ** 2
        sl += t / z * within
        served_wait += t / z * mean_w
    pab = th * mp.fsum(j * t for j, t in enumerate(tail)) / z / lam
    return {
        "sl": float(sl),
        "ab": float(pab),
        "pw": float(mp.fsum(tail) / z),
        "asa": float(served_wait / (1 - pab)),
    }


@pytest.mark.parametrize(
    ("a", "n", "aht", "patience", "answer"),
    [
        (5, 6, 300, 60, 20),
        (10, 8, 300, 120, 30),
        (2, 1, 200, 30, 10),
        (20, 25, 180, 600, 20),
        (8, 12, 240, 5, 20),
        (30, 20, 300, 90, 20),
        (0.3, 2, 400, 45, 0),
    ],
)
def test_erlang_a_matches_state_sums(
    a: float, n: int, aht: float, patience: float, answer: float
) -> None:
    ref = _erlang_a_by_states(a, n, aht, patience, answer)
    r = erlang_a(a, n, aht, patience, answer)
    assert float(r.service_level) == pytest.approx(ref["sl"], abs=1e-10)
    assert float(r.abandonment) == pytest.approx(ref["ab"], abs=1e-10)
    assert float(r.wait_probability) == pytest.approx(ref["pw"], abs=1e-10)
    assert float(r.asa) == pytest.approx(ref["asa"], rel=1e-8)


# --------------------------------------------------------------------------- simulation
@pytest.mark.parametrize(
    ("a", "agents", "aht", "answer", "patience", "k", "seed"),
    [
        (10.0, 12, 180.0, 20.0, None, 1, 11),
        (10.0, 11, 180.0, 20.0, 60.0, 1, 12),
        (30.0, 28, 300.0, 30.0, 120.0, 1, 13),
        (4.0, 5, 240.0, 15.0, 20.0, 1, 14),
        (16.0, 6, 240.0, 20.0, None, 3, 15),
        (16.0, 7, 240.0, 20.0, 90.0, 3, 16),
        (40.0, 10, 600.0, 30.0, 300.0, 5, 17),
    ],
)
def test_model_agrees_with_simulation(
    a: float, agents: int, aht: float, answer: float, patience: float | None, k: int, seed: int
) -> None:
    """Erlang C / Erlang A on agents x concurrency servers vs a seeded agent-level simulation
    (chat: each agent holds up to k chats, contacts go to the least-loaded agent)."""
    sim = simulate(a, agents, aht, answer, patience, concurrency=k, customers=200_000, seed=seed)
    servers = agents * k
    if patience is None:
        model = {
            "sl": float(service_level(a, servers, aht, answer)),
            "ab": 0.0,
            "pw": float(erlang_c(a, servers)),
            "asa": None,
        }
    else:
        r = erlang_a(a, servers, aht, patience, answer)
        model = {
            "sl": float(r.service_level),
            "ab": float(r.abandonment),
            "pw": float(r.wait_probability),
            "asa": float(r.asa),
        }
    assert sim.service_level.covers(model["sl"], slack=0.003), (sim.service_level, model)
    assert sim.wait_probability.covers(model["pw"], slack=0.003), (sim.wait_probability, model)
    assert sim.abandonment.covers(model["ab"], slack=0.002), (sim.abandonment, model)
    if model["asa"] is not None:
        assert sim.asa.covers(model["asa"], slack=0.02 * model["asa"]), (sim.asa, model)


def test_chat_required_agents_uses_servers() -> None:
    vol, aht, ivl = np.array([50.0, 120.0, 400.0]), 600.0, 1800.0
    servers = required_agents(vol, aht, ivl, 0.8, 30)
    for k in (2, 3, 4):
        agents = required_agents(vol, aht, ivl, 0.8, 30, concurrency=k)
        np.testing.assert_array_equal(agents, -(-servers // k))
        a = offered_load(vol, aht, ivl)
        assert np.all(service_level(a, agents * k, aht, 30) >= 0.8)
        assert np.all(service_level(a, (agents - 1) * k, aht, 30) < 0.8)


def test_erlang_a_required_agents_are_minimal() -> None:
    vol = np.array([5.0, 40.0, 120.0, 300.0])
    n = required_agents(vol, 240, 1800, 0.8, 20, patience_s=90)
    a = offered_load(vol, 240, 1800)
    assert np.all(erlang_a(a, n, 240, 90, 20).service_level >= 0.8)
    assert np.all(erlang_a(a, n - 1, 240, 90, 20).service_level < 0.8)
    # with 90 s patience, callers who hang up relieve the queue: no more agents than Erlang C
    assert np.all(n <= required_agents(vol, 240, 1800, 0.8, 20))
