"""Role holders' weeks solved exactly, on their own, to repair broken role cover.

Role cover ("a team lead on duty 08:00-20:00 every day") depends on how a few holders' shifts
and breaks interleave over the whole horizon: two early leads so that one covers the other's
morning break, no late-to-early turn inside the rest time. The group plans and day models see
the holders as counts and can leave a slot uncovered; moves of the refinement that free the
holders inside the whole roster are large models (every other shift a constant) that repair
a few slots per attempt.

Here the holders alone form a small problem: the exact per-agent model of their agents, their
leave and rules, role cover and the floors the rest of the roster leaves uncovered (its
*residual* floors), with no coverage cost (priced, the search chases cover and leaves role
slots open: 17 of 21 still open after 30 s on the month below) and no break cap (it concerns
everyone and stays with the refinement). On the 28-day independent month (8 team leads), 30 s
of it leave 2 role slots open where the pipeline left 21. The pipeline substitutes the
holders' shifts and breaks and keeps the result only when the validator counts fewer broken
rules (``solver.solve``); the refinement then wins the cover back.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from solver.extract import chosen_options, granted, int_value, match_breaks
from solver.greedy import greedy_channels
from solver.model import build_exact, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance, prepare
from solver.refine import RosterState, state_of
from solver.schema import ChannelKind, Rules
from solver.units import OBJECTIVE_SCALE
from solver.variables import ELASTIC_WEIGHT

__all__ = ["MAX_HOLDERS", "HoldersWeek", "holders_roster", "holders_week", "role_holders"]

MAX_HOLDERS = 24
"""Holders of all roles together beyond which the exact model is not tried (it is per agent)."""


def _residual(
    inst: Instance, state: RosterState, holders: set[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Channel -> agents still required per slot, and still needed for its floor, once
    everyone but the holders is counted."""
    p = inst.problem
    others: dict[tuple[int, int], int] = defaultdict(int)
    holder_classes = {inst.agents[a].class_index for a in holders}
    for (k, c, t), n in state.channels.items():
        if k not in holder_classes:
            others[(c, t)] += n
    out: dict[int, list[int]] = {}
    floors: dict[int, list[int]] = {}
    for c, ch in enumerate(p.channels):
        if ch.kind is ChannelKind.deferred:
            out[c] = [0] * p.n_slots
        else:
            out[c] = [max(0, r - others[(c, t)]) for t, r in enumerate(ch.required)]
        if ch.min_staff:
            floors[c] = [max(0, m - others[(c, t)]) for t, m in enumerate(ch.min_staff)]
    return out, floors


def role_holders(inst: Instance) -> set[int]:
    """Agents holding a role that some role-cover rule asks for."""
    roles = {r.role for r in inst.problem.roles}
    return {a.index for a in inst.agents if roles & set(a.agent.roles)}


def holders_roster(
    inst: Instance, state: RosterState, options: SolveOptions, time_limit: float
) -> RosterState | None:
    """The roster with the role holders' shifts and breaks from their own exact model, or
    None when there are no (or too many) holders or nothing was found in time."""
    p = inst.problem
    holders = _eligible(inst)
    if holders is None or time_limit < 1.0:
        return None
    _, floors = _residual(inst, state, holders)
    # coverage free: priced, the search chases cover and leaves role slots open (module doc)
    week = _solve_week(inst, holders, None, options, time_limit, floors, capped=False)
    if week is None:
        return None
    ids = {inst.agents[a].id for a in holders}
    chosen = {a: list(opts) for a, opts in state.chosen.items() if a not in holders}
    breaks = {key: b for key, b in state.breaks.items() if key[0] not in holders}
    grants = {li: g for li, g in state.grants.items() if p.leave[li].agent_id not in ids}
    chosen.update(week.chosen)
    breaks.update(week.breaks)
    grants.update(week.grants)
    return state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), grants)


@dataclass
class HoldersWeek:
    """The role holders' shifts, break starts and leave decisions over the horizon, from their
    own exact model: every role-cover slot covered (``covered``) or as many as it could."""

    chosen: dict[int, list[int]]
    breaks: dict[tuple[int, int], list[int]]
    grants: dict[int, bool]
    covered: bool


def holders_week(inst: Instance, options: SolveOptions, time_limit: float) -> HoldersWeek | None:
    """The holders' weeks planned first, before anyone else's (``solver.solve``, on the weekly
    masters' path): their exact model with role cover (elastic, so a week comes back even when
    it cannot all hold) and the break cap among themselves, their coverage priced against each
    channel's requirement times the holders' share of the agents who can take it. None when
    there are no holders, too many, or nothing in time.

    Planned with everyone else, role cover is a relaxation in the plans (family counts,
    breaks spread over their windows) that the day models then miss: three robustness weeks
    (60 agents seeds 22 and 35, 200 agents seed 9) kept 4-13 team-lead slots open after the
    whole limit, where this model covers every slot in 1-3 s."""
    holders = _eligible(inst)
    if holders is None or time_limit < 1.0:
        return None
    t0 = time.perf_counter()
    # a week that keeps the rules first (free coverage: found in seconds, where the priced
    # model found none in 10 s for 20 holders), then priced from it for the time left
    first = _solve_week(inst, holders, None, options, time_limit, gap=_ONE_SLOT)
    left = time_limit - (time.perf_counter() - t0)
    if first is None or left < 1.0:
        return first
    priced = _solve_week(inst, holders, _their_share(inst, holders), options, left, hint=first)
    return priced if priced is not None and priced.covered >= first.covered else first


