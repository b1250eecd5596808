"""Interval forecasts + service targets -> agents to schedule per interval, and the reverse.

``plan_arrays`` / ``plan_channel`` turn volume and handle time into the number of agents to
schedule, showing every intermediate: traffic in Erlangs, agents from the queueing model (Erlang C,
Erlang A with patience, servers = agents x concurrency for chat, deadlines for deferred work),
after the occupancy cap, after shrinkage. ``project_arrays`` / ``project`` do the reverse: the
service level, ASA, occupancy and abandonment that a given number of agents achieves; rosters are
judged by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from forecast.deferred import backlog, deferred_due, deferred_requirement, on_time_share
from forecast.erlang import (
    FloatArray,
    IntArray,
    asa_from_c,
    checked_array,
    erlang_a,
    erlang_b_flat,
    erlang_c_from_b,
    required_agents,
    sl_from_c,
)
from forecast.schema import ChannelKind, ChannelPlan, IntervalForecast, Projection, StaffingTargets

__all__ = [
    "PlanArrays",
    "ProjectionArrays",
    "plan_arrays",
    "plan_channel",
    "project",
    "project_arrays",
]

_EPS = 1e-9


@dataclass(frozen=True)
class PlanArrays:
    """The staffing plan as numpy arrays (one value per interval); NaN where no contacts."""

    traffic_erlangs: FloatArray
    agents_erlang: IntArray
    agents_after_occupancy: IntArray
    agents_required: IntArray
    service_level: FloatArray
    asa_seconds: FloatArray
    occupancy: FloatArray
    abandonment: FloatArray
    backlog_items: FloatArray


@dataclass(frozen=True)
class ProjectionArrays:
    """Projected performance per interval as numpy arrays; NaN where no contacts."""

    productive_agents: IntArray
    service_level: FloatArray
    asa_seconds: FloatArray
    occupancy: FloatArray
    abandonment: FloatArray
    backlog_items: FloatArray


def after_shrinkage(productive: ArrayLike, shrinkage: float) -> IntArray:
    """Agents to schedule so that ``productive`` remain after shrinkage: ceil(n / (1 - s))."""
    n = np.asarray(productive, dtype=np.float64)
    return np.ceil(n / (1.0 - shrinkage) - _EPS).astype(np.int64)


def productive_of(scheduled: ArrayLike, shrinkage: float) -> IntArray:
    """Productive agents among ``scheduled`` after shrinkage: floor(n (1 - s))."""
    n = np.asarray(scheduled, dtype=np.float64)
    return np.floor(n * (1.0 - shrinkage) + _EPS).astype(np.int64)


def _clean(volume: ArrayLike, aht_s: ArrayLike) -> tuple[FloatArray, FloatArray]:
    vol = np.atleast_1d(checked_array("volume", volume, low=0.0))
    aht = np.broadcast_to(np.atleast_1d(checked_array("aht_s", aht_s, low=0.0)), vol.shape).copy()
    bad = (aht <= 0) & (vol > 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"aht_s: must be > 0 where volume > 0, got {aht[i]:g} at index {i}")
    aht[aht <= 0] = 1.0  # no contacts: any positive handle time gives zero load
    return vol, aht


def _queue_performance(
    traffic: FloatArray, servers: FloatArray, aht: FloatArray, targets: StaffingTargets
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Service level, ASA, occupancy (of servers) and abandonment; NaN where no traffic."""
    nan = np.full(traffic.shape, np.nan)
    sl, asa_s, occ, ab = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    live = traffic > 0
    if not live.any():
        return sl, asa_s, occ, ab
    a, n, h = traffic[live], servers[live], aht[live]
    if targets.patience_seconds is None:
        c = erlang_c_from_b(a, n, erlang_b_flat(a, n.astype(np.int64)))
        sl[live] = sl_from_c(c, a, n, h, np.full_like(a, targets.answer_seconds))
        asa_s[live] = asa_from_c(c, a, n, h)
        with np.errstate(divide="ignore", invalid="ignore"):
            occ[live] = np.where(n > 0, np.minimum(1.0, a / n), 1.0)
    else:
        res = erlang_a(a, n, h, targets.patience_seconds, targets.answer_seconds)
        sl[live], asa_s[live], occ[live], ab[live] = (
            res.service_level,
            res.asa,
            res.occupancy,
            res.abandonment,
        )
    return sl, asa_s, occ, ab


