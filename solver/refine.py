"""Bounded refinement on the exact model: re-solve a neighbourhood, keep what the validator likes.

A neighbourhood is a set of free agents and a run of days. Their shifts on those days become
variables (every agent rule of the exact model applies, with their other days as constants); every
other shift that reaches into the window is a constant with its breaks; the coverage core is
modelled on the window's slots only, so the model stays small whatever the centre's size. A move
is kept only when the whole roster, re-checked by the validator, has fewer hard-rule violations,
or as many and a lower objective. Repair moves go first, built around a broken floor, role cover
or break cap; then random moves until the time is up.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver import budget
from solver.channels import best_channels
from solver.constraints import AGENT, CORE
from solver.days import day_window, slots_per_day
from solver.extract import assemble, int_value
from solver.greedy import fill_idle, greedy_breaks, greedy_channels
from solver.model import set_objective, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import ShiftAssignment
from solver.units import deferred_done
from solver.validate import Validation, validate
from solver.variables import FixedShift, Vars

__all__ = ["RosterState", "refine", "state_from", "state_of", "with_best_channels"]


@dataclass
class RosterState:
    chosen: dict[int, list[int]]
    breaks: dict[tuple[int, int], list[int]]
    channels: dict[tuple[int, int, int], int]
    grants: dict[int, bool]
    roster: list[ShiftAssignment] = field(default_factory=list)
    validation: Validation = field(default_factory=Validation)

    @property
    def score(self) -> tuple[int, float]:
        return len(self.validation.violations), self.validation.objective


def state_of(
    inst: Instance,
    chosen: dict[int, list[int]],
    breaks: dict[tuple[int, int], list[int]],
    channels: dict[tuple[int, int, int], int],
    grants: dict[int, bool],
) -> RosterState:
    channels = fill_idle(inst, chosen, breaks, channels)
    roster = assemble(inst, chosen, breaks, channels)
    return RosterState(
        chosen=chosen,
        breaks=breaks,
        channels=channels,
        grants=grants,
        roster=roster,
        validation=validate(inst.problem, roster),
    )


def state_from(inst: Instance, roster: Sequence[ShiftAssignment]) -> RosterState:
    """A roster given as assignments (a published one) as a state refinement can start from:
    each shift matched to its option (a shift the agent may no longer work, e.g. now on leave,
    is dropped), its breaks where they were when they still fit the option's windows (else
    placed greedily), its channels as worked, slot by slot."""
    p = inst.problem
    s = p.slot_minutes
    chosen: dict[int, list[int]] = defaultdict(list)
    breaks: dict[tuple[int, int], list[int]] = {}
    channels: dict[tuple[int, int, int], int] = defaultdict(int)
    known = {a.id for a in inst.agents}
    for sh in roster:
        if sh.agent_id not in known:
            continue
        prep = inst.agent(sh.agent_id)
        match = [
            o
            for o in prep.options_by_day.get(sh.day, [])
            if inst.options[o].start == sh.start
            and inst.options[o].length == sh.length
            and inst.options[o].type_id == sh.shift_type
        ]
        if not match:
            continue
        o = match[0]
        opt = inst.options[o]
        chosen[prep.index].append(o)
        starts = sorted(b.start // s for b in sh.breaks)
        if len(starts) == len(opt.break_windows) and all(
            first <= t <= last
            for t, (first, last, _dur) in zip(starts, opt.break_windows, strict=True)
        ):
            breaks[(prep.index, o)] = starts
        for seg in sh.work:
            if seg.channel is None or seg.channel not in inst.channel_index:
                continue
            c = inst.channel_index[seg.channel]
            for t in range(seg.start // s, seg.end // s):
                tt = p.slot_index(t)
                if tt is not None:
                    channels[(prep.class_index, c, tt)] += 1
    if any((a, o) not in breaks for a, opts in chosen.items() for o in opts):
        breaks = greedy_breaks(inst, dict(chosen), fixed=breaks)
    # more on a channel than are free (breaks placed again, segments over a break) is cut by
    # state_of (greedy.fill_idle)
    return state_of(inst, dict(chosen), breaks, dict(channels), {})


def with_best_channels(inst: Instance, state: RosterState) -> RosterState:
    """The roster with its channel split made optimal for its shifts and breaks
    (``solver.channels``), when that scores better."""
    channels = best_channels(inst, state.chosen, state.breaks)
    if channels is None:
        return state
    cand = state_of(inst, state.chosen, state.breaks, channels, state.grants)
    return cand if cand.score < state.score else state


def _training_slots(inst: Instance, a: int, o: int) -> frozenset[int]:
    opt = inst.options[o]
    s = inst.problem.slot_minutes
    return frozenset(
        t
        for lo, hi in inst.agents[a].on_shift_leave.get(opt.day, [])
        for t in opt.slots
        if t * s < hi and lo < (t + 1) * s
    )


def _move(
    inst: Instance,
    state: RosterState,
    free: set[int],
    days: range,
    options: SolveOptions,
    time_limit: float,
    breaks_only: bool = False,
    hard_only: bool = False,
) -> RosterState | None:
    """Re-solve the neighbourhood; the candidate roster, or None if nothing was found.

    ``breaks_only``: the free agents keep their shifts; only their breaks and channels move
    (a small model, however many agents, that repairs floors and role cover broken by breaks).
    ``hard_only``: the cost of coverage and deferred work is left out (a move that only has to
    make the hard rules hold, started from the current roster; later moves win the cover back).
    """
    lo = days.start * slots_per_day(inst)
    hi = max(day_window(inst, d)[1] for d in days)
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst, window=(lo, hi))
    v.free_agents = set(free)
    hint: dict[Any, int] = {}
    for a in free:
        prep = inst.agents[a]
        worked = set(state.chosen.get(a, []))
        for d, opts in prep.options_by_day.items():
            if d in days and not breaks_only:
                for o in opts:
                    var = model.new_bool_var(f"x[{a},{o}]")
                    v.x_[(a, o)] = var
                    hint[var] = int(o in worked)
        for o in worked:
            if inst.options[o].day not in days:
                v.x_[(a, o)] = 1
                v.rule_only.add((a, o))
            elif breaks_only:
                v.x_[(a, o)] = 1
        for li in prep.requests:
            current = int(state.grants.get(li, False))
            if breaks_only:
                v.grant_[li] = current
            else:  # a free agent's requests are decided again with their shifts
                var = model.new_bool_var(f"grant[{li}]")
                v.grant_[li] = var
                hint[var] = current
    for a, opts in state.chosen.items():
        for o in opts:
            opt = inst.options[o]
            if a in free and opt.day in days:
                continue
            if opt.first_slot < hi and opt.first_slot + opt.n_slots > lo:
                v.fixed_shifts.append(
                    FixedShift(
                        klass=inst.agents[a].class_index,
                        option=o,
                        breaks=tuple(state.breaks[(a, o)]),
                        unavailable=_training_slots(inst, a, o),
                    )
                )
    v.deferred_done = deferred_done(inst.problem, state.channels, lo)
    everyone = len(free) == len(inst.agents)
    for rule in () if breaks_only else AGENT:
        # fairness spans every agent: modelled when all are free, else judged by the validator
        if rule.id != "fairness" or everyone:
            rule.add(v)
    for rule in CORE:
        if not (hard_only and rule.id in _COVER_COSTS):
            rule.add(v)
    if hard_only:
        # without the cover costs, keep the roster as it is wherever the hard rules allow: a
        # day's shift moved or added costs one, a shift dropped two (its cover is lost; by
        # shift variables alone a moved start cost two and a dropped shift one, so a repair
        # dropped shifts where moving them kept the cover)
        moved: list[Any] = []
        for a in free:
            worked = set(state.chosen.get(a, []))
            for opts in inst.agents[a].options_by_day.values():
                xs = [v.x_[(a, o)] for o in opts if not isinstance(v.x_.get((a, o), 0), int)]
                if not xs:
                    continue
                kept = [v.x_[(a, o)] for o in opts if o in worked and (a, o) in v.x_]
                if kept:
                    moved += [1 - kept[0], 1 - sum(xs)]
                else:
                    moved.append(sum(xs))
        if moved:
            v.penalize("moves", "free agents", sum(moved), 1.0, "shifts changed")
    set_objective(v)
    # hint the current breaks and channel split
    current_breaks: dict[tuple[int, int, int], dict[int, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for a in free:
        for o in state.chosen.get(a, []):
            if inst.options[o].day in days:
                for b, t in enumerate(state.breaks[(a, o)]):
                    current_breaks[(inst.agents[a].class_index, o, b)][t] += 1
    for key, starts in v.br_.items():
        for t, var in starts.items():
            hint[var] = current_breaks.get(key, {}).get(t, 0)
    for key, var in v.w_.items():
        if isinstance(var, cp_model.IntVar) and key in state.channels:
            hint[var] = state.channels[key]
    out = solve_cp(v, options, time_limit, hint=hint)
    if not out.has_solution:
        return None
    sol = out.solver
    chosen = {a: list(opts) for a, opts in state.chosen.items()}
    breaks = dict(state.breaks)
    for a in free:
        keep = [o for o in chosen.get(a, []) if inst.options[o].day not in days]
        for o in chosen.get(a, []):
            if inst.options[o].day in days:
                breaks.pop((a, o), None)
        new = [
            o
            for (aa, o), var in v.x_.items()
            if aa == a and inst.options[o].day in days and int_value(sol, var)
        ]
        chosen[a] = sorted(keep + new, key=lambda o: inst.options[o].start)
    by_class_option: dict[tuple[int, int], list[int]] = defaultdict(list)
    for a in sorted(free):
        for o in chosen.get(a, []):
            if inst.options[o].day in days:
                breaks[(a, o)] = [-1] * len(inst.options[o].break_windows)
                if inst.options[o].day not in inst.agents[a].on_shift_leave:
                    by_class_option[(inst.agents[a].class_index, o)].append(a)
    for (k, o, b), starts in v.br_.items():
        slots = [t for t, var in sorted(starts.items()) for _ in range(int_value(sol, var))]
        for a, t in zip(by_class_option.get((k, o), []), slots, strict=False):
            breaks[(a, o)][b] = t
    for specials in v.special_.values():
        for sp in specials:
            if int_value(sol, sp.var):
                breaks[(sp.agent, sp.option)] = [
                    next(t for t, var in s.items() if int_value(sol, var)) for s in sp.breaks
                ]
    channels = {key: n for key, n in state.channels.items() if not lo <= key[2] < hi}
    for (k, c, t), var in v.w_.items():
        n = int_value(sol, var)
        if n:
            channels[(k, c, t)] = n
    if any(-1 in starts for starts in breaks.values()):
        return None
    grants = dict(state.grants)
    grants.update({li: bool(int_value(sol, g)) for li, g in v.grant_.items()})
    return state_of(inst, chosen, breaks, channels, grants)


def _repair_targets(
    inst: Instance, state: RosterState, rng: random.Random, size: int
) -> tuple[set[int], range] | None:
    """A neighbourhood around a broken per-slot rule: agents who could help, the day(s) around."""
    p = inst.problem
    spd = slots_per_day(inst)
    slot_rules = [x for x in state.validation.violations if x.slot is not None]
    agent_rules = [x for x in state.validation.violations if x.agent is not None]
    if slot_rules:
        x = rng.choice(slot_rules)
        assert x.slot is not None
        t = x.slot
        # agents who could be there: the role or skill, and an option covering the slot
        covering = {o.index for o in inst.options if t in o.slots}
        if x.rule == "role_coverage":
            fit = [a for a in inst.agents if x.subject in a.agent.roles]
        else:
            fit = [a for a in inst.agents if x.subject in a.agent.skills]
        pool = [
            a.index
            for a in fit
            if any(o in covering for opts in a.options_by_day.values() for o in opts)
        ]
        first = min((inst.options[o].day for o in covering), default=t // spd)
        days = range(max(0, first), min(p.days, t // spd + 1))
        if rng.random() < 0.5:
            # half the time their whole week, fewer of them: an agent at their weekly limit
            # (hours, days off) can take the shift only by giving up another day's
            days = range(p.days)
            size = max(2, size // 2)
    elif agent_rules:
        x = rng.choice(agent_rules)
        pool = [inst.agent(x.agent).index] if x.agent else []
        days = range(p.days)
    else:
        return None
    rng.shuffle(pool)
    free = set(pool[: max(1, size // 2)])
    others = [a.index for a in inst.agents if a.index not in free]
    rng.shuffle(others)
    free.update(others[: size - len(free)])
    return free, days


_COVER_COSTS = frozenset({"coverage", "deferred.late", "shift_cover", "shifts.distinct"})

_ROLE_MOVE_MAX = 48
"""Holders of a role freed at once to repair its cover."""

_EVERYONE_MAX = 1_000
"""Agent-days up to which a broken break cap frees everyone at once (60 agents x 7 days: the
hard rules alone solve in 10-12 s)."""

_WINDOW_S = 15.0
"""Seconds for one window of ``_everyone_moves`` shorter than the horizon."""

_DAY_S = 4.0
"""Seconds for ``_day_moves`` on one broken day."""

_DAY_MAX = 300
"""Agents up to which ``_day_moves`` frees everyone on a broken day."""


def _day_moves(
    inst: Instance,
    state: RosterState,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None,
) -> RosterState:
    """Each day with a broken per-slot rule (floor, role cover, break cap) once, alone (with the
    evening before when its shifts reach the broken slots), with every agent free on it and
    the hard rules only (the roster kept wherever they allow): the
    day's shift starts and kinds moved with the rest of the horizon kept repair in a second
    or two what the day's breaks alone cannot (robustness seed 16: four office lunches in a
    90-minute window with eleven on shift; repaired in 1.2 s, where the cap's own agents free
    over the week found nothing in 3 s and everyone free over the week broke 14 slots in
    10)."""
    n = len(inst.agents)
    if n > _DAY_MAX:
        return state
    tried: set[int] = set()
    while time_left() > 3.0:
        broken = _broken_slots(inst, state)
        bad = sorted(set(broken) - tried)
        if not bad:
            break
        d = bad[0]
        tried.add(d)
        limit = min(0.3 * time_left(), _DAY_S)
        days = range(_first_covering(inst, d, broken[d]), d + 1)
        cand = _hard_move(inst, state, set(range(n)), days, options, limit)
        state = _better(state, cand, report)
    return state


def _first_covering(inst: Instance, d: int, slots: list[int]) -> int:
    """The first day whose shifts reach any of day ``d``'s ``slots``: a floor broken at 02:00
    is a matter of the night shifts that started the evening before (freed on day ``d`` alone,
    no shift could reach it: the example month's weeks kept 4-10 such slots each)."""
    first = d
    for o in inst.options:
        if o.day < first and any(t in o.slots for t in slots):
            first = o.day
    return first


def _everyone_moves(
    inst: Instance,
    state: RosterState,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None,
) -> RosterState:
    """A break cap still broken after the pooled moves: the hard rules over everyone, the
    roster kept wherever they allow, over the whole horizon when it has at most
    ``_EVERYONE_MAX`` agent-days, else over the week (3 days, a day) around each broken day. A
    cap at forced lunches may need office days off moved and others' shifts moved to noon
    across the week, with the floors those others kept: robustness seed 7 kept 10 slots after
    the pooled moves, 8 with every agent of the channel free, none in 10-12 s with everyone
    free. Each broken day gets one window; a failed window is not tried again."""
    p = inst.problem
    n = len(inst.agents)
    spd = slots_per_day(inst)
    span = next((k for k in (p.days, 7, 3, 1) if k <= p.days and n * k <= _EVERYONE_MAX), None)
    if span is None:
        return state
    tried: set[int] = set()
    while time_left() > 5.0:
        bad = sorted(
            {
                min(p.days - 1, x.slot // spd)
                for x in state.validation.violations
                if x.rule == "break_share" and x.slot is not None
            }
            - tried
        )
        if not bad:
            break
        first = max(0, min(bad[0] - span // 2, p.days - span))
        days = range(first, first + span)
        tried.update(days)
        limit = 0.8 * time_left() if span == p.days else min(0.8 * time_left(), _WINDOW_S)
        cand = _hard_move(inst, state, set(range(n)), days, options, limit)
        state = _better(state, cand, report)
    return state


def _better(
    state: RosterState,
    cand: RosterState | None,
    report: Callable[[RosterState], None] | None,
) -> RosterState:
    """The candidate when it scores better (reported), else the roster as it was."""
    if cand is None or cand.score >= state.score:
        return state
    if report:
        report(cand)
    return cand


def _hard_move(
    inst: Instance,
    state: RosterState,
    free: set[int],
    days: range,
    options: SolveOptions,
    time_limit: float,
    breaks_only: bool = False,
) -> RosterState | None:
    """``_move`` with the hard rules only; that model splits everyone in its window across
    channels without their costs, so the split is made again, greedily, where it helps most
    (kept when the roster scores better)."""
    cand = _move(inst, state, free, days, options, time_limit, breaks_only, hard_only=True)
    if cand is None:
        return None
    split = greedy_channels(inst, cand.chosen, cand.breaks)
    again = state_of(inst, cand.chosen, cand.breaks, split, cand.grants)
    return again if again.score < cand.score else cand


def _pool(inst: Instance, state: RosterState, x: Any) -> list[int]:
    """The agents a broken role cover or break cap turns on: a role's holders; for a break cap,
    the agents of the channel (their first skill) on break in the slot, whose breaks may be
    forced there (a long lunch with a narrow window), then those who could be on shift in it
    and are not (one more on shift raises the cap)."""
    if x.rule == "role_coverage":
        return [a.index for a in inst.agents if x.subject in a.agent.roles]
    t = x.slot
    mine = [a for a in inst.agents if a.agent.skills and a.agent.skills[0] == x.subject]
    away: list[int] = []
    could: list[int] = []
    for a in mine:
        here = [o for o in state.chosen.get(a.index, []) if t in inst.options[o].slots]
        if here:
            o = here[0]
            starts = state.breaks.get((a.index, o), [])
            if any(
                s <= t < s + w[2]
                for s, w in zip(starts, inst.options[o].break_windows, strict=False)
            ):
                away.append(a.index)
        elif any(t in inst.options[o].slots for opts in a.options_by_day.values() for o in opts):
            could.append(a.index)
    return away + could


_POOLED = ("role_coverage", "break_share")


def _role_targets(
    inst: Instance, state: RosterState, tried: set[tuple[int, str, int, int]]
) -> tuple[set[int], range] | None:
    """Every holder of a role whose cover is broken (or the agents a broken break cap turns on,
    ``_pool``), free over the whole horizon, then the week around the broken day, the day
    itself and the day with the one before (whose night shifts reach into it): start times,
    shift kinds, breaks and channels of all of them decided together, their other days kept.
    A role's cover on a day depends on how its few holders' shifts and breaks interleave, and
    a break cap at a forced lunch on who works that day, which random neighbourhoods rarely
    free at once. Each (violations, rule and subject, days) is tried once."""
    spd = slots_per_day(inst)
    n_days = inst.problem.days
    n_bad = len(state.validation.violations)
    whole = (0, n_days - 1)
    for x in state.validation.violations:
        if x.rule not in _POOLED or x.slot is None:
            continue
        d = min(n_days - 1, x.slot // spd)
        week = (max(0, min(d - 3, n_days - 7)), min(n_days - 1, max(d + 3, 6)))
        for first, last in (whole, week, (d, d), (d - 1, d)):
            key = (n_bad, f"{x.rule}:{x.subject}", max(0, first), last)
            if first < 0 or key in tried:
                continue
            tried.add(key)
            days = range(first, last + 1)
            # the agents of every slot of this rule and subject broken on these days
            pool = list(
                dict.fromkeys(
                    a
                    for y in state.validation.violations
                    if (y.rule, y.subject) == (x.rule, x.subject)
                    and y.slot is not None
                    and min(n_days - 1, y.slot // spd) in days
                    for a in _pool(inst, state, y)
                )
            )
            # those who may work one of these days, the ones already on shift first
            on = [
                a for a in pool if any(inst.options[o].day in days for o in state.chosen.get(a, []))
            ]
            able = [
                a
                for a in pool
                if a not in on and any(inst.agents[a].options_by_day.get(dd) for dd in days)
            ]
            free = set((on + able)[:_ROLE_MOVE_MAX])
            if free:
                return free, days
    return None


def _day_costs(inst: Instance, state: RosterState) -> list[float]:
    """The roster's cover and deferred-work costs per day (by the slot each is charged in)."""
    per = slots_per_day(inst)
    out = [0.0] * inst.problem.days
    for x in state.validation.penalties:
        if x.rule_id.startswith(("coverage.", "deferred.")):
            tail = x.subject.rsplit(":", 1)[-1]
            if tail.isdigit() and int(tail) // per < len(out):
                out[int(tail) // per] += x.cost
    return out


def _random_targets(
    inst: Instance, rng: random.Random, size: int, span: int, costs: list[float] | None = None
) -> tuple[set[int], range]:
    """Agents and days to free: a random class's agents and others on a random day, or (with
    ``costs``, every other move) on a day drawn by its cover and deferred-work cost, so the
    search spends its moves where the roster loses most (work late overnight is charged on
    the morning after, and the window of two days reaches back to its evening)."""
    p = inst.problem
    if costs is not None and sum(costs) > 0 and rng.random() < 0.5:
        d = rng.choices(range(p.days), weights=costs)[0]
    else:
        d = rng.randrange(p.days)
    days = range(max(0, d - span + 1), d + 1)
    k = rng.randrange(len(inst.class_members))
    pool = list(inst.class_members[k])
    rng.shuffle(pool)
    free = set(pool[: max(1, size // 2)])
    others = [a.index for a in inst.agents if a.index not in free]
    rng.shuffle(others)
    free.update(others[: size - len(free)])
    return free, days


def _try_breaks(
    inst: Instance,
    state: RosterState,
    days: range,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None,
    around: list[int] | None = None,
) -> RosterState:
    """Re-place the breaks and channels of every shift on ``days`` (``around``: only of the
    shifts within a few hours of these slots, a much smaller model); keep what is better."""
    reach = 4 * 60 // inst.problem.slot_minutes

    def near(o: int) -> bool:
        opt = inst.options[o]
        if opt.day not in days:
            return False
        if around is None:
            return True
        return any(
            opt.first_slot - reach <= t < opt.first_slot + opt.n_slots + reach for t in around
        )

    working = {a for a, opts in state.chosen.items() if any(near(o) for o in opts)}
    if not working:
        return state
    if around is not None:
        # around broken slots: the hard rules alone (a break cap or floor only needs the
        # breaks spread; in well under a second where the model with the cover costs takes
        # its whole 3 s, and when the breaks alone cannot repair it, neither can that model)
        limit = min(time_left() - 1.0, 3.0)
        return _better(state, _hard_move(inst, state, working, days, options, limit, True), report)
    cand = _move(inst, state, working, days, options, min(time_left() - 1.0, BREAKS_S), True)
    return _better(state, cand, report)


MOVE_S = 2.0
"""Seconds for one move of the improvement loop. Most of its models (16 agents, a day or two)
are solved or nearly in that time; more time per move means fewer moves: measured from the
same rosters (robustness weeks 3, 8, 14, 19, 30 at 60 agents, 30 s of refinement) 6 s moves
ended 11-46 % above 2 s moves, 1-1.5 s no better than 2 s (single runs, noisy)."""

REPAIR_MOVE_S = 6.0
"""Seconds for a move built around a broken rule (``_repair_targets``)."""

BREAKS_S = 8.0
"""Seconds for re-placing one day's breaks with the cover costs (``_try_breaks``)."""


def _broken_slots(inst: Instance, state: RosterState) -> dict[int, list[int]]:
    """Day -> slots of its broken per-slot rules (floors, role cover, break cap)."""
    out: dict[int, list[int]] = defaultdict(list)
    for x in state.validation.violations:
        if x.slot is not None:
            out[min(inst.problem.days - 1, x.slot // slots_per_day(inst))].append(x.slot)
    return dict(out)


def _role_moves(
    inst: Instance,
    state: RosterState,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None,
    tried: set[tuple[int, str, int, int]],
    most: int | None,
) -> RosterState:
    """Moves that free the holders of a role whose cover is broken (``_role_targets``), until
    none is left untried, the time is up or ``most`` moves were made."""
    made = 0
    while time_left() > 2.0 and (most is None or made < most):
        role_move = _role_targets(inst, state, tried)
        if role_move is None:
            break
        made += 1
        free, days = role_move
        # a few seconds a week: the first solution of these models comes in well under one
        # on a week, a whole month needs more
        limit = min(time_left() - 1.0, 3.0 * max(1.0, len(days) / 7))
        cand = _hard_move(inst, state, free, days, options, limit)
        state = _better(state, cand, report)
    return state


def refine(
    inst: Instance,
    state: RosterState,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None = None,
) -> RosterState:
    """Improve the roster until the time is up; never returns a worse one. The channel split
    is made optimal for the shifts and breaks first and again at the end (the moves re-split
    only their own window, and a deferred channel's backlog runs across windows), with time
    kept back for that second split as long as the first took."""
    t0 = budget.now()  # a deterministic solve does not charge the LP: no time kept back
    state = _better(state, with_best_channels(inst, state), report)
    spent = budget.now() - t0
    state = _moves(inst, state, options, lambda: time_left() - 1.5 * spent, report)
    if time_left() > spent:
        state = _better(state, with_best_channels(inst, state), report)
    return state


def _moves(
    inst: Instance,
    state: RosterState,
    options: SolveOptions,
    time_left: Callable[[], float],
    report: Callable[[RosterState], None] | None = None,
) -> RosterState:
    """The refinement's moves (``refine``) until the time is up."""
    rng = random.Random(options.seed)
    p = inst.problem
    n = len(inst.agents)
    size = min(n, 16)
    if n <= 20 and p.days <= 3 and time_left() > 3:
        # small: one move frees everyone (the exact model, started from the roster); a broken
        # roster first with the hard rules alone (a re-plan's absent team lead: the model with
        # the cover costs found the repair only after 19 s, this one at once)
        if state.validation.violations:
            limit = min(time_left() - 1, 0.3 * time_left())
            cand = _hard_move(inst, state, set(range(n)), range(p.days), options, limit)
            state = _better(state, cand, report)
        cand = _move(inst, state, set(range(n)), range(p.days), options, time_left() - 1)
        state = _better(state, cand, report)
    tried_roles: set[tuple[int, str, int, int]] = set()  # (violations, role, first, last day)
    # breaks and channels of each day re-placed with every shift kept (cheap, and it repairs
    # most floors, role cover and break caps that the first placement broke): first only
    # around the broken slots, day by day (small models, so every broken day gets its turn,
    # before the role moves: on a month those can take the whole time left)
    broken = _broken_slots(inst, state)
    repaired = {dd for d in broken for dd in range(max(0, d - 1), d + 1)}
    for d in sorted(broken):
        if time_left() <= 2.0:
            break
        days = range(max(0, d - 1), d + 1)  # the night before reaches into the day
        state = _try_breaks(inst, state, days, options, time_left, report, broken[d])
    # then each broken day's shifts with everyone free on it; then role cover: every holder
    # of the role, shifts and breaks together (_role_targets), over the whole horizon once
    # (on a week it mostly repairs every role slot in a second or two); then everyone free
    # over wider windows
    state = _day_moves(inst, state, options, time_left, report)
    state = _role_moves(inst, state, options, time_left, report, tried_roles, 1)
    state = _everyone_moves(inst, state, options, time_left, report)
    # then the other role moves: the whole horizon again, the week and the day around each
    # broken slot
    state = _role_moves(inst, state, options, time_left, report, tried_roles, None)
    broken = _broken_slots(inst, state)
    # then every shift of each day with a broken rule (or whose next day has one: a broken
    # slot early in a day may lie in this day's night shifts), most broken first, and of each
    # day repaired above, whose breaks were placed for the hard rules alone. Only those: on a
    # valid roster this pass took 8 s a day for a few units each (robustness seed 19: the
    # whole 40 s of refinement for 1,706 -> 1,695, where the moves below reach 1,296 and take
    # the breaks of their own agents with them)
    for d in sorted(
        (d for d in range(p.days) if d in repaired or broken.get(d) or broken.get(d + 1)),
        key=lambda d: (-len(broken.get(d, [])), -len(broken.get(d + 1, [])), d),
    ):
        if time_left() <= 2.0:
            break
        state = _try_breaks(inst, state, range(d, d + 1), options, time_left, report)
    fails = 0
    tried: set[tuple[int, int]] = set()  # (violations, day) whose breaks were re-placed
    while time_left() > 2.0:
        slot_rules = [x for x in state.validation.violations if x.slot is not None]
        if slot_rules:
            d = min(p.days - 1, slot_rules[0].slot // slots_per_day(inst))  # type: ignore[operator]
            for dd in (d, d - 1):
                if dd >= 0 and (len(slot_rules), dd) not in tried and time_left() > 2.0:
                    tried.add((len(slot_rules), dd))
                    slots = [x.slot for x in slot_rules if x.slot is not None]
                    state = _try_breaks(
                        inst, state, range(dd, dd + 1), options, time_left, report, slots
                    )
        target = _repair_targets(inst, state, rng, size) if state.validation.violations else None
        free, days = target or _random_targets(
            inst, rng, size, 1 + (fails % 2), _day_costs(inst, state)
        )
        # a repair move keeps its longer limit (the hard rules first)
        limit = REPAIR_MOVE_S if target else MOVE_S
        cand = _move(inst, state, free, days, options, min(time_left() - 1.0, limit))
        if cand is not None and cand.score < state.score:
            state = cand
            fails = 0
            if report:
                report(state)
        else:
            fails += 1
            if fails % 4 == 0:
                size = min(n, size + 8)
    return state
