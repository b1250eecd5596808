"""Aggregate-layer rules: group counts and the valid inequalities that make them assignable.

Every rule here is implied by the agent layer (it is a relaxation), so the aggregate's bound is a
valid bound for the whole problem: daily availability, days off and paid hours summed over a
group, rest and consecutive-day cuts, and a lower bound on fairness spreads.
"""

from __future__ import annotations

from collections import defaultdict

from solver.schema import LeaveStatus
from solver.shifts import FAIRNESS_CATEGORIES
from solver.variables import Expr, Vars

__all__ = [
    "add_group_blocks",
    "add_group_consecutive_cuts",
    "add_group_counts",
    "add_group_fairness_bounds",
    "add_group_requests",
    "add_group_rest_cuts",
]


def _group_day_options(v: Vars, g: int, d: int) -> list[int]:
    opts: set[int] = set()
    for a in v.inst.group_members[g]:
        prep = v.inst.agents[a]
        if d not in prep.special_days:
            opts.update(prep.options_by_day.get(d, []))
    return sorted(opts)


def _available(v: Vars, g: int, d: int) -> list[int]:
    """Group members that may work day d as part of the group count."""
    return [
        a
        for a in v.inst.group_members[g]
        if d not in v.inst.agents[a].special_days and v.inst.agents[a].options_by_day.get(d)
    ]


def group_work(v: Vars, g: int, d: int) -> Expr:
    """Shifts worked on day d by members of group g (group count plus special agent-days)."""
    terms: list[Expr] = [v.y(g, o) for o in _group_day_options(v, g, d)]
    for a in v.inst.group_members[g]:
        if d in v.inst.agents[a].special_days:
            terms.append(v.works(a, d))
    return sum(terms) if terms else 0


def group_option_count(v: Vars, g: int, o: int) -> Expr:
    terms: list[Expr] = [v.y(g, o)]
    d = v.option(o).day
    for a in v.inst.group_members[g]:
        if d in v.inst.agents[a].special_days:
            terms.append(v.x(a, o))
    return sum(terms)


def add_group_counts(v: Vars) -> None:
    """Group counts per option, at most the members available each day (fewer when a whole-day
    request is granted)."""
    p = v.inst.problem
    for g in range(len(v.inst.groups)):
        for d in range(p.days):
            opts = _group_day_options(v, g, d)
            members = _available(v, g, d)
            if not opts or not members:
                continue
            for o in opts:
                v.y_[(g, o)] = v.int_var(0, len(members), f"y[{g},{o}]")
            requests = [
                v.grant(li)
                for a in members
                for li in v.inst.agents[a].requests
                if p.leave[li].whole_days and d in p.leave[li].days()
            ]
            v.add(sum(v.y(g, o) for o in opts) + sum(requests) <= len(members))


def add_group_requests(v: Vars) -> None:
    """Requested leave in the aggregate: one literal per request; refused ones cost their weight."""
    p = v.inst.problem
    for li in v.inst.requests:
        lv = p.leave[li]
        if lv.status is not LeaveStatus.requested:
            continue
        g = v.grant(li)
        a = v.inst.agent(lv.agent_id).index
        prep = v.inst.agents[a]
        for d in lv.days() if lv.whole_days else ():
            if d in prep.special_days and 0 <= d < p.days:
                for o in v.agent_options(a, d):
                    v.model.add_implication(g, v.x(a, o).negated())
        days = max(1, len([d for d in lv.days() if 0 <= d < p.days])) if lv.whole_days else 1
        v.penalize(
            "leave.request_denied",
            f"{lv.agent_id}:{li}",
            1 - g,
            p.weights.leave_request_denied * lv.weight * days,
            f"{lv.kind.value} request of {lv.agent_id} refused",
        )


