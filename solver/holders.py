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

from collections import defaultdict

from solver.extract import chosen_options, granted, match_breaks
from solver.greedy import greedy_channels
from solver.model import build_exact, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance, prepare
from solver.refine import RosterState, state_of
from solver.schema import ChannelKind, Rules

__all__ = ["MAX_HOLDERS", "holders_roster", "role_holders"]

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
    holders = role_holders(inst)
    if not holders or len(holders) > MAX_HOLDERS or time_limit < 1.0:
        return None
    holder_classes = {inst.agents[a].class_index for a in holders}
    if any(a.class_index in holder_classes for a in inst.agents if a.index not in holders):
        return None  # a class shared with non-holders: their channel counts cannot be split
    ids = {inst.agents[a].id for a in holders}
    leave_of = [li for li, lv in enumerate(p.leave) if lv.agent_id in ids]
    need, floors = _residual(inst, state, holders)
    channels = tuple(
        ch.model_copy(
            update={
                "kind": ChannelKind.voice if ch.kind is ChannelKind.deferred else ch.kind,
                "deferred": None,
                "required": tuple(need[c]),
                "min_staff": tuple(floors[c]) if c in floors and any(floors[c]) else (),
                "under_weight": 0.0,
                "over_weight": 0.0,
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
            "rules": Rules(**{**p.rules.model_dump(), "max_on_break_share": 1.0}),
        }
    )
    sub_inst = prepare(sub)
    v = build_exact(sub_inst)
    out = solve_cp(v, options, time_limit)
    if not out.has_solution:
        return None
    # the sub-problem's options are the same shift types on the same horizon: map by key
    key_of = {(o.day, o.type_index, o.start): o.index for o in inst.options}
    main_of = {a.index: inst.agent(a.id).index for a in sub_inst.agents}
    sub_chosen = chosen_options(v, out.solver)
    sub_breaks = match_breaks(v, out.solver, sub_chosen)
    chosen = {a: list(opts) for a, opts in state.chosen.items() if a not in holders}
    breaks = {key: b for key, b in state.breaks.items() if key[0] not in holders}
    grants = {li: g for li, g in state.grants.items() if p.leave[li].agent_id not in ids}
    for a_sub, opts in sub_chosen.items():
        a = main_of[a_sub]
        mapped = []
        for o_sub in opts:
            so = sub_inst.options[o_sub]
            o = key_of[(so.day, so.type_index, so.start)]
            mapped.append(o)
            breaks[(a, o)] = list(sub_breaks[(a_sub, o_sub)])
        chosen[a] = mapped
    for li_sub, g in granted(v, out.solver).items():
        grants[leave_of[li_sub]] = g
    return state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), grants)
