"""Deferred work (messages, e-mail, back office): staffing from deadlines, not from Erlang.

Work that arrives may be handled any time before its deadline, so the requirement is a
cumulative-capacity problem. Per interval ``t`` (length ``interval_s``):

* ``arrived[t]``: work (agent-seconds = volume x handle time) that has arrived by the end of t;
* ``due[t]``: work that must be finished by the end of t.

Items are worked earliest deadline first; work arriving in an interval may be worked in it. A
plan of per-interval capacity ``c[t]`` (productive agents) must finish every item by its deadline
and cannot work ahead of arrivals. Among such plans we return a *level-loaded* one: the cumulative
completion curve is the taut string between the cumulative work due and the cumulative work
arrived (in staffed time). When deadlines follow arrival order (no overnight rule) this is exact:
the feasible plan that minimises every convex function of the per-interval capacity at once, so
its peak is the least possible peak. The overnight rule makes night items due later than some
items arriving after them; then the plan is checked by an earliest-deadline-first run and, if it
would miss a deadline, replaced by a per-class combination that meets them all (see
``deferred_requirement``).

Deadline rules (documented in ``docs/staffing.md``):

* Work arriving in interval i is due by the end of interval ``i + L`` with
  ``L = max(0, deadline_s // interval_s - 1)`` (the deadline counted from the start of the
  arrival interval: conservative for items that arrive later in it).
* When nobody may work the channel at some point between arrival and that deadline (``staffed``
  is False there) and an ``overnight_deadline_s`` is given (seconds after local midnight, e.g.
  36000 for 10:00), the item is due at the next such time of day after its arrival interval
  ends; if that falls in unstaffed time, at the end of the first staffed interval after it.
* Work due after the end of the horizon is not required within it: it is carried over and
  reported as backlog. The backlog at the start of the horizon is taken as zero.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecast.erlang import FloatArray, IntArray, checked_array

__all__ = [
    "DeferredInfeasibleError",
    "DeferredPlan",
    "backlog",
    "deferred_due",
    "deferred_requirement",
    "on_time_share",
]

_EPS = 1e-9


class DeferredInfeasibleError(ValueError):
    """No capacity plan can meet the deadlines (e.g. work due while nobody may work)."""


class DeferredPlan(NamedTuple):
    """Level-loaded requirement for a deferred channel; every field has one value per interval."""

    agents: FloatArray
    """Level-loaded productive agents (fractional): the least peak capacity that meets deadlines."""
    required: IntArray
    """Whole productive agents per interval (``ceil(agents)``); meets every deadline."""
    due_index: IntArray
    """Interval by whose end the work arriving in each interval must be finished (-1: after the
    horizon, carried over)."""
    backlog_s: FloatArray
    """Work (agent-seconds) arrived but not finished at the end of each interval when ``required``
    agents work items in arrival order."""
    backlog_items: FloatArray
    """The same backlog counted in items."""
    carried_over_s: float
    """Work left at the end of the horizon whose deadline falls after it."""


def deferred_due(
    n_intervals: int,
    interval_s: float,
    deadline_s: float,
    staffed: ArrayLike | None = None,
    overnight_deadline_s: float | None = None,
    start_time_of_day_s: float = 0.0,
) -> IntArray:
    """Due interval (index) of the work arriving in each interval; -1 when due after the horizon.

    ``start_time_of_day_s`` is the local time of day at which interval 0 starts.
    """
    if n_intervals < 0:
        raise ValueError("n_intervals: must be >= 0")
    checked_array("interval_s", interval_s, low=0.0, low_inclusive=False)
    checked_array("deadline_s", deadline_s, low=0.0, low_inclusive=False)
    if overnight_deadline_s is not None:
        checked_array(
            "overnight_deadline_s",
            overnight_deadline_s,
            low=0.0,
            high=86400.0,
            high_inclusive=False,
        )
    mask = _staffed_mask(staffed, n_intervals)
    idx = np.arange(n_intervals)
    lag = max(0, int(deadline_s // interval_s) - 1)
    due = idx + lag
    if overnight_deadline_s is not None and not mask.all():
        # unstaffed somewhere in [i, i + lag]: a windowed count of unstaffed intervals
        unstaffed = np.concatenate([[0], np.cumsum(~mask)])
        hi = np.minimum(idx + lag + 1, n_intervals)
        broken = (unstaffed[hi] - unstaffed[idx]) > 0
        # next time of day `overnight` at or after the end of the arrival interval
        end_s = start_time_of_day_s + (idx + 1) * interval_s
        day = np.ceil((end_s - overnight_deadline_s) / 86400.0 - _EPS)
        deadline_at = day * 86400.0 + overnight_deadline_s - start_time_of_day_s
        night_due = np.floor(deadline_at / interval_s + _EPS).astype(np.int64) - 1
        night_due = np.maximum(night_due, idx)
        # move a due interval that nobody staffs to the first staffed interval at or after it
        next_staffed = _next_staffed(mask)
        clipped = np.minimum(night_due, n_intervals - 1)
        moved = np.where(night_due < n_intervals, next_staffed[clipped], n_intervals)
        due = np.where(broken, np.maximum(moved, idx), due)
    return np.where(due < n_intervals, due, -1).astype(np.int64)


def _staffed_mask(staffed: ArrayLike | None, n: int) -> NDArray[np.bool_]:
    if staffed is None:
        return np.ones(n, dtype=np.bool_)
    mask = np.asarray(staffed, dtype=np.bool_)
    if mask.shape != (n,):
        raise ValueError(f"staffed: expected {n} values (one per interval), got shape {mask.shape}")
    return mask


def _next_staffed(mask: NDArray[np.bool_]) -> IntArray:
    """For each interval, the first staffed interval at or after it (n if none)."""
    n = mask.size
    out = np.full(n + 1, n, dtype=np.int64)
    for i in range(n - 1, -1, -1):  # one pass; n is a few thousand at most
        out[i] = i if mask[i] else out[i + 1]
    return out[:n]


def _taut_string(x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Shortest path from (0, 0) through the corridor lo[j] <= y(x[j]) <= hi[j], ending at lo[-1].

    ``x`` is strictly increasing and positive. Returns y at every x. The funnel algorithm: from an
    anchor, widen the cone of feasible slopes point by point; when the cone empties, the string
    bends at the vertex that closed it, which becomes the next anchor.
    """
    m = x.size
    y = np.empty(m)
    hi = hi.copy()
    hi[-1] = lo[-1]
    ax, ay, a = 0.0, 0.0, -1
    while a < m - 1:
        smin, smax = -np.inf, np.inf
        kmin = kmax = a + 1
        j = a + 1
        bend = None
        while j < m:
            dx = x[j] - ax
            s_lo = (lo[j] - ay) / dx
            s_hi = (hi[j] - ay) / dx
            if s_lo > smax + 1e-15 * max(1.0, abs(smax)):
                bend = (kmax, smax)
                break
            if s_hi < smin - 1e-15 * max(1.0, abs(smin)):
                bend = (kmin, smin)
                break
            if s_lo >= smin:
                smin, kmin = s_lo, j
            if s_hi <= smax:
                smax, kmax = s_hi, j
            j += 1
        if bend is None:  # the last point is reachable in a straight line
            k, slope = m - 1, (lo[-1] - ay) / (x[-1] - ax)
        else:
            k, slope = bend
        y[a + 1 : k + 1] = ay + slope * (x[a + 1 : k + 1] - ax)
        ax, ay, a = x[k], y[k], k
    return y


