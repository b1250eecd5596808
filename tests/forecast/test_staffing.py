"""Staffing plans (forecast + targets -> agents) and projections (agents -> service)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from common.enums import ChannelKind
from forecast.erlang import erlang_a, offered_load, required_agents, service_level
from forecast.schema import IntervalForecast, StaffingTargets
from forecast.staffing import (
    after_shrinkage,
    plan_arrays,
    plan_channel,
    productive_of,
    project,
    project_arrays,
)


def _forecast(volumes: list[float], aht: float = 300.0, minutes: int = 30) -> IntervalForecast:
    start = datetime(2026, 12, 7, 8, 0)
    return IntervalForecast(
        interval_start=[start + timedelta(minutes=minutes * i) for i in range(len(volumes))],
        volume=volumes,
        aht_seconds=[aht if v > 0 else 0.0 for v in volumes],
        interval_minutes=minutes,
    )


def test_voice_plan_shows_every_intermediate() -> None:
    t = StaffingTargets(service_level=0.8, answer_seconds=20, max_occupancy=0.85, shrinkage=0.3)
    p = plan_arrays([120.0, 0.0, 400.0], [240.0, 0.0, 240.0], 1800.0, t)
    assert p.traffic_erlangs[0] == pytest.approx(16.0)
    assert p.agents_erlang[0] == int(required_agents(120, 240, 1800, 0.8, 20))
    assert p.agents_after_occupancy[0] >= p.agents_erlang[0]
    assert 16.0 / p.agents_after_occupancy[0] <= 0.85
    assert p.agents_required[0] == int(np.ceil(p.agents_after_occupancy[0] / 0.7 - 1e-9))
    assert p.service_level[0] >= 0.8 and p.occupancy[0] <= 0.85
    assert list(p.agents_required[[1]]) == [0] and np.isnan(p.service_level[1])


def test_occupancy_cap_binds_at_high_volume() -> None:
    t = StaffingTargets(service_level=0.8, answer_seconds=20, max_occupancy=0.85)
    p = plan_arrays([2000.0], [300.0], 1800.0, t)
    assert p.agents_after_occupancy[0] > p.agents_erlang[0]
    assert p.agents_after_occupancy[0] == int(np.ceil(2000 * 300 / 1800 / 0.85))


def test_shrinkage_round_trip() -> None:
    for s in (0.0, 0.1, 0.3, 0.35, 0.5):
        n = np.arange(0, 200)
        sched = after_shrinkage(n, s)
        assert np.all(productive_of(sched, s) >= n)
        assert np.all(productive_of(sched - 1, s) < n) or s == 0.0


def test_chat_plan_divides_servers_by_concurrency() -> None:
    t = StaffingTargets(kind=ChannelKind.chat, concurrency=3, service_level=0.9, answer_seconds=5)
    p = plan_arrays([120.0], [600.0], 1800.0, t)
    servers = int(required_agents(120, 600, 1800, 0.9, 5))
    assert p.agents_erlang[0] == -(-servers // 3)
    a = float(offered_load(120, 600, 1800))
    assert p.occupancy[0] == pytest.approx(a / (3 * p.agents_after_occupancy[0]))


def test_erlang_a_plan_reports_abandonment() -> None:
    t = StaffingTargets(service_level=0.8, answer_seconds=20, patience_seconds=90)
    p = plan_arrays([120.0], [240.0], 1800.0, t)
    r = erlang_a(16.0, p.agents_after_occupancy[0], 240.0, 90.0, 20.0)
    assert p.abandonment[0] == pytest.approx(float(r.abandonment))
    assert p.service_level[0] >= 0.8


def test_projection_matches_plan() -> None:
    t = StaffingTargets(service_level=0.8, answer_seconds=20, shrinkage=0.25)
    fc = _forecast([50.0, 120.0, 0.0, 300.0])
    plan = plan_channel(fc, t, "phone")
    proj = project(fc, t, plan.agents_required, "phone")
    assert proj.productive_agents[0] >= plan.agents_after_occupancy[0]
    for sl in proj.service_level:
        assert sl is None or sl >= 0.8
    assert proj.service_level[2] is None
    assert proj.overall_service_level is not None and proj.overall_service_level >= 0.8
    # fewer agents than needed: service falls, unstable queue gives 0 and no ASA
    short = project(fc, t, [1, 1, 0, 1], "phone")
    assert short.service_level[1] == 0.0 and short.asa_seconds[1] is None
    a = float(offered_load(300, 300, 1800))
    raw = project_arrays([300.0], [300.0], 1800.0, [60], t, apply_shrinkage=False)
    assert raw.service_level[0] == pytest.approx(float(service_level(a, 60, 300, 20)))


def test_projection_length_must_match() -> None:
    t = StaffingTargets()
    with pytest.raises(ValueError, match="agents: expected 2 values"):
        project(_forecast([1.0, 2.0]), t, [1, 2, 3])


def test_deferred_plan_and_projection() -> None:
    t = StaffingTargets(
        kind=ChannelKind.deferred,
        deadline_minutes=60,
        overnight_deadline=time(10, 0),
        service_level=None,
        shrinkage=0.2,
    )
    n = 96
    start = datetime(2026, 12, 7)
    fc = IntervalForecast(
        interval_start=[start + timedelta(minutes=15 * i) for i in range(n)],
        volume=[10.0] * n,
        aht_seconds=[180.0] * n,
        interval_minutes=15,
    )
    staffed = [7 * 4 <= i < 22 * 4 for i in range(n)]
    plan = plan_channel(fc, t, "messages", staffed=staffed)
    assert plan.kind is ChannelKind.deferred
    assert all(r == 0 for r, s in zip(plan.agents_required, staffed, strict=True) if not s)
    assert all(sl is None or sl >= 1 - 1e-9 for sl in plan.service_level)
    proj = project(fc, t, plan.agents_required, "messages", staffed=staffed)
    assert proj.overall_service_level == pytest.approx(1.0)
    none = project(fc, t, [0] * n, "messages", staffed=staffed)
    assert none.overall_service_level == pytest.approx(0.0)
    assert none.backlog_items[-1] == pytest.approx(10.0 * n)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"service_level": 0.0}, "service_level"),
        ({"service_level": 1.5}, "service_level"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"concurrency": 3}, "concurrency: applies to chat"),
        ({"kind": "deferred"}, "deadline_minutes: required"),
        ({"deadline_minutes": 60}, "apply to deferred channels only"),
        ({"service_level": None}, "needs a service level or max_asa_seconds"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_targets_reject_bad_values(fields: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        StaffingTargets(**fields)  # type: ignore[arg-type]


def test_forecast_rejects_bad_rows() -> None:
    start = datetime(2026, 12, 7)
    with pytest.raises(ValidationError, match=r"volume\[1\]"):
        IntervalForecast(
            interval_start=[start, start],
            volume=[1.0, -1.0],
            aht_seconds=[100.0, 100.0],
            interval_minutes=15,
        )
    with pytest.raises(ValidationError, match=r"aht_seconds\[0\]"):
        IntervalForecast(
            interval_start=[start], volume=[1.0], aht_seconds=[0.0], interval_minutes=15
        )
    with pytest.raises(ValidationError, match="same length"):
        IntervalForecast(
            interval_start=[start], volume=[1.0, 2.0], aht_seconds=[1.0], interval_minutes=15
        )


def test_plan_rejects_missing_handle_time() -> None:
    with pytest.raises(ValueError, match="aht_s: must be > 0 where volume > 0"):
        plan_arrays([5.0], [0.0], 900.0, StaffingTargets())
