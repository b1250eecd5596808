"""Agent-layer rules: one shift a day, leave, pinned and training days, rest, consecutive days,
days off and paid hours, preferences, isolated days off, fairness."""

from __future__ import annotations

from collections import defaultdict

from solver.schema import DAY, LeaveStatus
from solver.shifts import FAIRNESS_CATEGORIES, day_name
from solver.variables import Expr, Vars

__all__ = [
    "add_contract_blocks",
    "add_fairness",
    "add_isolated_days_off",
    "add_max_consecutive_days",
    "add_min_rest",
    "add_must_work",
    "add_one_shift_per_day",
    "add_preferences",
    "add_requested_leave",
]


def _day_name(v: Vars, d: int) -> str:
    return day_name(v.inst.problem.horizon_start, d)


def add_one_shift_per_day(v: Vars) -> None:
    """At most one shift starts per agent and day."""
    for a, d in sorted(v.var_days()):
        opts = v.agent_options(a, d)
        if len(opts) > 1:
            v.model.add_at_most_one(v.x(a, o) for o in opts)


def _why_no_option(v: Vars, a: int, d: int) -> str:
    prep = v.inst.agents[a]
    if d in prep.leave_days:
        return " but is on approved leave that day"
    if v.inst.problem.weekday(d) in prep.agent.unavailable_weekdays:
        return " but is unavailable on that weekday"
    return " but no shift they may work fits (contract, night rules, leave, training time)"


def add_must_work(v: Vars) -> None:
    """Pinned shifts and on-shift leave (training, meetings): the agent works that day, in a shift
    that matches the pin or contains the training."""
    p = v.inst.problem
    days_with_vars = v.var_days()
    for a, prep in enumerate(v.inst.agents):
        for d in sorted(prep.must_work):
            if (a, d) not in days_with_vars and a not in v.free_agents:
                continue
            pinned = any(pp.agent_id == prep.id and pp.day == d for pp in p.pinned)
            why = "pinned shift" if pinned else "training/meeting"
            opts = v.agent_options(a, d)
            lits = v.enforce(
                "must_work",
                f"{prep.id}:{d}",
                f"{prep.id} must work on {_day_name(v, d)} ({why})"
                + ("" if opts else _why_no_option(v, a, d)),
            )
            v.add(sum(v.x(a, o) for o in opts) == 1, lits)