def _time_of_day_s(start_time_of_day_s: float) -> float:
    return float(start_time_of_day_s) % 86400.0


def _overnight_s(targets: StaffingTargets) -> float | None:
    t = targets.overnight_deadline
    return None if t is None else t.hour * 3600.0 + t.minute * 60.0 + t.second


def plan_arrays(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    targets: StaffingTargets,
    staffed: Sequence[bool] | None = None,
    start_time_of_day_s: float = 0.0,
) -> PlanArrays:
    """Staffing plan of one channel from per-interval volume and handle time.

    ``staffed`` (deferred channels) marks the intervals in which the channel may be worked;
    ``start_time_of_day_s`` is the local time of day at which the first interval starts (for the
    overnight deadline).
    """
    vol, aht = _clean(volume, aht_s)
    checked_array("interval_s", interval_s, low=0.0, low_inclusive=False)
    k = targets.concurrency
    traffic = vol * aht / interval_s
    if targets.kind is ChannelKind.deferred:
        assert targets.deadline_minutes is not None
        plan = deferred_requirement(
            vol,
            aht,
            interval_s,
            targets.deadline_minutes * 60.0,
            staffed,
            _overnight_s(targets),
            _time_of_day_s(start_time_of_day_s),
        )
        raw = plan.required
        after_occ = np.ceil(plan.agents / targets.max_occupancy - _EPS).astype(np.int64)
        after_occ = np.maximum(after_occ, raw)
        capacity = after_occ * interval_s
        with np.errstate(divide="ignore", invalid="ignore"):
            occ = np.where(
                capacity > 0, np.minimum(1.0, plan.agents * interval_s / capacity), np.nan
            )
        sl = on_time_share(vol, aht, interval_s, after_occ, plan.due_index)
        return PlanArrays(
            traffic_erlangs=traffic,
            agents_erlang=raw,
            agents_after_occupancy=after_occ,
            agents_required=after_shrinkage(after_occ, targets.shrinkage),
            service_level=sl,
            asa_seconds=np.full(vol.shape, np.nan),
            occupancy=occ,
            abandonment=np.full(vol.shape, np.nan),
            backlog_items=backlog(vol, aht, interval_s, after_occ, plan.due_index)[1],
        )
    common = dict(
        volume=vol,
        aht_s=aht,
        interval_s=interval_s,
        sl_target=targets.service_level,
        answer_s=targets.answer_seconds,
        max_asa_s=targets.max_asa_seconds,
        patience_s=targets.patience_seconds,
        concurrency=k,
    )
    raw = required_agents(**common)  # type: ignore[arg-type]
    after_occ = raw
    if targets.max_occupancy < 1.0:
        after_occ = np.maximum(raw, required_agents(**common, max_occupancy=targets.max_occupancy))  # type: ignore[arg-type]
    sl, asa_s, occ, ab = _queue_performance(
        traffic, (after_occ * k).astype(np.float64), aht, targets
    )
    return PlanArrays(
        traffic_erlangs=traffic,
        agents_erlang=raw,
        agents_after_occupancy=after_occ,
        agents_required=after_shrinkage(after_occ, targets.shrinkage),
        service_level=sl,
        asa_seconds=asa_s,
        occupancy=occ,
        abandonment=ab,
        backlog_items=np.full(vol.shape, np.nan),
    )


