"""The coverage core, shared by the exact and the aggregate model.

Counts per coverage class and option, implicit break placement (break starts as counts, matched
to shifts by interval-window Hall conditions), explicit breaks for agent-days with training, the
per-slot pools (on shift, on break, available, on duty), the channel split of multi-skilled
classes, coverage, floors, deferred backlog, roles and the on-break share cap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from solver.schema import ChannelKind
from solver.shifts import slot_range_name
from solver.units import WORK_UNITS, work_units
from solver.variables import Expr, SpecialShift, Vars

LATE_SLOTS = 8  # in a day window, work still overdue at its end counts this many slots more

__all__ = [
    "add_break_share_cap",
    "add_breaks",
    "add_channel_split",
    "add_counts",
    "add_coverage",
    "add_deferred",
    "add_min_staff",
    "add_pools",
    "add_roles",
]


def _sum_or_var(v: Vars, terms: list[Expr], hi: int, name: str) -> Expr:
    variables = [t for t in terms if not isinstance(t, int)]
    const = sum(t for t in terms if isinstance(t, int))
    if not variables:
        return const
    if len(variables) == 1 and const == 0:
        return variables[0]
    var = v.int_var(0, hi, name)
    v.model.add(var == sum(variables) + const)
    return var


def add_counts(v: Vars) -> None:
    """n(k, o): agents of class k working option o with implicit breaks; training days apart."""
    inst = v.inst
    by_class_option: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    for (a, o), var in v.x_.items():
        if (a, o) in v.rule_only:
            continue
        prep = inst.agents[a]
        d = inst.options[o].day
        if d in prep.on_shift_leave:
            _special(v, a, o, var)
        else:
            by_class_option[(prep.class_index, o)].append(var)
    for (g, o), var in v.y_.items():
        by_class_option[(inst.groups[g].class_index, o)].append(var)
    for (k, o), terms in by_class_option.items():
        v.n_[(k, o)] = _sum_or_var(v, terms, len(inst.class_members[k]), f"n[{k},{o}]")


def _special(v: Vars, a: int, o: int, var: Expr) -> None:
    """An agent-day with training: breaks placed explicitly, never inside the training."""
    inst = v.inst
    opt = inst.options[o]
    s = inst.problem.slot_minutes
    prep = inst.agents[a]
    unavailable = {
        t
        for lo, hi in prep.on_shift_leave[opt.day]
        for t in opt.slots
        if t * s < hi and lo < (t + 1) * s
    }
    shift = SpecialShift(agent=a, option=o, var=var, unavailable=unavailable)
    for b, (first, last, dur) in enumerate(opt.break_windows):
        starts = {}
        for t in range(first, last + 1):
            if not any(u in unavailable for u in range(t, t + dur)):
                starts[t] = v.bool_var(f"eb[{a},{o},{b},{t}]")
        shift.breaks.append(starts)
        v.add(sum(starts.values()) == var)
    v.special_[prep.class_index].append(shift)


def add_breaks(v: Vars) -> None:
    """Break placement per class and option, as counts: z[k, o, b, t] agents of class k working
    option o start break b in slot t (inside its window); per (k, o, b) they add up to n(k, o).

    (An implicit formulation, break starts per class and type matched to shifts by interval Hall
    conditions, has fewer variables but prefix-sum constraints that made CP-SAT's search much
    slower; this one keeps each count in one assignment row.)
    """
    inst = v.inst
    for (k, o), n in v.n_.items():
        opt = inst.options[o]
        hi = len(inst.class_members[k])
        for b, (first, last, _dur) in enumerate(opt.break_windows):
            if isinstance(n, int) and n == 0:
                continue
            starts = {t: v.int_var(0, hi, f"z[{k},{o},{b},{t}]") for t in range(first, last + 1)}
            v.br_[(k, o, b)] = starts
            v.add(sum(starts.values()) == n)


def add_pools(v: Vars) -> None:
    """Per class and slot (in the window): on shift, on break, available, on duty; decided shifts
    of neighbouring days or fixed agents enter as constants."""
    inst = v.inst
    on: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    off: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # briefing
    brk: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    train: dict[tuple[int, int], list[Expr]] = defaultdict(list)

    run_starts: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # on shift from t
    run_ends: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # on shift until t - 1

    def shift_slots(k: int, o: int, amount: Expr, unavailable: Iterable[int] = ()) -> None:
        opt = inst.options[o]
        blocked = set(unavailable)
        prev: int | None = None
        for i, t_abs in enumerate(opt.slots):
            t = v.slot(t_abs)  # wrapped on a cyclic horizon
            if t is None:
                continue
            if prev is None or prev != t - 1:
                if prev is not None:
                    run_ends[(k, prev + 1)].append(amount)
                run_starts[(k, t)].append(amount)
            prev = t
            on[(k, t)].append(amount)
            if i < opt.briefing_slots:
                off[(k, t)].append(amount)
            if t_abs in blocked:
                train[(k, t)].append(amount)
        if prev is not None:
            run_ends[(k, prev + 1)].append(amount)

    def break_slots(k: int, o: int, b: int, t0: int, amount: Expr) -> None:
        for t_abs in range(t0, t0 + inst.options[o].break_windows[b][2]):
            t = v.slot(t_abs)
            if t is not None:
                brk[(k, t)].append(amount)

    for (k, o), n in v.n_.items():
        shift_slots(k, o, n)
    for (k, o, b), br in v.br_.items():
        for t0, var in br.items():
            break_slots(k, o, b, t0, var)
    for k, specials in v.special_.items():
        for sp in specials:
            shift_slots(k, sp.option, sp.var, sp.unavailable)
            for b, starts in enumerate(sp.breaks):
                for t0, var in starts.items():
                    break_slots(k, sp.option, b, t0, var)
    for fs in v.fixed_shifts:
        shift_slots(fs.klass, fs.option, fs.count, fs.unavailable)
        for b, t0 in enumerate(fs.breaks):
            break_slots(fs.klass, fs.option, b, t0, fs.count)
    # the chained form refers to the slot before, so it goes slot by slot
    pools = sorted(on.items()) if v.chain_pools else list(on.items())
    for (k, t), terms in pools:
        hi = len(inst.class_members[k])
        opening, closing = run_starts.get((k, t), []), run_ends.get((k, t), [])
        if v.chain_pools and _chained(v, t, terms, opening, closing):
            # on shift now = on shift in the slot before + runs starting - runs ended: two
            # terms per shift instead of one per slot it covers (a sparse, equivalent form)
            before = v.on_shift_.get((k, t - 1), 0)
            shift: Expr = v.int_var(0, hi, f"on[{k},{t}]")
            v.model.add(shift == before + sum(opening) - sum(closing))
        else:
            shift = _sum_or_var(v, terms, hi, f"on[{k},{t}]")
        brk_e = _sum_or_var(v, brk.get((k, t), []), hi, f"brk[{k},{t}]")
        v.on_shift_[(k, t)] = shift
        v.on_break_[(k, t)] = brk_e
        v.duty_[(k, t)] = shift - brk_e - sum(train.get((k, t), []))
        avail = shift - brk_e - sum(off.get((k, t), [])) - sum(train.get((k, t), []))
        v.avail_[(k, t)] = _sum_or_var(v, [avail], hi, f"avail[{k},{t}]")


def _chained(v: Vars, t: int, terms: list[Expr], starts: list[Expr], ends: list[Expr]) -> bool:
    """Is the slot-before difference form shorter than the plain sum here (and possible: the
    slot before is modelled)?"""
    if t == 0 or not v.in_window(t - 1):
        return False
    return len(starts) + len(ends) + 1 < len(terms)


def _open(v: Vars, c: int, t: int) -> bool:
    ch = v.inst.problem.channels[c]
    return not ch.open or ch.open[t]


def add_channel_split(v: Vars) -> None:
    """Each available agent covers exactly one open channel it is skilled for; with none open it
    is idle (paid, counted as over-cover)."""
    inst = v.inst
    cover: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    for (k, t), avail in v.avail_.items():
        skills = [inst.channel_index[c] for c in inst.classes[k].skills]
        open_ = [c for c in skills if _open(v, c, t)]
        if not open_:
            v.idle_[(k, t)] = avail
            continue
        if len(open_) == 1:
            v.w_[(k, open_[0], t)] = avail
        else:
            hi = len(inst.class_members[k])
            parts = [v.int_var(0, hi, f"w[{k},{c},{t}]") for c in open_]
            v.model.add(sum(parts) == avail)
            for c, var in zip(open_, parts, strict=True):
                v.w_[(k, c, t)] = var
        for c in open_:
            cover[(c, t)].append(v.w_[(k, c, t)])
    for key, terms in cover.items():
        v.coverage_[key] = sum(terms)


def _deferred_as_target(v: Vars, c: int) -> bool:
    """Day models staff a deferred channel to its level-loaded plan when one is given (a
    per-slot requirement); the polish and the validator keep the exact backlog model."""
    ch = v.inst.problem.channels[c]
    return v.deferred_as_target and ch.kind is ChannelKind.deferred and any(v.required(c))


def add_coverage(v: Vars) -> None:
    """Soft: per voice/chat channel and slot, under- and over-cover against the requirement;
    idle paid time counts as over-cover."""
    p = v.inst.problem
    total = len(p.agents)
    for c, ch in enumerate(p.channels):
        if ch.kind is ChannelKind.deferred and not _deferred_as_target(v, c):
            continue
        wu, wo = p.channel_weights(ch)
        required = v.required(c)
        if ch.kind is ChannelKind.deferred:
            _behind_plan(v, c, required)
        for t in v.slots():
            req = required[t]
            cov = v.coverage(c, t)
            if isinstance(cov, int):
                if req > cov:
                    v.penalize("coverage.under", f"{ch.id}:{t}", req - cov, wu)
                elif cov > req:
                    v.penalize("coverage.over", f"{ch.id}:{t}", cov - req, wo)
                continue
            under = v.int_var(0, max(req, 0), f"under[{c},{t}]")
            over = v.int_var(0, total, f"over[{c},{t}]")
            v.add(cov + under - over == req)
            v.penalize("coverage.under", f"{ch.id}:{t}", under, wu)
            v.penalize("coverage.over", f"{ch.id}:{t}", over, wo)
    for (k, t), idle in v.idle_.items():
        v.penalize("coverage.over", f"idle:{k}:{t}", idle, p.weights.over_cover)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for t, f in enumerate([*flags, False]):
        if f and start is None:
            start = t
        elif not f and start is not None:
            runs.append((start, t - 1))
            start = None
    return runs


def _day_runs(v: Vars, flags: list[bool]) -> list[tuple[int, int]]:
    """Runs of flagged slots, cut at midnight (one explanation literal per day and run)."""
    per_day = 1440 // v.inst.problem.slot_minutes
    out = []
    for first, last in _runs(flags):
        t = first
        while t <= last:
            end = min(last, (t // per_day + 1) * per_day - 1)
            out.append((t, end))
            t = end + 1
    return out


def add_min_staff(v: Vars) -> None:
    """Hard: at least min_staff agents on the channel in every slot."""
    p = v.inst.problem
    for c, ch in enumerate(p.channels):
        if not ch.min_staff:
            continue
        flags = [m > 0 and v.in_window(t) for t, m in enumerate(ch.min_staff)]
        for first, last in _day_runs(v, flags):
            top = max(ch.min_staff[first : last + 1])
            lits = v.enforce(
                "min_staff",
                f"{ch.id}:{first}",
                f"min_staff {ch.id} = {top} on "
                f"{slot_range_name(p.horizon_start, first, last, p.slot_minutes)}",
            )
            for t in range(first, last + 1):
                v.at_least("min_staff", f"{ch.id}:{t}", v.coverage(c, t), ch.min_staff[t], lits)


def add_roles(v: Vars) -> None:
    """Hard: at least `count` agents with the role on duty (on shift, not on break or training)."""
    p = v.inst.problem
    for ri, req in enumerate(p.roles):
        classes = [k for k, (_, roles) in enumerate(v.inst.classes) if req.role in roles]
        for first, last in _day_runs(v, [f and v.in_window(t) for t, f in enumerate(req.slots)]):
            when = req.label or slot_range_name(p.horizon_start, first, last, p.slot_minutes)
            lits = v.enforce(
                "role_coverage",
                f"{req.role}:{ri}:{first}",
                f"{req.count} {req.role} on duty {when} "
                f"({slot_range_name(p.horizon_start, first, last, p.slot_minutes)})",
            )
            for t in range(first, last + 1):
                duty = sum(v.on_duty(k, t) for k in classes)
                v.at_least("role_coverage", f"{req.role}:{t}", duty, req.count, lits)


def add_break_share_cap(v: Vars) -> None:
    """Hard: per channel (agents whose first skill it is), at most ceil(share x on shift) agents
    on break in a slot (so one may always go, and a quarter of eight means two)."""
    p = v.inst.problem
    share = p.rules.max_on_break_share
    if share >= 1:
        return
    num = round(share * 100)
    by_primary: dict[int, list[int]] = defaultdict(list)
    for k, (skills, _) in enumerate(v.inst.classes):
        if skills:
            by_primary[v.inst.channel_index[skills[0]]].append(k)
    for c, classes in by_primary.items():
        lits = v.enforce(
            "break_share",
            p.channels[c].id,
            f"at most {share:.0%} of {p.channels[c].id} staff on break at once",
        )
        for t in v.slots():
            on_break = [v.on_break(k, t) for k in classes]
            if all(isinstance(b, int) for b in on_break):
                continue
            shift = sum(v.on_shift(k, t) for k in classes)
            # breaks <= ceil(share x shift)  <=>  100 breaks <= num x shift + 99 (integers)
            v.at_least(
                "break_share",
                f"{p.channels[c].id}:{t}",
                num * shift + 99 - 100 * sum(on_break),
                0,
                lits,
                unit=100,
            )


def _behind_plan(v: Vars, c: int, plan: list[int]) -> None:
    """A deferred channel staffed to its plan (day models): the plan's agent-slots not yet
    worked wait in a queue that capacity above the plan works off, each agent-slot costing as
    overdue work for every slot it waits, and still waiting at the window's end for the slots
    until the plan next staffs the channel (the first chance to catch up). Priced per slot
    short instead, a shortfall at 19:30 cost an hour of lateness where the validator counted
    the night (robustness seed 17: 4,605 overdue after the day models against the LP's 418)."""
    p = v.inst.problem
    slots = list(v.slots())
    if not slots:
        return
    w = p.weights.deferred_late
    most = v.deferred_behind.get(c, 0)
    queue: Expr = most
    for t in slots:
        most += max(0, plan[t])
        behind = v.int_var(0, most, f"behind[{c},{t}]")
        v.add(behind >= queue + plan[t] - v.coverage(c, t))
        v.penalize("deferred.late", f"{p.channels[c].id}:plan:{t}", behind, w)
        queue = behind
    last = slots[-1]
    gap = next((t - last for t in range(last + 1, p.n_slots) if plan[t] > 0), p.n_slots - last)
    if gap > 1:
        v.penalize("deferred.late", f"{p.channels[c].id}:plan:tail", queue, w * (gap - 1))


def add_deferred(v: Vars) -> None:
    """Soft: deferred channels, per work class (its deadlines follow arrival order). u[k, t]
    units (tenths of an agent-slot) of class k are done in slot t; done work never runs ahead
    of arrivals; work due and not done is overdue, costing per slot; capacity not used for work
    is idle (over-cover). The split across classes is free, which is what earliest deadline
    first achieves, so the cost equals the validator's. In a day window the cumulative sums are
    written out (small, LP-friendly) from the units done before the window; over the whole
    horizon they are running sums."""
    p = v.inst.problem
    w_late = p.weights.deferred_late / WORK_UNITS
    slots = list(v.slots())
    for c, ch in enumerate(p.channels):
        if ch.kind is not ChannelKind.deferred or ch.deferred is None:
            continue
        if _deferred_as_target(v, c):
            continue  # the day models staff to the level-loaded plan (see add_coverage)
        used: dict[int, list[Expr]] = defaultdict(list)
        # no slot does more work than every skilled agent on the channel can (a bound the
        # model implies; stated, it keeps the LP's Lagrangian bound from PDLP tight)
        most = WORK_UNITS * sum(1 for agent in p.agents if ch.id in agent.skills)
        for k, (arr, due) in enumerate(zip(ch.deferred.arrived, ch.deferred.due, strict=True)):
            a_units, d_units = work_units(arr, due)
            if not a_units or a_units[-1] == 0:
                continue
            base = v.deferred_done.get((c, k), 0)
            done: Expr = base
            for t in slots:
                cap = v.coverage(c, t)
                room = a_units[t] - base
                if room > 0 and not (isinstance(cap, int) and cap == 0):
                    u = v.int_var(0, min(room, most), f"u[{c},{k},{t}]")
                    v.deferred_u_[(c, k, t)] = u
                    used[t].append(u)
                    if v.window is None:
                        nxt = v.int_var(0, a_units[t], f"cu[{c},{k},{t}]")
                        v.add(nxt == done + u)
                        done = nxt
                    else:
                        done = done + u
                    v.add(done <= a_units[t])
                if d_units[t] > base:
                    late = v.int_var(0, d_units[t], f"late[{c},{k},{t}]")
                    v.add(late >= d_units[t] - done)
                    v.penalize("deferred.late", f"{ch.id}:{k}:{t}", late, w_late)
            if v.window is not None and slots:
                # work due by the window's end and not done: overdue a while longer
                last = slots[-1]
                if d_units[last] > base:
                    tail = v.int_var(0, d_units[last], f"tail[{c},{k}]")
                    v.add(tail >= d_units[last] - done)
                    v.penalize("deferred.late", f"{ch.id}:{k}:tail", tail, w_late * LATE_SLOTS)
        for t in slots:
            cap = v.coverage(c, t)
            if isinstance(cap, int) and cap == 0:
                continue
            v.add(sum(used.get(t, [])) <= WORK_UNITS * cap)
            idle = v.int_var(0, WORK_UNITS * len(p.agents), f"didle[{c},{t}]")
            v.add(idle >= WORK_UNITS * cap - sum(used.get(t, [])))
            v.penalize("coverage.over", f"{ch.id}:{t}", idle, p.weights.over_cover / WORK_UNITS)
