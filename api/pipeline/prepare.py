"""Scenario -> staffing plan -> solver problem -> result: the one place a forecast becomes demand.

``prepare_scenario(path)`` loads and checks a scenario, reads each channel's demand (a forecast
file, or a history file forecast with ``forecast/``), computes the staffing requirement per
interval (Erlang C / Erlang A / chat concurrency / deferred deadlines, after the occupancy cap and
shrinkage) and builds the solver's ``RosterProblem``. ``solve_prepared`` runs the solver. Any bad
input raises ``InputError`` with located problems; nothing is solved before everything is valid.

Mapping onto the solver (all times are minutes from the first midnight; one slot per
``interval_minutes``):

* voice/chat ``Channel.required`` = agents to schedule per slot (after occupancy and shrinkage),
  0 where the channel is closed; ``Channel.open`` = the open hours.
* deferred channels: ``Channel.open`` = ``work_hours``; ``deferred`` = two cumulative work classes
  in agent-slots (items due ``deadline_minutes`` after arrival, and items arriving while nobody
  may work, due by ``overnight_deadline``), work = volume x AHT / (slot x (1 - shrinkage) x
  max_occupancy); ``required`` carries the level-loaded plan for reports.
* ``min_staff`` -> ``Channel.min_staff``; ``role_coverage`` -> ``RoleRequirement`` per slot.
* Slots no shift can reach (before the first shift start of the horizon: the night before is not
  rostered) carry no requirement and no hard floors or role cover; the summary says which.
* Leave: dates are whole days (end inclusive) -> ``[start, end + 1 day)`` at midnight; date-times
  are part-day; both are clipped to the horizon (leave entirely outside it is left out).
* Briefings occupy whole slots (a 10-minute briefing in 15-minute slots blocks the first slot).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from api.errors import InputError, Problem
from api.pipeline.demand import load_forecast_csv
from api.pipeline.history import load_history_csv
from api.scenario.loader import load_scenario
from api.scenario.models import (
    ChannelSpec,
    LeaveSpec,
    LoadedScenario,
    Scenario,
    ServiceLevel,
    window_mask,
)
from api.scenario.timewin import DAY, parse_clock, parse_weekdays
from api.scenario.yamlsrc import display_path
from common.enums import ChannelKind, LeaveStatus
from forecast.deferred import DeferredInfeasibleError, deferred_due
from forecast.from_history import aggregate, forecast_from_history
from forecast.history import DEFAULT_QUEUE
from forecast.schema import IntervalForecast, StaffingTargets
from forecast.staffing import PlanArrays, plan_arrays
from solver.prep import prepare as solver_prepare
from solver.schema import (
    Agent,
    BreakRule,
    Channel,
    Contract,
    DeferredWork,
    Leave,
    Pinned,
    RoleRequirement,
    RosterProblem,
    Rules,
    ShiftType,
    Weights,
)

__all__ = [
    "ChannelDemand",
    "DemandFactors",
    "Prepared",
    "build",
    "describe_slots",
    "prepare_scenario",
]


@dataclass(frozen=True)
class ChannelDemand:
    """One channel's demand on the horizon grid and its staffing plan."""

    spec: ChannelSpec
    volume: np.ndarray
    aht_seconds: np.ndarray
    targets: StaffingTargets
    plan: PlanArrays
    open_mask: tuple[bool, ...]
    work_mask: tuple[bool, ...]
    source: str

    @property
    def total_volume(self) -> float:
        return float(self.volume.sum())


@dataclass(frozen=True)
class Prepared:
    """A checked scenario turned into the solver's problem, with what reports need."""

    loaded: LoadedScenario
    problem: RosterProblem
    demand: dict[str, ChannelDemand]
    leave_index: tuple[int, ...]
    """For each leave of the problem, its index in the scenario's leave list."""
    rosterable: tuple[bool, ...]
    notes: tuple[str, ...]
    sha256: str
    ledger: tuple[Any, ...] = ()
    """The fairness ledger's rows carried in from a previous solve
    (``api.pipeline.previous.LedgerRow``; written again to ledger.csv with this horizon's)."""

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario


# --------------------------------------------------------------------------- demand
def _pick(
    series: dict[str, IntervalForecast], ch: ChannelSpec, where: str, what: str
) -> IntervalForecast:
    names = list(series)
    if ch.demand.queue is not None:
        if ch.demand.queue not in series:
            raise InputError.one(
                where, f"no {what} {ch.demand.queue!r} in the file (it has {', '.join(names)})"
            )
        return series[ch.demand.queue]
    if len(series) == 1:
        return next(iter(series.values()))
    if ch.id in series:
        return series[ch.id]
    raise InputError.one(
        where,
        f"the file holds several {what}s ({', '.join(names)}) and none is {ch.id!r}; "
        "say which with demand.queue",
    )


def _series(loaded: LoadedScenario, i: int, ch: ChannelSpec) -> tuple[IntervalForecast, str]:
    s = loaded.scenario
    d = ch.demand
    if d.forecast_file is not None:
        where = loaded.where("channels", i, "demand", "forecast_file")
        per_channel = load_forecast_csv(d.forecast_file, None, fill_gaps=True)
        fc = _pick(per_channel, ch, where, "channel")
        return fc, f"forecast {display_path(d.forecast_file)}"
    assert d.history_file is not None
    where = loaded.where("channels", i, "demand", "history_file")
    queues = load_history_csv(d.history_file, s.horizon.timezone)
    try:
        forecasts = forecast_from_history(
            queues,
            s.horizon.start,
            s.horizon.days,
            None,
            d.method,
            holidays_country=d.holidays,
            holidays_region=d.holidays_region,
            timezone=s.horizon.timezone,
        )
    except ValueError as exc:
        raise InputError.one(where, str(exc)) from None
    fc = (
        _pick(forecasts, ch, where, "queue")
        if DEFAULT_QUEUE not in forecasts
        else next(iter(forecasts.values()))
    )
    return fc, f"history {display_path(d.history_file)} (forecast: {d.method})"