def _their_share(inst: Instance, holders: set[int]) -> dict[int, list[int]]:
    """Channel -> each slot's requirement times the holders' share of the agents who can take
    it (deferred channels: none)."""
    p = inst.problem
    need: dict[int, list[int]] = {}
    for c, ch in enumerate(p.channels):
        if ch.kind is ChannelKind.deferred:
            need[c] = [0] * p.n_slots
            continue
        skilled = [a for a in inst.agents if ch.id in a.agent.skills]
        share = sum(1 / len(a.agent.skills) for a in skilled if a.index in holders) / max(
            1e-9, sum(1 / len(a.agent.skills) for a in skilled)
        )
        need[c] = [round(r * share) for r in ch.required]
    return need


_ONE_SLOT = 0.5 * ELASTIC_WEIGHT * OBJECTIVE_SCALE
"""A search stops within this of its bound: unpriced, a week within one role slot of the best
(soft rules only left to gain: the 200-agent robustness week 9 searched its 10 s for them)."""


def _eligible(inst: Instance) -> set[int] | None:
    """The holders, when there are some, not too many, and their classes hold no one else
    (else their channel counts could not be split from the others')."""
    holders = role_holders(inst)
    if not holders or len(holders) > MAX_HOLDERS:
        return None
    holder_classes = {inst.agents[a].class_index for a in holders}
    if any(a.class_index in holder_classes for a in inst.agents if a.index not in holders):
        return None
    return holders


def _solve_week(
    inst: Instance,
    holders: set[int],
    need: dict[int, list[int]] | None,
    options: SolveOptions,
    time_limit: float,
    floors: dict[int, list[int]] | None = None,
    hint: HoldersWeek | None = None,
    gap: float | None = None,
    capped: bool = True,
) -> HoldersWeek | None:
    """The holders' exact model on their own, mapped back to the instance: channels asking
    ``need`` at their weights (None: no coverage cost), floors ``floors``; ``hint``: a week to
    start from; ``gap``: the search stops this close to its bound (objective units);
    ``capped``: the break cap among the holders themselves (else none)."""
    p = inst.problem
    ids = {inst.agents[a].id for a in holders}
    leave_of = [li for li, lv in enumerate(p.leave) if lv.agent_id in ids]
    channels = tuple(
        ch.model_copy(
            update={
                "kind": ChannelKind.voice if ch.kind is ChannelKind.deferred else ch.kind,
                "deferred": None,
                "required": tuple(need[c]) if need is not None else (0,) * p.n_slots,
                "min_staff": tuple(floors[c]) if floors and any(floors.get(c, ())) else (),
                **({} if need is not None else {"under_weight": 0.0, "over_weight": 0.0}),
            }
        )
        for c, ch in enumerate(p.channels)
    )
    sub = p.model_copy(
        update={
            "agents": tuple(a for a in p.agents if a.id in ids),
            "leave": tuple(p.leave[li] for li in leave_of),
            "channels": channels,
            "shift_cover": (),
            "rules": p.rules
            if capped
            else Rules(**{**p.rules.model_dump(), "max_on_break_share": 1.0}),
        }
    )
    sub_inst = prepare(sub)
    v = build_exact(sub_inst)
    # the sub-problem's options are the same shift types on the same horizon: map by key
    key_of = {(o.day, o.type_index, o.start): o.index for o in inst.options}
    main_of = {a.index: inst.agent(a.id).index for a in sub_inst.agents}
    start: dict[Any, int] | None = None
    if hint is not None:
        worked = {(a, o) for a, opts in hint.chosen.items() for o in opts}
        start = {}
        for (a_sub, o_sub), var in v.x_.items():
            if not isinstance(var, int):
                so = sub_inst.options[o_sub]
                o = key_of[(so.day, so.type_index, so.start)]
                start[var] = int((main_of[a_sub], o) in worked)
        for li_sub, var in v.grant_.items():
            if not isinstance(var, int):
                start[var] = int(hint.grants.get(leave_of[li_sub], False))
    params: dict[str, Any] = {} if gap is None else {"absolute_gap_limit": gap}
    out = solve_cp(v, options, time_limit, hint=start, **params)
    if not out.has_solution:
        return None
    sub_chosen = chosen_options(v, out.solver)
    sub_breaks = match_breaks(v, out.solver, sub_chosen)
    week = HoldersWeek({a: [] for a in holders}, {}, {}, covered=True)
    for a_sub, opts in sub_chosen.items():
        a = main_of[a_sub]
        for o_sub in opts:
            so = sub_inst.options[o_sub]
            o = key_of[(so.day, so.type_index, so.start)]
            week.chosen[a].append(o)
            week.breaks[(a, o)] = list(sub_breaks[(a_sub, o_sub)])
    for li_sub, g in granted(v, out.solver).items():
        week.grants[leave_of[li_sub]] = g
    week.covered = not any(
        pen.rule_id == "hard.role_coverage" and int_value(out.solver, pen.var) > 0
        for pen in v.penalties
    )
    return week
