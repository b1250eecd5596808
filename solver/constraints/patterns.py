"""Agent-layer work-pattern rules over the whole horizon: forbidden successions of shift types,
shifts per type, paid minutes over the horizon, minimum runs of working days and of days off,
working weekends."""

from __future__ import annotations

from solver.shifts import day_name
from solver.variables import Expr, Vars

__all__ = [
    "add_forbidden_successions",
    "add_horizon_minutes",
    "add_max_shifts_per_type",
    "add_max_weekends",
    "add_min_consecutive_days",
    "add_min_consecutive_days_off",
]


def _day_name(v: Vars, d: int) -> str:
    return day_name(v.inst.problem.horizon_start, d)


def _of_type(v: Vars, a: int, d: int, type_id: str) -> Expr:
    """1 when agent a works a shift of this type starting on day d."""
    terms = [v.x(a, o) for o in v.agent_options(a, d) if v.option(o).type_id == type_id]
    return sum(terms) if terms else 0


def add_forbidden_successions(v: Vars) -> None:
    """Hard: a shift of type A is not followed on the next day by a type A forbids
    (``ShiftType.forbidden_next``). One constraint per agent, day and type A: a shift of A on d
    plus any forbidden shift on d + 1 is at most one (one shift a day)."""
    p = v.inst.problem
    after = {t.id: t.forbidden_next for t in p.shift_types if t.forbidden_next}
    if not after:
        return
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        for first, banned in after.items():
            lits = v.enforce(
                "succession",
                f"{prep.id}:{first}",
                f"{prep.id} may not work {', '.join(banned)} the day after {first}",
            )
            for d in range(p.days - 1):
                today = _of_type(v, a, d, first)
                tomorrow = [_of_type(v, a, d + 1, b) for b in banned]
                if isinstance(today, int) and today == 0:
                    continue
                if all(isinstance(t, int) and t == 0 for t in tomorrow):
                    continue
                v.add(today + sum(tomorrow) <= 1, lits)


def add_max_shifts_per_type(v: Vars) -> None:
    """Hard: at most ``contract.max_shifts_per_type[type]`` shifts of that type in the horizon."""
    p = v.inst.problem
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        for type_id, most in prep.contract.max_shifts_per_type.items():
            terms = [_of_type(v, a, d, type_id) for d in range(p.days)]
            if sum(1 for t in terms if not (isinstance(t, int) and t == 0)) <= most:
                continue
            lits = v.enforce(
                "max_shifts_per_type",
                f"{prep.id}:{type_id}",
                f"{prep.id} may work at most {most} {type_id} shift(s)",
            )
            v.add(sum(terms) <= most, lits)


def add_horizon_minutes(v: Vars) -> None:
    """Hard: paid minutes over the whole horizon within the contract's bounds."""
    p = v.inst.problem
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        lo, hi = prep.contract.horizon_minutes_min, prep.contract.horizon_minutes_max
        if lo is None and hi is None:
            continue
        paid = sum(
            v.option(o).paid_minutes * v.x(a, o)
            for d in range(p.days)
            for o in v.agent_options(a, d)
        )
        if lo is not None and lo > 0:
            lits = v.enforce(
                "horizon_minutes_min",
                prep.id,
                f"{prep.id} must be paid at least {lo / 60:g} h over the horizon",
            )
            v.add(paid >= lo, lits)
        if hi is not None:
            lits = v.enforce(
                "horizon_minutes_max",
                prep.id,
                f"{prep.id} may be paid at most {hi / 60:g} h over the horizon",
            )
            v.add(paid <= hi, lits)


def _short_runs(days: int, k: int) -> list[tuple[int, int]]:
    """(first, last) day of every run shorter than k that has a day on both sides inside the
    horizon (runs touching the start or the end are exempt)."""
    out = []
    for first in range(1, days - 1):
        for length in range(1, k):
            last = first + length - 1
            if last + 1 > days - 1:
                break
            out.append((first, last))
    return out


def add_min_consecutive_days(v: Vars) -> None:
    """Hard: a run of working days between two days off is at least
    ``contract.min_consecutive_days`` long. Runs touching the start or the end of the horizon
    are exempt: the work may continue outside it (the Curtois-Qu convention). Each forbidden
    pattern off, work x length, off is one linear clause."""
    p = v.inst.problem
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        k = prep.contract.min_consecutive_days
        if k is None or k <= 1:
            continue
        lits = v.enforce(
            "min_consecutive", prep.id, f"{prep.id} must work at least {k} days in a row"
        )
        works = [v.works(a, d) for d in range(p.days)]
        for first, last in _short_runs(p.days, k):
            inside = works[first : last + 1]
            if any(isinstance(w, int) and w == 0 for w in inside):
                continue
            v.add(
                works[first - 1] + sum(1 - w for w in inside) + works[last + 1] >= 1,
                lits,
            )


def add_min_consecutive_days_off(v: Vars) -> None:
    """Hard: a run of days off between two working days is at least
    ``contract.min_consecutive_days_off`` long (leave days are days off). Runs touching the
    start or the end of the horizon are exempt."""
    p = v.inst.problem
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        k = prep.contract.min_consecutive_days_off
        if k is None or k <= 1:
            continue
        lits = v.enforce(
            "min_consecutive_off", prep.id, f"{prep.id} needs at least {k} days off in a row"
        )
        works = [v.works(a, d) for d in range(p.days)]
        for first, last in _short_runs(p.days, k):
            before, after = works[first - 1], works[last + 1]
            if any(isinstance(w, int) and w == 0 for w in (before, after)):
                continue
            v.add((1 - before) + sum(works[first : last + 1]) + (1 - after) >= 1, lits)


def _any_of(v: Vars, terms: list[Expr], name: str) -> Expr:
    """1 when any of the 0/1 terms is 1 (a constant when they all are)."""
    variables = [t for t in terms if not isinstance(t, int)]
    if any(isinstance(t, int) and t > 0 for t in terms):
        return 1
    if not variables:
        return 0
    if len(variables) == 1:
        return variables[0]
    var = v.bool_var(name)
    for t in variables:
        v.model.add(var >= t)
    v.model.add(var <= sum(variables))
    return var


def add_max_weekends(v: Vars) -> None:
    """Hard: at most ``contract.max_working_weekends`` weekends with a shift on Saturday or
    Sunday (a weekend cut by the horizon counts by the days inside it)."""
    p = v.inst.problem
    weekends = p.weekend_days()
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        most = prep.contract.max_working_weekends
        if most is None or most >= len(weekends):
            continue
        worked = [
            _any_of(v, [v.works(a, d) for d in days], f"wkend[{a},{w}]")
            for w, days in sorted(weekends.items())
        ]
        lits = v.enforce("max_weekends", prep.id, f"{prep.id} may work at most {most} weekend(s)")
        v.add(sum(worked) <= most, lits)