def project_arrays(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    agents: ArrayLike,
    targets: StaffingTargets,
    apply_shrinkage: bool = True,
    staffed: Sequence[bool] | None = None,
    start_time_of_day_s: float = 0.0,
) -> ProjectionArrays:
    """Service level, ASA, occupancy and abandonment that ``agents`` on duty achieve.

    With ``apply_shrinkage`` the productive agents are ``floor(agents x (1 - shrinkage))``; pass
    False when ``agents`` already counts only agents available for contacts.
    """
    vol, aht = _clean(volume, aht_s)
    n = np.broadcast_to(np.atleast_1d(checked_array("agents", agents, low=0.0)), vol.shape)
    prod = productive_of(n, targets.shrinkage if apply_shrinkage else 0.0)
    if targets.kind is ChannelKind.deferred:
        assert targets.deadline_minutes is not None
        due = deferred_due(
            vol.size,
            interval_s,
            targets.deadline_minutes * 60.0,
            None if staffed is None else np.asarray(staffed, dtype=np.bool_),
            _overnight_s(targets),
            _time_of_day_s(start_time_of_day_s),
        )
        capacity = prod * interval_s
        with np.errstate(divide="ignore", invalid="ignore"):
            occ = np.where(capacity > 0, np.minimum(1.0, vol * aht / capacity), np.nan)
        nan = np.full(vol.shape, np.nan)
        return ProjectionArrays(
            productive_agents=prod,
            service_level=on_time_share(vol, aht, interval_s, prod, due),
            asa_seconds=nan,
            occupancy=occ,
            abandonment=nan.copy(),
            backlog_items=backlog(vol, aht, interval_s, prod, due)[1],
        )
    traffic = vol * aht / interval_s
    sl, asa_s, occ, ab = _queue_performance(
        traffic, (prod * targets.concurrency).astype(np.float64), aht, targets
    )
    return ProjectionArrays(
        productive_agents=prod,
        service_level=sl,
        asa_seconds=asa_s,
        occupancy=occ,
        abandonment=ab,
        backlog_items=np.full(vol.shape, np.nan),
    )


def _opt(values: ArrayLike) -> list[float | None]:
    return [None if not np.isfinite(x) else float(x) for x in np.asarray(values, dtype=np.float64)]


def _start_tod(forecast: IntervalForecast) -> float:
    if not forecast.interval_start:
        return 0.0
    t = forecast.interval_start[0]
    return t.hour * 3600.0 + t.minute * 60.0 + t.second


def plan_channel(
    forecast: IntervalForecast,
    targets: StaffingTargets,
    channel: str = "channel",
    staffed: Sequence[bool] | None = None,
) -> ChannelPlan:
    """Staffing plan of one channel as a typed model (see ``plan_arrays``)."""
    p = plan_arrays(
        forecast.volume,
        forecast.aht_seconds,
        forecast.interval_minutes * 60.0,
        targets,
        staffed,
        _start_tod(forecast),
    )
    return ChannelPlan.model_construct(
        channel=channel,
        kind=targets.kind,
        interval_minutes=forecast.interval_minutes,
        interval_start=list(forecast.interval_start),
        volume=list(forecast.volume),
        aht_seconds=list(forecast.aht_seconds),
        traffic_erlangs=p.traffic_erlangs.tolist(),
        agents_erlang=p.agents_erlang.tolist(),
        agents_after_occupancy=p.agents_after_occupancy.tolist(),
        agents_required=p.agents_required.tolist(),
        service_level=_opt(p.service_level),
        asa_seconds=_opt(p.asa_seconds),
        occupancy=_opt(p.occupancy),
        abandonment=_opt(p.abandonment),
        backlog_items=_opt(p.backlog_items),
    )


def weighted(values: ArrayLike, weights: ArrayLike) -> float | None:
    """Weighted mean over finite values (None when no weight)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(v) & (w > 0)
    total = float(w[ok].sum())
    return None if total <= 0 else float((v[ok] * w[ok]).sum() / total)


def project(
    forecast: IntervalForecast,
    targets: StaffingTargets,
    agents: Sequence[float],
    channel: str = "channel",
    apply_shrinkage: bool = True,
    staffed: Sequence[bool] | None = None,
) -> Projection:
    """Projected performance of ``agents`` on duty per interval, as a typed model."""
    if len(agents) != len(forecast.volume):
        raise ValueError(
            f"agents: expected {len(forecast.volume)} values (one per interval), got {len(agents)}"
        )
    p = project_arrays(
        forecast.volume,
        forecast.aht_seconds,
        forecast.interval_minutes * 60.0,
        agents,
        targets,
        apply_shrinkage,
        staffed,
        _start_tod(forecast),
    )
    return Projection.model_construct(
        channel=channel,
        kind=targets.kind,
        interval_start=list(forecast.interval_start),
        agents=[float(a) for a in agents],
        productive_agents=p.productive_agents.tolist(),
        service_level=_opt(p.service_level),
        asa_seconds=_opt(p.asa_seconds),
        occupancy=_opt(p.occupancy),
        abandonment=_opt(p.abandonment),
        backlog_items=_opt(p.backlog_items),
        overall_service_level=weighted(p.service_level, forecast.volume),
        overall_abandonment=weighted(p.abandonment, forecast.volume),
    )