def add_requested_leave(v: Vars) -> None:
    """Requested leave is soft: granted, the agent is off (whole days) or not working in the
    interval (part-day); refused, it costs its weight per day."""
    p = v.inst.problem
    for li in v.inst.requests:
        lv = p.leave[li]
        a = v.inst.agent(lv.agent_id).index
        if a not in v.free_agents:
            continue
        g = v.grant(li)
        if isinstance(g, int):
            continue
        hits = []
        for d in range(max(0, lv.start // DAY - 1), min(p.days, -(-lv.end // DAY))):
            for o in v.agent_options(a, d):
                opt = v.option(o)
                hit = (d in lv.days()) if lv.whole_days else opt.overlaps(lv.start, lv.end)
                if hit:
                    x = v.x(a, o)
                    hits.append(x)
                    if isinstance(x, int):  # decided outside a window
                        if x:
                            v.model.add(g == 0)
                    else:
                        v.model.add_implication(g, x.negated())
        # refused means rostered into it: an agent left off anyway has the leave (and its
        # credit), as the validator reads a roster
        v.add(sum(hits) >= 1, when=[g.negated()])
        days = max(1, len([d for d in lv.days() if 0 <= d < p.days])) if lv.whole_days else 1
        v.penalize(
            "leave.request_denied",
            f"{lv.agent_id}:{li}",
            1 - g,
            p.weights.leave_request_denied * lv.weight * days,
            f"{lv.kind.value} request of {lv.agent_id} refused",
        )


def _rest_pairs(v: Vars, a: int) -> list[tuple[int, int]]:
    p = v.inst.problem
    rest = v.inst.agents[a].min_rest
    pairs = []
    for d in range(p.days):
        ends = [v.option(o).end for o in v.agent_options(a, d)]
        if not ends:
            continue
        for d2 in range(d + 1, p.days):
            starts = [v.option(o).start for o in v.agent_options(a, d2)]
            if starts and max(ends) + rest > min(starts):
                pairs.append((d, d2))
            if d2 * DAY > max(ends) + rest:
                break
    return pairs


def add_min_rest(v: Vars) -> None:
    """At least min_rest minutes between the end of a shift and the start of the next one.

    For a day pair, options conflict when end + rest > next start: for every distinct next start
    s, the shifts ending after s - rest and the next-day shifts starting by s form a clique, so one
    at-most-one constraint per s covers every conflicting pair.
    """
    for a in sorted(v.free_agents):
        rest = v.inst.agents[a].min_rest
        agent_id = v.inst.agents[a].id
        for d, d2 in _rest_pairs(v, a):
            first = v.agent_options(a, d)
            second = v.agent_options(a, d2)
            lits = v.enforce(
                "rest",
                f"{agent_id}:{d}",
                f"{agent_id} needs {rest / 60:g} h rest after {_day_name(v, d)}",
            )
            for s in sorted({v.option(o).start for o in second}):
                late = [o for o in first if v.option(o).end + rest > s]
                early = [o for o in second if v.option(o).start <= s]
                if late and early:
                    v.add(sum(v.x(a, o) for o in late + early) <= 1, lits)


def add_max_consecutive_days(v: Vars) -> None:
    """At most max_consecutive_days working days in a row (days before the horizon count)."""
    p = v.inst.problem
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        m = prep.max_consecutive
        prior = prep.agent.prior_consecutive_days
        lits = v.enforce(
            "max_consecutive", prep.id, f"{prep.id} may work at most {m} days in a row"
        )
        for end in range(p.days):
            start = end - m
            inside = range(max(0, start), end + 1)
            before = min(prior, -start) if start < 0 else 0
            if len(inside) + before <= m:
                continue
            v.add(sum(v.works(a, d) for d in inside) + before <= m, lits)


def _credited_days(v: Vars, a: int, days: tuple[int, ...]) -> list[tuple[Expr, int, bool]]:
    """(grant literal, days in the block, credited) for the agent's whole-day requests."""
    p = v.inst.problem
    out = []
    for li in v.inst.agents[a].requests:
        lv = p.leave[li]
        if lv.status is not LeaveStatus.requested or not lv.whole_days:
            continue
        k = len([d for d in lv.days() if d in days])
        if k:
            out.append((v.grant(li), k, lv.credited))
    return out


def add_contract_blocks(v: Vars) -> None:
    """Days off (per week or per month) and paid hours per week, with leave credited."""
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        for bi, block in enumerate(prep.blocks):
            req = _credited_days(v, a, block.days)
            # bounds the agent cannot reach (a shift a day at most, each at most the longest
            # option, credits included) are left out: they only slow the search
            workable = [d for d in block.days if v.agent_options(a, d)]
            credited = sum(k for _, k, cr in req if cr)
            if len(workable) + credited > block.max_work_days:
                works = sum(v.works(a, d) for d in block.days)
                lits = v.enforce(
                    "days_off",
                    f"{prep.id}:{bi}",
                    f"{prep.id} needs days off ({block.kind} {bi + 1}: at most "
                    f"{block.max_work_days} working days)",
                )
                v.add(works + sum(k * g for g, k, cr in req if cr) <= block.max_work_days, lits)
            if block.kind != "week":
                continue
            most = sum(
                max(v.option(o).paid_minutes for o in v.agent_options(a, d)) for d in workable
            ) + sum(round(block.credit_max * k) for _, k, cr in req if cr)
            if block.min_minutes <= 0 and block.max_minutes >= most:
                continue
            paid = sum(
                v.option(o).paid_minutes * v.x(a, o)
                for d in block.days
                for o in v.agent_options(a, d)
            )
            credit_min = sum(round(block.credit_min * k) * g for g, k, cr in req if cr)
            credit_max = sum(round(block.credit_max * k) * g for g, k, cr in req if cr)
            lo = v.enforce(
                "hours_min",
                f"{prep.id}:{bi}",
                f"{prep.id} must be paid at least {block.min_minutes / 60:g} h in week {bi + 1}",
            )
            v.add(paid + credit_min >= block.min_minutes, lo)
            hi = v.enforce(
                "hours_max",
                f"{prep.id}:{bi}",
                f"{prep.id} may be paid at most {block.max_minutes / 60:g} h in week {bi + 1}",
            )
            v.add(paid + credit_max <= block.max_minutes, hi)


def add_preferences(v: Vars) -> None:
    """Soft: each shift of a type the agent did not ask for costs the preference weight."""
    w = v.inst.problem.weights.preference
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        pref = set(prep.agent.preferred_shift_types)
        if not pref:
            continue
        terms = [
            v.x(a, o)
            for d in range(v.inst.problem.days)
            for o in v.agent_options(a, d)
            if v.option(o).type_id not in pref
        ]
        if terms:
            v.penalize(
                "preference.shift_type",
                prep.id,
                sum(terms),
                w,
                f"{prep.id}: shifts not of a preferred type",
            )


def add_isolated_days_off(v: Vars) -> None:
    """Soft: for contracts preferring consecutive days off, each single day off between two
    working days costs the weight (days next to leave do not count)."""
    p = v.inst.problem
    w = p.weights.consecutive_days_off
    for a in sorted(v.free_agents):
        prep = v.inst.agents[a]
        if not prep.contract.consecutive_days_off_preferred:
            continue
        for d in range(1, p.days - 1):
            if {d - 1, d, d + 1} & prep.leave_days:
                continue
            iso = v.bool_var(f"iso[{a},{d}]")
            v.model.add(iso >= v.works(a, d - 1) + v.works(a, d + 1) - v.works(a, d) - 1)
            v.penalize(
                "days_off.consecutive",
                f"{prep.id}:{d}",
                iso,
                w,
                f"{prep.id}: single day off on {_day_name(v, d)}",
            )


def category_counts(v: Vars, category: str) -> dict[str, list[tuple[int, Expr]]]:
    """Per contract: (agent, count of its shifts in the category) for eligible agents."""
    out: dict[str, list[tuple[int, Expr]]] = defaultdict(list)
    present = v.free_agents | {a for a, _ in v.x_}
    for prep in v.inst.agents:
        if prep.index not in present:
            continue
        eligible = any(
            getattr(v.option(o), category) for opts in prep.options_by_day.values() for o in opts
        )
        if not eligible:
            continue
        terms = [
            var
            for (ai, o), var in v.x_.items()
            if ai == prep.index and getattr(v.option(o), category)
        ]
        prior = prep.agent.prior_fairness.get(category, 0)  # the weeks before (a ledger)
        out[prep.contract.id].append((prep.index, (sum(terms) if terms else 0) + prior))
    return out


def add_fairness(v: Vars) -> None:
    """Soft: per contract, the spread (max - min over eligible agents) of weekend, night and late
    shifts, times the fairness weight."""
    w = v.inst.problem.weights.fairness
    days = v.inst.problem.days
    if w == 0:
        return
    for category in FAIRNESS_CATEGORIES:
        if f"fairness.{category}" in v.inst.problem.disabled_rules:
            continue
        for contract, counts in category_counts(v, category).items():
            if len(counts) < 2 or all(isinstance(c, int) for _, c in counts):
                continue
            most = days + max(
                (v.inst.agents[a].agent.prior_fairness.get(category, 0) for a, _ in counts),
                default=0,
            )
            mx = v.int_var(0, most, f"fair_max[{category},{contract}]")
            mn = v.int_var(0, most, f"fair_min[{category},{contract}]")
            for _, c in counts:
                v.model.add(mx >= c)
                v.model.add(mn <= c)
            v.penalize(
                f"fairness.{category}",
                contract,
                mx - mn,
                w,
                f"{category} shifts spread across {contract} agents",
            )
