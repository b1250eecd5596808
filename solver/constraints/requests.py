"""Agent-layer soft rule: shift on/off requests (an agent's wish to work, or not to work, a
shift type on a day), each a named penalty."""

from __future__ import annotations

from solver.schema import RequestKind
from solver.shifts import day_name
from solver.variables import Vars

__all__ = ["add_shift_requests"]


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