def _level(
    work: FloatArray, due: IntArray, mask: NDArray[np.bool_], interval_s: float
) -> FloatArray:
    """Level-loaded productive agents for one class of work whose deadlines are in arrival order.

    Completion must stay between the cumulative work due and the cumulative work arrived; the
    taut string between them (in staffed time) is the flattest such curve.
    """
    n = work.size
    agents = np.zeros(n)
    arrived = np.cumsum(np.where(due >= 0, work, 0.0))  # carried-over work is not required
    due_work = np.zeros(n)
    np.add.at(due_work, due[due >= 0], work[due >= 0])
    must = np.cumsum(due_work)
    if n == 0 or must[-1] <= 0:
        return agents
    # collapse unstaffed intervals: completion cannot move while nobody works
    xs: list[float] = []
    los: list[float] = []
    his: list[float] = []
    owner: list[int] = []
    x, lo_cur, hi_cur = 0.0, 0.0, 0.0
    for t in range(n):
        if mask[t]:
            x += interval_s
            lo_cur, hi_cur = must[t], arrived[t]
            xs.append(x)
            los.append(lo_cur)
            his.append(hi_cur)
            owner.append(t)
        else:
            lo_cur = max(lo_cur, must[t])
            if lo_cur > hi_cur * (1 + _EPS) + _EPS:
                first = int(np.flatnonzero((due == t) & (work > 0))[0])
                raise DeferredInfeasibleError(
                    f"work arriving in interval {first} is due by the end of interval {t}, but "
                    "nobody may work the channel in between"
                )
            if los:
                los[-1] = lo_cur
    ys = _taut_string(np.asarray(xs), np.asarray(los), np.asarray(his))
    agents[np.asarray(owner)] = np.maximum(np.diff(np.concatenate([[0.0], ys])), 0.0) / interval_s
    return agents


class _EdfRun(NamedTuple):
    backlog_s: FloatArray
    backlog_items: FloatArray
    on_time: FloatArray