def add_group_blocks(v: Vars) -> None:
    """Working days and paid minutes of a group within the sum of its members' bounds."""
    for g, members in enumerate(v.inst.group_members):
        n_blocks = len(v.inst.agents[members[0]].blocks)
        for bi in range(n_blocks):
            days = v.inst.agents[members[0]].blocks[bi].days
            kind = v.inst.agents[members[0]].blocks[bi].kind
            cap = sum(v.inst.agents[a].blocks[bi].max_work_days for a in members)
            credit_days: list[Expr] = []
            credit_min: list[Expr] = []
            credit_max: list[Expr] = []
            credited = 0  # leave days that may be credited, at most
            for a in members:
                blk = v.inst.agents[a].blocks[bi]
                for li in v.inst.agents[a].requests:
                    k = _credited_days(v, li, days)
                    if k:
                        credited += k
                        credit_days.append(k * v.grant(li))
                        credit_min.append(round(blk.credit_min * k) * v.grant(li))
                        credit_max.append(round(blk.credit_max * k) * v.grant(li))
            # a bound the group cannot reach (each member works a day at most once, at most
            # its longest shift) is left out: it would only slow the search
            workable = [
                (a, d) for a in members for d in days if v.inst.agents[a].options_by_day.get(d)
            ]
            if cap < len(workable) + credited:
                work = sum(group_work(v, g, d) for d in days)
                v.add(work + sum(credit_days) <= cap)
            if kind != "week":
                continue
            _add_shift_counts(v, g, bi, min(cap, len(workable) + credited))
            lo = sum(v.inst.agents[a].blocks[bi].min_minutes for a in members)
            hi = sum(v.inst.agents[a].blocks[bi].max_minutes for a in members)
            most = sum(
                max(v.option(o).paid_minutes for o in v.inst.agents[a].options_by_day[d])
                for a, d in workable
            )
            if lo <= 0 and hi >= most and not credit_max:
                continue
            paid = sum(
                v.option(o).paid_minutes * group_option_count(v, g, o)
                for d in days
                for o in _options_with_specials(v, g, d)
            )
            if lo > 0:
                v.add(paid + sum(credit_min) >= lo)
            if hi < most or credit_max:
                v.add(paid + sum(credit_max) <= hi)