def _on_grid(
    fc: IntervalForecast, s: Scenario, open_mask: Sequence[bool], where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Volume and AHT per slot of the horizon; missing intervals must be closed ones."""
    slot = s.horizon.interval_minutes
    f = fc.interval_minutes
    if slot % f and f % slot:
        raise InputError.one(
            where,
            f"the file has {f}-min intervals; the scenario plans in {slot}-min intervals "
            "(one must be a multiple of the other)",
        )
    fine = min(f, slot)
    n_fine = s.horizon.days * DAY // fine
    origin = datetime.combine(s.horizon.start, time())
    vol = np.full(n_fine, np.nan)
    aht = np.zeros(n_fine)
    per = f // fine
    for start, v, h in zip(fc.interval_start, fc.volume, fc.aht_seconds, strict=True):
        offset = (start - origin) / timedelta(minutes=1)
        if offset % fine:
            raise InputError.one(
                where,
                f"interval {start:%Y-%m-%d %H:%M} is not on the {fine}-minute grid of the horizon",
            )
        k = int(offset // fine)
        for j in range(per):
            if 0 <= k + j < n_fine:
                vol[k + j] = v / per
                aht[k + j] = h
    factor = slot // fine
    missing = np.isnan(vol).reshape(-1, factor).any(axis=1)
    vol = np.nan_to_num(vol, nan=0.0)
    if factor > 1:
        vol, aht = aggregate(vol, aht, factor)
    gaps = missing & np.asarray(open_mask, dtype=bool)
    if gaps.any():
        first = int(np.argmax(gaps))
        covered = (
            f"{fc.interval_start[0]:%Y-%m-%d %H:%M}..{fc.interval_start[-1]:%Y-%m-%d %H:%M}"
            if fc.interval_start
            else "nothing"
        )
        raise InputError.one(
            where,
            f"no demand for {int(gaps.sum())} open interval(s) of the horizon, the first at "
            f"{s.slot_time(first):%a %Y-%m-%d %H:%M} (the file covers {covered}); "
            "closed hours may be left out, open ones not",
        )
    return np.asarray(vol, dtype=float), np.asarray(aht, dtype=float)


def _targets(s: Scenario, ch: ChannelSpec) -> StaffingTargets:
    sl = ch.service_level
    deferred = ch.kind is ChannelKind.deferred
    if sl is None and not deferred:
        sl = ServiceLevel()
    night = None
    if ch.overnight_deadline is not None:
        m = parse_clock(ch.overnight_deadline)
        night = time(m // 60, m % 60)
    return StaffingTargets(
        kind=ch.kind,
        service_level=None if deferred or sl is None else sl.target,
        answer_seconds=20.0 if sl is None else sl.answer_seconds,
        max_occupancy=ch.max_occupancy,
        max_asa_seconds=ch.max_asa_seconds,
        shrinkage=s.shrinkage if ch.shrinkage is None else ch.shrinkage,
        concurrency=ch.concurrency,
        patience_seconds=ch.patience_seconds,
        deadline_minutes=ch.deadline_minutes,
        overnight_deadline=night,
    )


DemandFactors = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per channel, factors per slot on its volume and on its handle time (a re-plan's events)."""


def _demand(
    loaded: LoadedScenario,
    i: int,
    ch: ChannelSpec,
    rosterable: tuple[bool, ...],
    factors: DemandFactors | None = None,
) -> ChannelDemand:
    s = loaded.scenario
    open_mask = window_mask(ch.open, s)
    work_mask = window_mask(ch.work_hours, s) if ch.work_hours is not None else open_mask
    fc, source = _series(loaded, i, ch)
    key = "forecast_file" if ch.demand.forecast_file is not None else "history_file"
    vol, aht = _on_grid(fc, s, open_mask, loaded.where("channels", i, "demand", key))
    vol = vol * ch.demand.volume_scale * np.asarray(open_mask, dtype=float)
    aht = aht * ch.demand.aht_scale
    if factors is not None and ch.id in factors:
        vol_f, aht_f = factors[ch.id]
        vol, aht = vol * vol_f, aht * aht_f
    targets = _targets(s, ch)
    ready = np.asarray(rosterable, dtype=bool)
    staffed = None
    if ch.kind is ChannelKind.deferred:
        staffed = [bool(w and r) for w, r in zip(work_mask, rosterable, strict=True)]
        if ch.overnight_deadline is None:
            vol = np.where(ready, vol, 0.0)
    else:
        vol = np.where(ready, vol, 0.0)
    slot_s = s.horizon.interval_minutes * 60.0
    try:
        plan = plan_arrays(vol, aht, slot_s, targets, staffed, 0.0)
    except DeferredInfeasibleError as exc:
        first = str(exc)
        raise InputError.one(
            loaded.where("channels", i, "work_hours" if ch.work_hours else "deadline_minutes"),
            f"deferred work cannot meet its deadlines ({first}); widen work_hours or set "
            "overnight_deadline",
        ) from None
    except ValueError as exc:
        raise InputError.one(loaded.where("channels", i, "demand"), str(exc)) from None
    return ChannelDemand(
        spec=ch,
        volume=vol,
        aht_seconds=aht,
        targets=targets,
        plan=plan,
        open_mask=open_mask,
        work_mask=work_mask,
        source=source,
    )


def _deferred_work(d: ChannelDemand, s: Scenario, rosterable: Sequence[bool]) -> DeferredWork:
    """Cumulative work classes in agent-slots: regular (deadline after arrival) and overnight."""
    n = s.n_slots
    slot_s = s.horizon.interval_minutes * 60.0
    t = d.targets
    productive = (1.0 - t.shrinkage) * t.max_occupancy
    work = d.volume * d.aht_seconds / slot_s / productive
    staffed = np.asarray(
        [bool(w and r) for w, r in zip(d.work_mask, rosterable, strict=True)], dtype=bool
    )
    assert t.deadline_minutes is not None
    night = None
    if t.overnight_deadline is not None:
        night = t.overnight_deadline.hour * 3600.0 + t.overnight_deadline.minute * 60.0
    due = deferred_due(n, slot_s, t.deadline_minutes * 60.0, staffed, night, 0.0)
    lag = max(0, int(t.deadline_minutes * 60.0 // slot_s) - 1)
    regular = due == np.arange(n) + lag
    arrived_classes: list[tuple[float, ...]] = []
    due_classes: list[tuple[float, ...]] = []
    for mask in (regular, ~regular & (due >= 0)):
        w = np.where(mask, work, 0.0)
        if not w.any():
            continue
        arrived = np.cumsum(w)
        due_w = np.zeros(n)
        np.add.at(due_w, due[mask], w[mask])
        arrived_classes.append(tuple(round(float(x), 6) for x in arrived))
        due_classes.append(tuple(round(float(x), 6) for x in np.minimum(np.cumsum(due_w), arrived)))
    if not arrived_classes:
        arrived_classes, due_classes = [(0.0,) * n], [(0.0,) * n]
    return DeferredWork(arrived=tuple(arrived_classes), due=tuple(due_classes))


# --------------------------------------------------------------------------- structure
def _minutes_ceil(m: int, slot: int) -> int:
    return -(-m // slot) * slot


def _shift_types(s: Scenario) -> tuple[ShiftType, ...]:
    slot = s.horizon.interval_minutes
    out = []
    for t in s.shift_types:
        lo, hi, step = t.length_range
        earliest = parse_clock(t.start.earliest)
        latest = earliest if t.start.latest is None else parse_clock(t.start.latest)
        out.append(
            ShiftType(
                id=t.id,
                start_earliest=earliest,
                start_latest=latest,
                start_step=t.start.step_minutes,
                length_min=lo,
                length_max=hi,
                length_step=step,
                weekdays=t.weekdays,
                briefing_minutes=_minutes_ceil(t.briefing_minutes, slot),
                breaks=tuple(
                    BreakRule(
                        name=b.name,
                        minutes=b.minutes,
                        earliest=b.earliest,
                        latest=b.latest,
                        paid=b.paid,
                        lunch=b.is_lunch,
                    )
                    for b in t.breaks
                ),
            )
        )
    return tuple(out)


def _rosterable(s: Scenario, types: Sequence[ShiftType]) -> tuple[bool, ...]:
    """Slots in which some shift (any type, day, start, longest length) could have an agent
    available for contacts (after its briefing)."""
    slot = s.horizon.interval_minutes
    n = s.n_slots
    out = [False] * n
    first_weekday = s.horizon.start.weekday()
    for t in types:
        for d in range(s.horizon.days):
            if (first_weekday + d) % 7 not in t.weekdays:
                continue
            for start in t.starts:
                lo = (d * DAY + start + t.briefing_minutes) // slot
                hi = min(n, (d * DAY + start + t.length_max) // slot)
                for k in range(lo, hi):
                    out[k] = True
    return tuple(out)


def _runs(mask: Sequence[bool]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for t, v in enumerate(mask):
        if v:
            if runs and runs[-1][1] == t - 1:
                runs[-1] = (runs[-1][0], t)
            else:
                runs.append((t, t))
    return runs


def describe_slots(s: Scenario, mask: Sequence[bool], limit: int = 3) -> str:
    """'Mon 07 Dec 00:00-06:00, ...' for the slots set in ``mask``."""
    parts = []
    runs = _runs(mask)
    for a, b in runs[:limit]:
        t0, t1 = s.slot_time(a), s.slot_time(b + 1)
        end = f"{t1:%H:%M}" if t1.date() == t0.date() or t1.time() == time() else f"{t1:%a %H:%M}"
        if t1.time() == time() and t1.date() != t0.date():
            end = "24:00"
        parts.append(f"{t0:%a %d %b %H:%M}-{end}")
    more = f" and {len(runs) - limit} more" if len(runs) > limit else ""
    return ", ".join(parts) + more


def _when_mask(
    when: str | dict[str, str], s: Scenario, demand: dict[str, ChannelDemand], own: str | None
) -> tuple[bool, ...]:
    n = s.n_slots
    if isinstance(when, str):
        w = when.strip()
        if w == "always":
            return (True,) * n
        if w == "open":
            assert own is not None
            return demand[own].work_mask
        if w == "any_channel_open":
            return tuple(any(d.work_mask[t] for d in demand.values()) for t in range(n))
        if w.startswith("open:"):
            return demand[w[5:].strip()].work_mask
    return window_mask(when, s)


def _label(when: str | dict[str, str]) -> str:
    if isinstance(when, dict):
        return ", ".join(f"{k} {v}" for k, v in when.items())
    return {
        "any_channel_open": "whenever a channel is open",
        "always": "at all times",
        "open": "whenever the channel is open",
    }.get(when, when.replace("open:", "whenever this channel is open: "))


def _leave(loaded: LoadedScenario, problems: list[Problem]) -> tuple[list[Leave], list[int]]:
    s = loaded.scenario
    end_of_horizon = s.horizon.days * DAY
    origin = datetime.combine(s.horizon.start, time())
    out: list[Leave] = []
    index: list[int] = []
    for i, lv in enumerate(s.leave):
        if lv.whole_days:
            start = (lv.start - s.horizon.start).days * DAY
            end = ((lv.end - s.horizon.start).days + 1) * DAY
        else:
            assert isinstance(lv.start, datetime) and isinstance(lv.end, datetime)
            start = int((lv.start - origin) / timedelta(minutes=1))
            end = int((lv.end - origin) / timedelta(minutes=1))
        start, end = max(0, start), min(end_of_horizon, end)
        if end <= start:
            continue  # outside the horizon
        try:
            out.append(
                Leave(
                    agent_id=lv.agent_id,
                    kind=lv.kind,
                    status=lv.status,
                    start=start,
                    end=end,
                    whole_days=lv.whole_days,
                    weight=lv.weight,
                )
            )
            index.append(i)
        except ValidationError as exc:
            problems.append(Problem(loaded.where("leave", i), _first_message(exc)))
    return out, index


def _first_message(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return str(e["msg"]).removeprefix("Value error, ")


def _training_fits(
    loaded: LoadedScenario,
    leave: list[Leave],
    index: list[int],
    types: Sequence[ShiftType],
    problems: list[Problem],
) -> None:
    """Training and meetings happen inside a shift: one the agent may work must contain them."""
    s = loaded.scenario
    agents = {a.id: a for a in s.agents}
    contracts = {c.id: c for c in s.contracts}
    for lv, i in zip(leave, index, strict=True):
        if lv.whole_days or not lv.on_shift or lv.status is not LeaveStatus.approved:
            continue
        agent = agents[lv.agent_id]
        contract = contracts[agent.contract]
        allowed = set(contract.shift_types or [t.id for t in types])
        day = lv.start // DAY
        weekday = (s.horizon.start.weekday() + day) % 7
        fits = any(
            t.id in allowed
            and weekday in t.weekdays
            and any(
                day * DAY + st <= lv.start and lv.end <= day * DAY + st + length
                for st in t.starts
                for length in t.lengths
            )
            for t in types
        )
        if not fits:
            spec = s.leave[i]
            problems.append(
                Problem(
                    loaded.where("leave", i),
                    f"{spec.kind.value} {spec.start:%a %d %b %H:%M}-{spec.end:%H:%M} of "
                    f"{agent.id} fits in no shift the agent may work that day (contract "
                    f"{contract.id}: {', '.join(sorted(allowed))})",
                )
            )


def _agents_can_work(prep_problem: RosterProblem, loaded: LoadedScenario) -> list[Problem]:
    """Agents that can work no shift at all (contract types x nights x availability)."""
    problems = []
    inst = solver_prepare(prep_problem)
    contracts = {c.id: c for c in prep_problem.contracts}
    for i, a in enumerate(inst.agents):
        if any(a.options_by_day.values()):
            continue
        c = contracts[a.agent.contract]
        if not c.hours_min and not a.must_work:
            continue
        problems.append(
            Problem(
                loaded.where("agents", i),
                f"agent {a.id} can work no shift in the horizon (contract {c.id} allows "
                f"{', '.join(c.shift_types or ['all types'])}"
                f"{'' if a.night_ok else ', no nights'}; leave and unavailable days count too) "
                f"but the contract asks for at least {c.hours_min:g} h a week",
            )
        )
    return problems


def prepare_scenario(path: Path) -> Prepared:
    """Load, check and turn a scenario into the solver's problem (no solving)."""
    loaded = load_scenario(path)
    return build(loaded)


def build(loaded: LoadedScenario, factors: DemandFactors | None = None) -> Prepared:
    """The solver's problem of a loaded scenario (``factors``: volume and handle-time factors
    per channel and slot, applied before staffing)."""
    s = loaded.scenario
    problems: list[Problem] = []
    notes: list[str] = []
    types = _shift_types(s)
    rosterable = _rosterable(s, types)
    n = s.n_slots
    demand: dict[str, ChannelDemand] = {}
    for i, ch in enumerate(s.channels):
        try:
            demand[ch.id] = _demand(loaded, i, ch, rosterable, factors)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    if not all(rosterable):
        notes.append(
            f"not rostered: {describe_slots(s, [not r for r in rosterable])} (no shift type "
            "covers these hours, e.g. the night before the first day); demand, floors and role "
            "cover there are left out"
        )
    # hard floors per channel
    floors: dict[str, list[int]] = {c.id: [0] * n for c in s.channels}
    for i, m in enumerate(s.min_staff):
        mask = _when_mask(m.when, s, demand, m.channel)
        work = demand[m.channel].work_mask
        closed = [bool(mask[t] and not work[t] and rosterable[t]) for t in range(n)]
        if any(closed):
            problems.append(
                Problem(
                    loaded.where("min_staff", i, "when"),
                    f"asks for {m.count} agent(s) on {m.channel} while it is closed to agents "
                    f"({describe_slots(s, closed)}); use when: open",
                )
            )
            continue
        f = floors[m.channel]
        for t in range(n):
            if mask[t] and rosterable[t]:
                f[t] = max(f[t], m.count)
    channels = []
    for ch in s.channels:
        d = demand[ch.id]
        ready = np.asarray(rosterable, dtype=bool)
        required = np.where(ready & np.asarray(d.work_mask, dtype=bool), d.plan.agents_required, 0)
        open_ = () if all(d.work_mask) else tuple(d.work_mask)
        floor = tuple(floors[ch.id]) if any(floors[ch.id]) else ()
        if ch.kind is ChannelKind.deferred:
            channels.append(
                Channel(
                    id=ch.id,
                    kind=ChannelKind.deferred,
                    required=tuple(int(x) for x in required),
                    min_staff=floor,
                    open=open_,
                    deferred=_deferred_work(d, s, rosterable),
                )
            )
        else:
            channels.append(
                Channel(
                    id=ch.id,
                    kind=ch.kind,
                    required=tuple(int(x) for x in required),
                    min_staff=floor,
                    open=open_,
                )
            )
    roles = []
    for r in s.role_coverage:
        mask = _when_mask(r.when, s, demand, None)
        slots = tuple(bool(mask[t] and rosterable[t]) for t in range(n))
        if any(slots):
            roles.append(
                RoleRequirement(
                    role=r.role, count=r.count, slots=slots, label=r.label or _label(r.when)
                )
            )
    leave, leave_index = _leave(loaded, problems)
    _training_fits(loaded, leave, leave_index, types, problems)
    if problems:
        raise InputError(problems)
    ru = s.rules
    origin = s.horizon.start
    try:
        problem = RosterProblem(
            name=s.name,
            horizon_start=s.horizon.start,
            days=s.horizon.days,
            slot_minutes=s.horizon.interval_minutes,
            channels=tuple(channels),
            shift_types=types,
            contracts=tuple(
                Contract(
                    id=c.id,
                    hours_min=c.hours_per_week.min,
                    hours_max=c.hours_per_week.max,
                    days_off_per_week=c.days_off.per_week,
                    days_off_per_month=c.days_off.per_month,
                    consecutive_days_off_preferred=c.days_off.consecutive_preferred,
                    shift_types=None if c.shift_types is None else tuple(c.shift_types),
                    night_shifts=c.night_shifts,
                    max_consecutive_days=c.max_consecutive_days,
                    min_rest_minutes=None
                    if c.min_rest_hours is None
                    else round(c.min_rest_hours * 60),
                )
                for c in s.contracts
            ),
            agents=tuple(
                Agent(
                    id=a.id,
                    name=a.name,
                    team=a.team,
                    contract=a.contract,
                    skills=a.skill_ids,
                    skill_levels=a.skill_levels,
                    roles=tuple(a.roles),
                    preferred_shift_types=tuple(a.preferred_shift_types),
                    unavailable_weekdays=tuple(
                        sorted({w for d in a.unavailable_days for w in parse_weekdays(d)})
                    ),
                    night_shifts=a.night_shifts,
                )
                for a in s.agents
            ),
            leave=tuple(leave),
            pinned=tuple(
                Pinned(
                    agent_id=p.agent_id,
                    day=(p.date - origin).days,
                    shift_type=p.shift_type,
                    start=None if p.start is None else parse_clock(p.start),
                    length=p.length_minutes,
                )
                for p in s.pinned
            ),
            roles=tuple(roles),
            rules=Rules(
                min_rest_minutes=round(ru.min_rest_hours * 60),
                max_consecutive_days=ru.max_consecutive_days,
                max_on_break_share=ru.max_on_break_share,
                night_start=parse_clock(ru.night_start),
                night_end=parse_clock(ru.night_end),
                night_min_minutes=round(ru.night_min_hours * 60),
                late_end_after=parse_clock(ru.late_end_after),
            ),
            weights=Weights(**s.objective.model_dump()),
            disabled_rules=tuple(s.disabled_rules),
            holidays=()
            if s.horizon.public_holidays is None
            else s.horizon.public_holidays.days_in(s.horizon.start, s.horizon.days),
        )
    except (ValidationError, ValueError) as exc:
        message = _first_message(exc) if isinstance(exc, ValidationError) else str(exc)
        raise InputError(
            [Problem(display_path(loaded.path), part.strip()) for part in message.split("; ")]
        ) from None
    problems = _agents_can_work(problem, loaded)
    if problems:
        raise InputError(problems)
    return Prepared(
        loaded=loaded,
        problem=problem,
        demand=demand,
        leave_index=tuple(leave_index),
        rosterable=rosterable,
        notes=tuple(notes),
        sha256=scenario_hash(loaded),
    )


def scenario_hash(loaded: LoadedScenario) -> str:
    """SHA-256 of the merged scenario and the content of every file it reads."""
    h = hashlib.sha256()
    body = loaded.scenario.model_dump(mode="json")
    for ch in body["channels"]:
        for k in ("forecast_file", "history_file"):
            if ch["demand"].get(k):
                ch["demand"][k] = Path(ch["demand"][k]).name
    h.update(json.dumps(body, sort_keys=True, default=str).encode())
    for ch in loaded.scenario.channels:
        f = ch.demand.forecast_file or ch.demand.history_file
        if f is not None:
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def load_and_prepare(path: Path) -> Prepared:
    """Alias used by the CLI and the demo."""
    return prepare_scenario(path)


def leave_spec(prepared: Prepared, leave_index: int) -> LeaveSpec:
    """The scenario leave row behind the problem's leave number ``leave_index``."""
    return prepared.scenario.leave[prepared.leave_index[leave_index]]
