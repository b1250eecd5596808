"""Deferred work: deadlines, overnight backlog, level loading, infeasibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.deferred import (
    DeferredInfeasibleError,
    backlog,
    deferred_due,
    deferred_requirement,
    on_time_share,
)

DAY = 96  # 15-min intervals per day
IVL = 900.0


def _completed(work: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Cumulative work done (any order): capacity used while work is waiting."""
    done, level, arrived = [], 0.0, np.cumsum(work)
    for t in range(work.size):
        level = min(arrived[t], level + agents[t] * IVL)
        done.append(level)
    return np.asarray(done)


def _edf_on_time(vol: np.ndarray, aht: float, due: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Independent check: a plain earliest-deadline-first run, item batch by item batch."""
    work = vol * aht
    left = work.copy()
    share = np.full(vol.size, np.nan)
    for t in range(vol.size):
        cap = agents[t] * IVL
        for j in sorted(
            (j for j in range(t + 1) if left[j] > 0),
            key=lambda j: (due[j] if due[j] >= 0 else 10**9, j),
        ):
            used = min(cap, left[j])
            left[j] -= used
            cap -= used
        for j in range(t + 1):
            if due[j] == t and work[j] > 0:
                share[j] = 1 - left[j] / work[j]
    return share


def _must(work: np.ndarray, due: np.ndarray) -> np.ndarray:
    m = np.zeros(work.size)
    np.add.at(m, due[due >= 0], work[due >= 0])
    return np.cumsum(m)


def _peak_lower_bound(work: np.ndarray, due: np.ndarray, staffed: np.ndarray) -> float:
    """Brute force: the densest window [s, e] of work released in it and due in it."""
    best = 0.0
    n = work.size
    for s in range(n):
        for e in range(s, n):
            inside = (np.arange(n) >= s) & (due >= 0) & (due <= e)
            cap = staffed[s : e + 1].sum() * IVL
            w = work[inside].sum()
            if w > 0:
                best = max(best, np.inf if cap == 0 else w / cap)
    return best


def test_constant_arrivals_staffed_all_day() -> None:
    vol = np.full(DAY, 12.0)  # 12 items x 300 s per 15 min = 4 agents of work
    plan = deferred_requirement(vol, 300.0, IVL, 3600.0)
    # the last three intervals' work is due after the horizon (carried over), so the level is
    # flat at the work due within the horizon spread over the whole day
    assert np.allclose(plan.agents, 4.0 * (DAY - 3) / DAY)
    assert plan.required.max() == 4
    assert plan.backlog_items.max() <= 12.0 + 1e-9


def test_due_index_rules() -> None:
    due = deferred_due(8, IVL, 3600.0)
    assert list(due) == [3, 4, 5, 6, 7, -1, -1, -1]
    assert list(deferred_due(3, IVL, 600.0)) == [0, 1, 2]  # shorter than an interval


def test_overnight_backlog_cleared_by_ten() -> None:
    tod = (np.arange(7 * DAY) % DAY) / 4.0
    staffed = (tod >= 7) & (tod < 22)
    vol = np.where(staffed, 20.0, 4.0)
    plan = deferred_requirement(vol, 240.0, IVL, 3600.0, staffed, 10 * 3600.0)
    assert np.all(plan.required[~staffed] == 0)
    ten = np.flatnonzero(np.isclose(tod, 9.75))  # the interval ending at 10:00
    work = vol * 240.0
    done = _completed(work, plan.required.astype(float))
    # everything that arrived before 07:00 on each day is done by 10:00
    for day_end in ten:
        arrived_before_open = work[: day_end - 11].sum()
        assert done[day_end] >= arrived_before_open - 1e-6
    # items arriving at 22:00 are due at 10:00 the next day
    due = plan.due_index
    assert due[88] == DAY + 39 and due[0] == 39
    share = on_time_share(vol, np.full(vol.size, 240.0), IVL, plan.required, due)
    assert np.all(share[due >= 0] >= 1 - 1e-9)
    np.testing.assert_allclose(
        share, _edf_on_time(vol, 240.0, due, plan.required.astype(float)), atol=1e-9
    )


def test_burst_behind_an_overnight_backlog_still_meets_its_deadline() -> None:
    """Cumulative bounds alone would spread the overnight backlog evenly to 10:00 and leave a
    08:00 burst (due 09:00) short; the plan must meet every deadline worked earliest first."""
    tod = (np.arange(DAY) % DAY) / 4.0
    staffed = (tod >= 7) & (tod < 22)
    vol = np.where(staffed, 4.0, 30.0)
    vol[32:36] = 60.0  # 08:00-09:00 burst
    plan = deferred_requirement(vol, 300.0, IVL, 3600.0, staffed, 10 * 3600.0)
    share = _edf_on_time(vol, 300.0, plan.due_index, plan.required.astype(float))
    assert np.all(share[np.isfinite(share)] >= 1 - 1e-9)
    assert plan.required[32:36].min() >= 20  # the burst alone is 20 agents of work


def test_unstaffed_without_overnight_rule_is_infeasible() -> None:
    staffed = np.ones(DAY, dtype=bool)
    staffed[:28] = False
    vol = np.full(DAY, 5.0)
    with pytest.raises(DeferredInfeasibleError, match="nobody may work"):
        deferred_requirement(vol, 300.0, IVL, 3600.0, staffed)


def test_work_due_after_the_horizon_is_carried_over() -> None:
    vol = np.zeros(DAY)
    vol[-2:] = 10.0
    plan = deferred_requirement(vol, 300.0, IVL, 3600.0)
    assert plan.required.sum() == 0
    assert plan.carried_over_s == pytest.approx(6000.0)
    assert plan.backlog_items[-1] == pytest.approx(20.0)


def test_bad_mask_length() -> None:
    with pytest.raises(ValueError, match="staffed: expected 4 values"):
        deferred_requirement(np.ones(4), 300.0, IVL, 3600.0, np.ones(3, dtype=bool))


def test_backlog_counts_items_in_arrival_order() -> None:
    vol = np.array([4.0, 0.0, 0.0])
    aht = np.array([450.0, 1.0, 1.0])  # 1,800 s of work: two intervals of one agent
    due = np.array([1, 2, -1])
    work_left, items_left = backlog(vol, aht, IVL, np.array([1, 1, 1]), due)
    assert list(work_left) == [900.0, 0.0, 0.0]
    assert list(items_left) == [2.0, 0.0, 0.0]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    vol=st.lists(st.integers(0, 30), min_size=4, max_size=24),
    deadline_intervals=st.integers(1, 6),
    closed=st.lists(st.booleans(), min_size=24, max_size=24),
)
def test_plan_meets_deadlines_with_the_least_peak(
    vol: list[int], deadline_intervals: int, closed: list[bool]
) -> None:
    v = np.asarray(vol, dtype=float)
    n = v.size
    staffed = ~np.asarray(closed[:n])
    staffed[0] = True
    try:
        plan = deferred_requirement(v, 300.0, IVL, deadline_intervals * IVL, staffed, 6 * 3600.0)
    except DeferredInfeasibleError:
        return
    work = v * 300.0
    for agents in (plan.required.astype(float), plan.agents):
        share = _edf_on_time(v, 300.0, plan.due_index, agents)
        assert np.all(share[np.isfinite(share)] >= 1 - 1e-6), "a deadline is missed"
        assert np.all(_completed(work, agents) >= _must(work, plan.due_index) - 1e-6)
    assert np.all(plan.agents[~staffed] == 0)
    bound = _peak_lower_bound(work, plan.due_index, staffed)
    assert plan.agents.max() >= bound * (1 - 1e-9) - 1e-9
    if staffed.all():  # deadlines in arrival order: the taut string has the least peak
        assert plan.agents.max() == pytest.approx(bound, rel=1e-9, abs=1e-9)