def _edf(volume: FloatArray, aht: FloatArray, due: IntArray, capacity_s: FloatArray) -> _EdfRun:
    """Work items earliest deadline first (fluid within an interval) with this capacity.

    Work arriving in an interval may be worked in it. Returns the work and items waiting at the
    end of each interval and, per arrival interval, the share of its work done by its deadline
    (NaN where nothing arrives or the deadline is after the horizon).
    """
    n = volume.size
    work = volume * aht
    remaining = work.copy()
    heap: list[tuple[int, int]] = []  # (due, arrival); carried-over work sorts last
    backlog_s = np.zeros(n)
    backlog_items = np.zeros(n)
    on_time = np.full(n, np.nan)
    left_s = 0.0
    left_items = 0.0
    last = n  # "after the horizon"
    order = np.argsort(due, kind="stable")  # arrivals grouped by due interval
    bounds = np.searchsorted(due[order], np.arange(n + 1), side="left")
    for t in range(n):
        if work[t] > 0:
            heapq.heappush(heap, (int(due[t]) if due[t] >= 0 else last, t))
            left_s += work[t]
            left_items += volume[t]
        cap = float(capacity_s[t])
        while cap > 0 and heap:
            j = heap[0][1]
            used = min(cap, remaining[j])
            remaining[j] -= used
            cap -= used
            left_s -= used
            left_items -= used / aht[j]
            if remaining[j] <= work[j] * 1e-12:
                left_items -= remaining[j] / aht[j]
                left_s -= remaining[j]
                remaining[j] = 0.0
                heapq.heappop(heap)
        backlog_s[t] = max(left_s, 0.0)
        backlog_items[t] = max(left_items, 0.0)
        for j in order[bounds[t] : bounds[t + 1]]:
            if work[j] > 0:
                on_time[j] = 1.0 - remaining[j] / work[j]
    return _EdfRun(backlog_s, backlog_items, on_time)


def deferred_requirement(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    deadline_s: float,
    staffed: ArrayLike | None = None,
    overnight_deadline_s: float | None = None,
    start_time_of_day_s: float = 0.0,
) -> DeferredPlan:
    """Minimal level-loaded productive agents per interval that meet every deadline.

    ``volume`` and ``aht_s`` are per interval (arrivals and their handle time); ``staffed`` marks
    the intervals in which the channel may be worked (default: all). Items are worked earliest
    deadline first. Raises ``DeferredInfeasibleError`` when work falls due while nobody could
    have worked on it.

    Without the overnight rule deadlines follow arrival order and the taut string of the
    cumulative bounds is exact (the least peak, and the flattest plan). With it, overnight items
    are due later than some items arriving after them; the joint taut string is checked by an
    earliest-deadline-first run, and where it would miss a deadline the plan falls back to the
    pointwise maximum of the joint and per-class plans, then to their sum (always feasible).
    """
    vol = np.atleast_1d(checked_array("volume", volume, low=0.0))
    if vol.ndim != 1:
        raise ValueError("volume: expected one value per interval (a 1-d array)")
    aht = np.broadcast_to(
        np.atleast_1d(checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)), vol.shape
    ).astype(np.float64)
    n = vol.size
    mask = _staffed_mask(staffed, n)
    due = deferred_due(n, interval_s, deadline_s, mask, overnight_deadline_s, start_time_of_day_s)
    work = vol * aht
    agents = _level(work, due, mask, interval_s)
    if n and not _meets(vol, aht, due, agents * interval_s):
        lag = max(0, int(deadline_s // interval_s) - 1)
        regular = due == np.arange(n) + lag
        per_class = [
            _level(np.where(cls, work, 0.0), due, mask, interval_s)
            for cls in (regular, ~regular & (due >= 0))
        ]
        agents = np.maximum(agents, np.maximum(*per_class))
        if not _meets(vol, aht, due, agents * interval_s):
            agents = per_class[0] + per_class[1]
    required = np.ceil(agents - _EPS).astype(np.int64)
    run = _edf(vol, aht, due, (required * interval_s).astype(np.float64))
    due_total = float(work[due >= 0].sum())
    return DeferredPlan(
        agents=agents,
        required=required,
        due_index=due,
        backlog_s=run.backlog_s,
        backlog_items=run.backlog_items,
        carried_over_s=float(work.sum()) - due_total,
    )


def _meets(vol: FloatArray, aht: FloatArray, due: IntArray, capacity_s: FloatArray) -> bool:
    on_time = _edf(vol, aht, due, capacity_s).on_time
    return bool(np.all(on_time[np.isfinite(on_time)] >= 1.0 - 1e-9))


def backlog(
    volume: FloatArray, aht_s: FloatArray, interval_s: float, agents: ArrayLike, due: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Work (agent-seconds) and items waiting at the end of each interval when ``agents``
    productive agents per interval work the items earliest deadline first."""
    run = _edf(
        volume,
        np.broadcast_to(aht_s, volume.shape).astype(np.float64),
        due,
        np.asarray(agents, dtype=np.float64) * interval_s,
    )
    return run.backlog_s, run.backlog_items


def on_time_share(
    volume: FloatArray, aht_s: FloatArray, interval_s: float, agents: ArrayLike, due: IntArray
) -> FloatArray:
    """Share of each interval's items finished by their deadline when ``agents`` work them
    earliest deadline first (NaN where nothing arrives or the deadline is after the horizon)."""
    return _edf(
        volume,
        np.broadcast_to(aht_s, volume.shape).astype(np.float64),
        due,
        np.asarray(agents, dtype=np.float64) * interval_s,
    ).on_time
