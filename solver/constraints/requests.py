"""Agent-layer soft rule: shift on/off requests (an agent's wish to work, or not to work, a
shift type on a day), each a named penalty."""

from __future__ import annotations

from solver.schema import DAY, KeptShift, RequestKind
from solver.shifts import day_name
from solver.variables import Vars

__all__ = ["add_kept_shifts", "add_shift_requests"]


def add_shift_requests(v: Vars) -> None:
    """Soft: an ``on`` request not met (the agent does not work that shift type that day; any
    shift when no type is given) costs ``weights.shift_request x weight``; an ``off`` request not
    met (the agent works it) costs the same."""
    p = v.inst.problem
    for r in p.shift_requests:
        a = v.inst.agent(r.agent_id).index
        if a not in v.free_agents:
            continue
        worked = [
            v.x(a, o)
            for o in v.agent_options(a, r.day)
            if r.shift_type is None or v.option(o).type_id == r.shift_type
        ]
        works = sum(worked) if worked else 0
        what = r.shift_type or "a shift"
        when = day_name(p.horizon_start, r.day)
        subject = f"{r.agent_id}:{r.day}:{r.shift_type or '*'}"
        weight = p.weights.shift_request * r.weight
        if r.kind is RequestKind.on:
            v.penalize(
                "request.shift_on",
                subject,
                1 - works,
                weight,
                f"{r.agent_id} asked for {what} on {when}",
            )
        else:
            v.penalize(
                "request.shift_off",
                subject,
                works,
                weight,
                f"{r.agent_id} asked not to work {what} on {when}",
            )


def kept_option(v: Vars, a: int, day: int, kept: KeptShift) -> list[int]:
    """The agent's options on ``day`` that are the kept shift (same type, start and length)."""
    return [
        o
        for o in v.agent_options(a, day)
        if v.option(o).type_id == kept.shift_type
        and v.option(o).start - day * DAY == kept.start
        and (kept.length is None or v.option(o).length == kept.length)
    ]


def add_kept_shifts(v: Vars) -> None:
    """Soft (re-planning): a published shift not worked as published (another start, another
    type, or none) costs ``weights.change x weight``; so does a shift on a published day off."""
    p = v.inst.problem
    for k in p.kept:
        a = v.inst.agent(k.agent_id).index
        if a not in v.free_agents:
            continue
        weight = p.weights.change * k.weight
        when = day_name(p.horizon_start, k.day)
        if k.shift_type is None:
            v.penalize(
                "replan.change",
                f"{k.agent_id}:{k.day}",
                v.works(a, k.day),
                weight,
                f"{k.agent_id} works on {when}, published as a day off",
            )
            continue
        same = [v.x(a, o) for o in kept_option(v, a, k.day, k)]
        v.penalize(
            "replan.change",
            f"{k.agent_id}:{k.day}",
            1 - (sum(same) if same else 0),
            weight,
            f"{k.agent_id}'s published {k.shift_type} shift on {when} changed",
        )