def shift_count_range(v: Vars, a: int, bi: int) -> tuple[int, int]:
    """The fewest and most shifts agent ``a`` can work in week block ``bi``, from its paid
    minutes and the lengths of its own options there: at least ``ceil(min / longest)``
    (less what its credited requests could take off the minimum), at most
    ``floor(max / shortest)``, the working-day cap and its workable days."""
    prep = v.inst.agents[a]
    blk = prep.blocks[bi]
    paid = [v.option(o).paid_minutes for d in blk.days for o in prep.options_by_day.get(d, [])]
    workable = sum(1 for d in blk.days if prep.options_by_day.get(d))
    if not paid:
        return 0, 0
    credit = sum(round(blk.credit_min * _credited_days(v, li, blk.days)) for li in prep.requests)
    most = min(blk.max_work_days, workable, blk.max_minutes // max(1, min(paid)))
    need = max(0, blk.min_minutes - credit)
    fewest = min(most, -(-need // max(paid))) if need > 0 else 0
    return fewest, most


def _credited_days(v: Vars, li: int, days: tuple[int, ...]) -> int:
    """Days of ``days`` that request ``li`` would credit when granted (0: not credited leave
    of whole days)."""
    lv = v.inst.problem.leave[li]
    if not lv.whole_days or not lv.credited:
        return 0
    return len([d for d in lv.days() if d in days])


def _add_shift_counts(v: Vars, g: int, bi: int, cap: int) -> None:
    """Shifts a group works in a week within the sums of its members' own ranges
    (``shift_count_range``). The paid-minute sums lose what each agent's integrality keeps:
    three office agents on 8.5-hour days with 32-40 h each work four days, twelve in all,
    while 3 x 40 h holds 14 such days (the independent week 7501, whose rounded plan gave them
    13 and so a third weekday with all three at a lunch forced to noon, over the break cap).
    A valid cut, so the LP bound stays a bound."""
    members = v.inst.group_members[g]
    days = v.inst.agents[members[0]].blocks[bi].days
    ranges = [shift_count_range(v, a, bi) for a in members]
    fewest = sum(lo for lo, _ in ranges)
    most = sum(hi for _, hi in ranges)
    if fewest <= 0 and most >= cap:
        return
    work = sum(group_work(v, g, d) for d in days)
    if fewest > 0:
        v.add(work >= fewest)
    if most < cap:
        v.add(work <= most)


def _options_with_specials(v: Vars, g: int, d: int) -> list[int]:
    opts = set(_group_day_options(v, g, d))
    for a in v.inst.group_members[g]:
        if d in v.inst.agents[a].special_days:
            opts.update(v.agent_options(a, d))
    return sorted(opts)


def add_group_rest_cuts(v: Vars) -> None:
    """Rest between days, summed over a group: shifts ending late on d and shifts starting early on
    the next day go to different members, so together they are at most the group size."""
    p = v.inst.problem
    for g, members in enumerate(v.inst.group_members):
        rest = v.inst.agents[members[0]].min_rest
        for d in range(p.days - 1):
            first = _options_with_specials(v, g, d)
            if not first:
                continue
            last_end = max(v.option(o).end for o in first)
            for d2 in range(d + 1, p.days):
                second = _options_with_specials(v, g, d2)
                if second and last_end + rest > min(v.option(o).start for o in second):
                    for s in sorted({v.option(o).start for o in second}):
                        late = [o for o in first if v.option(o).end + rest > s]
                        early = [o for o in second if v.option(o).start <= s]
                        if late and early:
                            v.add(
                                sum(group_option_count(v, g, o) for o in late + early)
                                <= len(members)
                            )
                if d2 * 1440 > last_end + rest:
                    break


def add_group_consecutive_cuts(v: Vars) -> None:
    """In any max_consecutive + 1 days, a group works at most size x max_consecutive shifts."""
    p = v.inst.problem
    for g, members in enumerate(v.inst.group_members):
        m = v.inst.agents[members[0]].max_consecutive
        if p.days <= m:
            continue
        for first in range(p.days - m):
            window = range(first, first + m + 1)
            v.add(sum(group_work(v, g, d) for d in window) <= len(members) * m)


def add_group_fairness_bounds(v: Vars) -> None:
    """A lower bound on each fairness spread: some member of a group works at least the group's
    average number of such shifts (rounded up), and some at most it (rounded down)."""
    p = v.inst.problem
    by_contract: dict[tuple[str, str], list[tuple[int, Expr]]] = defaultdict(list)
    if p.weights.fairness == 0:
        return
    for category in FAIRNESS_CATEGORIES:
        if f"fairness.{category}" in p.disabled_rules:
            continue
        if any(a.prior_fairness.get(category) for a in p.agents):
            continue  # earlier weeks' totals differ within a group: no bound from averages
        for g, agents in enumerate(v.inst.group_members):
            opts = [
                o
                for d in range(p.days)
                for o in _options_with_specials(v, g, d)
                if getattr(v.option(o), category)
            ]
            if not opts:
                continue
            eligible = [
                a
                for a in agents
                if any(
                    getattr(v.option(o), category)
                    for day_opts in v.inst.agents[a].options_by_day.values()
                    for o in day_opts
                )
            ]
            if not eligible:
                continue
            total = sum(group_option_count(v, g, o) for o in opts)
            contract = v.inst.agents[agents[0]].contract.id
            by_contract[(category, contract)].append((len(eligible), total))
    for (category, contract), parts in by_contract.items():
        if sum(n for n, _ in parts) < 2:
            continue
        mx = v.int_var(0, p.days, f"fair_max[{category},{contract}]")
        mn = v.int_var(0, p.days, f"fair_min[{category},{contract}]")
        for n, total in parts:
            v.add(mx * n >= total)
            v.add(mn * n <= total)
        v.penalize(
            f"fairness.{category}",
            contract,
            mx - mn,
            p.weights.fairness,
            f"{category} shifts spread across {contract} agents (bound)",
        )
