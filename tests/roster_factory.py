"""Small roster problems for tests, built in code (seeded where random)."""

from __future__ import annotations

from datetime import date
from typing import Any

from common.enums import ChannelKind
from solver.schema import (
    DAY,
    Agent,
    BreakRule,
    Channel,
    Contract,
    Leave,
    LeaveKind,
    LeaveStatus,
    RosterProblem,
    Rules,
    ShiftType,
    Weights,
)

MONDAY = date(2026, 12, 7)


def shift_type(
    id: str,
    start: int,
    latest: int | None = None,
    length: int = 480,
    breaks: tuple[BreakRule, ...] = (),
    **kw: Any,
) -> ShiftType:
    return ShiftType(
        id=id,
        start_earliest=start,
        start_latest=start if latest is None else latest,
        start_step=kw.pop("start_step", 60),
        length_min=length,
        length_max=kw.pop("length_max", length),
        length_step=kw.pop("length_step", 60),
        breaks=breaks,
        **kw,
    )


def annual_leave(agent_id: str, days: range) -> Leave:
    """Approved annual leave of one agent on whole days of the horizon."""
    return Leave(
        agent_id=agent_id,
        kind=LeaveKind.annual,
        status=LeaveStatus.approved,
        start=days.start * DAY,
        end=days.stop * DAY,
    )


def requested_leave(
    agent_id: str, days: range, kind: LeaveKind = LeaveKind.annual, weight: float = 1.0
) -> Leave:
    """A leave request of one agent on whole days of the horizon (the solver decides it)."""
    return Leave(
        agent_id=agent_id,
        kind=kind,
        status=LeaveStatus.requested,
        start=days.start * DAY,
        end=days.stop * DAY,
        weight=weight,
    )


def flat_requirement(days: int, slot: int, value_by_hour: dict[range, int]) -> tuple[int, ...]:
    per_day = 1440 // slot
    out = []
    for t in range(days * per_day):
        hour = (t % per_day) * slot // 60
        out.append(next((v for r, v in value_by_hour.items() if hour in r), 0))
    return tuple(out)


def tiny(
    days: int = 1,
    agents: int = 3,
    slot: int = 60,
    required: dict[range, int] | None = None,
    **kw: Any,
) -> RosterProblem:
    """One voice channel, an early and a late shift of 8 h with a 1-hour break."""
    req = flat_requirement(days, slot, required or {range(6, 14): 2, range(14, 22): 1})
    brk = (BreakRule(name="lunch", minutes=60, earliest=180, latest=360, paid=False, lunch=True),)
    types = kw.pop(
        "shift_types",
        (shift_type("early", 360, 420, 540, brk), shift_type("late", 780, 840, 540, brk)),
    )
    contract = kw.pop("contracts", (Contract(id="ft", hours_min=0, hours_max=60),))
    people = kw.pop(
        "agent_list",
        tuple(Agent(id=f"a{i}", contract=contract[0].id, skills=("phone",)) for i in range(agents)),
    )
    channels = kw.pop("channels", (Channel(id="phone", kind=ChannelKind.voice, required=req),))
    return RosterProblem(
        horizon_start=MONDAY,
        days=days,
        slot_minutes=slot,
        channels=channels,
        shift_types=types,
        contracts=contract,
        agents=people,
        rules=kw.pop("rules", Rules()),
        weights=kw.pop("weights", Weights()),
        **kw,
    )
