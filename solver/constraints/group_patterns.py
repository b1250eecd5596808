"""Aggregate-layer relaxations of the work-pattern rules (``constraints.patterns``), summed over
a group: shifts per type, paid minutes over the horizon, forbidden successions and working
weekends. Each is implied by the agent rules, so the aggregate's bound stays valid; minimum runs
of working days and days off have no group form here (leaving them out is still a relaxation).
"""

from __future__ import annotations

from solver.constraints.aggregate import group_option_count
from solver.variables import Expr, Vars

__all__ = [
    "add_group_horizon_minutes",
    "add_group_successions",
    "add_group_type_limits",
    "add_group_weekends",
]


def _group_options(v: Vars, g: int, d: int) -> list[int]:
    """Options any member of group g may work on day d (group counts and special days)."""
    opts: set[int] = set()
    for a in v.inst.group_members[g]:
        opts.update(v.inst.agents[a].options_by_day.get(d, []))
    return sorted(opts)


def _count(v: Vars, g: int, d: int, type_id: str | None = None) -> Expr:
    terms = [
        group_option_count(v, g, o)
        for o in _group_options(v, g, d)
        if type_id is None or type_id == v.option(o).type_id
    ]
    return sum(terms) if terms else 0


def add_group_type_limits(v: Vars) -> None:
    """Shifts of a type worked by a group: at most its members' per-type maxima summed."""
    p = v.inst.problem
    for g, members in enumerate(v.inst.group_members):
        contract = v.inst.agents[members[0]].contract
        for type_id, most in contract.max_shifts_per_type.items():
            total = sum(_count(v, g, d, type_id) for d in range(p.days))
            v.add(total <= most * len(members))


def add_group_horizon_minutes(v: Vars) -> None:
    """Paid minutes of a group over the horizon within its members' bounds summed."""
    p = v.inst.problem
    for g, members in enumerate(v.inst.group_members):
        contract = v.inst.agents[members[0]].contract
        lo, hi = contract.horizon_minutes_min, contract.horizon_minutes_max
        if lo is None and hi is None:
            continue
        paid = sum(
            v.option(o).paid_minutes * group_option_count(v, g, o)
            for d in range(p.days)
            for o in _group_options(v, g, d)
        )
        if lo:
            v.add(paid >= lo * len(members))
        if hi is not None:
            v.add(paid <= hi * len(members))


def add_group_successions(v: Vars) -> None:
    """Members working type A on day d and those working a type A forbids on d + 1 are
    different agents: together at most the group's size."""
    p = v.inst.problem
    after = {t.id: t.forbidden_next for t in p.shift_types if t.forbidden_next}
    if not after:
        return
    for g, members in enumerate(v.inst.group_members):
        for d in range(p.days - 1):
            for first, banned in after.items():
                today = _count(v, g, d, first)
                tomorrow = sum(_count(v, g, d + 1, b) for b in banned)
                if isinstance(today, int) or isinstance(tomorrow, int):
                    continue
                v.add(today + tomorrow <= len(members))


def add_group_weekends(v: Vars) -> None:
    """Members working a weekend are at least those working its Saturday (or its Sunday); over
    the horizon at most the members' weekend maxima summed."""
    p = v.inst.problem
    weekends = p.weekend_days()
    for g, members in enumerate(v.inst.group_members):
        most = v.inst.agents[members[0]].contract.max_working_weekends
        if most is None or most >= len(weekends):
            continue
        worked: list[Expr] = []
        for w, days in sorted(weekends.items()):
            counts = [_count(v, g, d) for d in days]
            if all(isinstance(c, int) for c in counts):
                worked.append(max(int(c) for c in counts))
                continue
            var = v.int_var(0, len(members), f"gwk[{g},{w}]")
            for c in counts:
                v.add(var >= c)
            worked.append(var)
        v.add(sum(worked) <= most * len(members))
