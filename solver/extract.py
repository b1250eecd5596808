"""From solver values to named shifts: break times matched to agents, a channel per slot.

Break starts are counts per class, option and break; they go to the agents of that class
working that option in agent order. Channel counts per class and slot are handed to the
available agents, keeping each agent on the channel it had in the previous slot where the counts
allow.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from solver.errors import SolverError
from solver.prep import Instance
from solver.schema import BreakTime, ShiftAssignment, WorkSegment
from solver.variables import Expr, Vars

__all__ = [
    "assemble",
    "chosen_options",
    "extract",
    "granted",
    "hint_from",
    "int_value",
    "match_breaks",
]


def int_value(solver: cp_model.CpSolver, x: Expr) -> int:
    """A solved expression's value, or the integer itself (a constant in the model)."""
    return int(x) if isinstance(x, int) else int(solver.value(x))


def chosen_options(v: Vars, solver: cp_model.CpSolver) -> dict[int, list[int]]:
    """Options worked, per agent (day order)."""
    out: dict[int, list[int]] = defaultdict(list)
    for (a, o), var in v.x_.items():
        if int_value(solver, var):
            out[a].append(o)
    for opts in out.values():
        opts.sort(key=lambda o: v.inst.options[o].start)
    return dict(out)


def granted(v: Vars, solver: cp_model.CpSolver) -> dict[int, bool]:
    return {li: bool(int_value(solver, g)) for li, g in v.grant_.items()}


def match_breaks(
    v: Vars, solver: cp_model.CpSolver, chosen: dict[int, list[int]]
) -> dict[tuple[int, int], list[int]]:
    """Break start slot per (agent, option), one per break of the shift type."""
    inst = v.inst
    starts: dict[tuple[int, int], list[int]] = {}
    shifts_of: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a, opts in chosen.items():
        prep = inst.agents[a]
        for o in opts:
            opt = inst.options[o]
            starts[(a, o)] = [-1] * len(opt.break_windows)
            if opt.day in prep.on_shift_leave:
                continue
            shifts_of[(prep.class_index, opt.type_index)].append((a, o))
    for (k, o, b), br in v.br_.items():
        agents = [a for a, oo in shifts_of.get((k, inst.options[o].type_index), []) if oo == o]
        slots = [t for t, var in sorted(br.items()) for _ in range(int_value(solver, var))]
        if len(slots) != len(agents):
            raise SolverError(f"break counts do not match shifts (class {k}, option {o})")
        for a, t in zip(agents, slots, strict=True):
            starts[(a, o)][b] = t
    for specials in v.special_.values():
        for sp in specials:
            if not int_value(solver, sp.var):
                continue
            starts[(sp.agent, sp.option)] = [
                next(t for t, var in s.items() if int_value(solver, var)) for s in sp.breaks
            ]
    return starts


def extract(v: Vars, solver: cp_model.CpSolver) -> list[ShiftAssignment]:
    """Named shifts with break times and a channel per slot, from a solved exact model."""
    chosen = chosen_options(v, solver)
    breaks = match_breaks(v, solver, chosen)
    counts = {key: int_value(solver, var) for key, var in v.w_.items()}
    return assemble(v.inst, chosen, breaks, counts)


def assemble(
    inst: Instance,
    chosen: dict[int, list[int]],
    break_starts: dict[tuple[int, int], list[int]],
    channel_counts: dict[tuple[int, int, int], int],
) -> list[ShiftAssignment]:
    """Shifts with breaks and channels from decided options, break starts (per agent and option)
    and channel counts per (class, channel, slot); agents keep their previous channel where the
    counts allow."""
    p = inst.problem
    s = p.slot_minutes
    unavailable: dict[tuple[int, int], set[int]] = {}
    # (class, horizon slot) -> (agent, absolute slot); a cyclic horizon wraps the slot
    available_at: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a, opts in chosen.items():
        prep = inst.agents[a]
        for o in opts:
            opt = inst.options[o]
            blocked = set(opt.slots[: opt.briefing_slots])
            for b, t0 in enumerate(break_starts[(a, o)]):
                blocked.update(range(t0, t0 + opt.break_windows[b][2]))
            for lo, hi in prep.on_shift_leave.get(opt.day, []):
                blocked.update(t for t in opt.slots if t * s < hi and lo < (t + 1) * s)
            unavailable[(a, o)] = blocked
            for t in opt.slots:
                tt = p.slot_index(t)
                if tt is not None and t not in blocked:
                    available_at[(prep.class_index, tt)].append((a, t))
    channel_of: dict[tuple[int, int], str | None] = {}  # (agent, absolute slot) -> channel
    last: dict[int, str | None] = {}
    for (k, t), agents in sorted(available_at.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        want: dict[str | None, int] = {}
        for c in range(len(p.channels)):
            n = channel_counts.get((k, c, t), 0)
            if n:
                want[p.channels[c].id] = n
        idle = len(agents) - sum(want.values())
        if idle < 0:
            raise SolverError(f"channel counts exceed available agents (class {k}, slot {t})")
        if idle:
            want[None] = idle
        rest = []
        for a, t_abs in agents:  # stay on the previous channel where possible
            c_prev = last.get(a, "")
            if c_prev != "" and want.get(c_prev, 0) > 0:
                want[c_prev] -= 1
                channel_of[(a, t_abs)] = c_prev
            else:
                rest.append((a, t_abs))
        for a, t_abs in rest:
            c_new = next(c for c, n in want.items() if n > 0)
            want[c_new] -= 1
            channel_of[(a, t_abs)] = c_new
        for a, t_abs in agents:
            last[a] = channel_of[(a, t_abs)]
    out: list[ShiftAssignment] = []
    types = p.shift_types
    for a in sorted(chosen):
        prep = inst.agents[a]
        for o in chosen[a]:
            opt = inst.options[o]
            t_def = types[opt.type_index]
            breaks = tuple(
                BreakTime(
                    name=br.name, start=t0 * s, minutes=br.minutes, paid=br.paid, lunch=br.lunch
                )
                for br, t0 in zip(t_def.breaks, break_starts[(a, o)], strict=True)
            )
            segments: list[WorkSegment] = []
            for t in opt.slots:
                if p.slot_index(t) is None or t in unavailable[(a, o)]:
                    continue
                ch = channel_of[(a, t)]
                if segments and segments[-1].end == t * s and segments[-1].channel == ch:
                    segments[-1] = WorkSegment(
                        start=segments[-1].start, end=(t + 1) * s, channel=ch
                    )
                else:
                    segments.append(WorkSegment(start=t * s, end=(t + 1) * s, channel=ch))
            out.append(
                ShiftAssignment(
                    agent_id=prep.id,
                    day=opt.day,
                    shift_type=opt.type_id,
                    start=opt.start,
                    length=opt.length,
                    paid_minutes=opt.paid_minutes,
                    briefing_minutes=t_def.briefing_minutes,
                    breaks=breaks,
                    work=tuple(segments),
                )
            )
    return out


def hint_from(v: Vars, chosen: dict[int, list[int]], grants: dict[int, bool]) -> dict[Any, int]:
    """A hint for a freshly built model: the agent layer's values."""
    hint: dict[Any, int] = {}
    worked = {(a, o) for a, opts in chosen.items() for o in opts}
    for key, var in v.x_.items():
        if not isinstance(var, int):
            hint[var] = int(key in worked)
    for li, g in v.grant_.items():
        if not isinstance(g, int):
            hint[g] = int(grants.get(li, False))
    return hint
