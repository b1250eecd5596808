"""Seeded generator of *varied* roster problems for the robustness suite (not the benchmark's
usual week).

Each seed draws what real centres vary: the weekday the horizon starts on, its length (7, 14 or
28 days where asked), 15- or 30-minute slots, 1-3 channels (phone; chat; messages, deferred),
the contract mix (full-time early/late, office Mon-Fri 09:00-19:00 with a 90-minute unpaid lunch,
part-time, nights, per-month days off), leave from 0 to 15 % of agent-days in multi-day blocks
(also at the first and last days of the horizon), requested days off, a part-day training, and
with or without team-lead cover and phone floors. Staffing floors and role cover are sized so the
week can hold them (two leads or phone agents wherever one must stay while the other is on a
break); demand is scaled to a drawn share of what the agents can supply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from benchmarks.roster_gen import START, _curve, _messages
from common.enums import ChannelKind, LeaveKind, LeaveStatus
from forecast.erlang import required_agents
from solver.schema import (
    DAY,
    Agent,
    BreakRule,
    Channel,
    Contract,
    Leave,
    RoleRequirement,
    RosterProblem,
    Rules,
    ShiftType,
    Weights,
)

__all__ = ["Draw", "varied_problem"]


@dataclass(frozen=True)
class Draw:
    """What a seed drew (reported next to each result)."""

    start_weekday: int
    days: int
    slot: int
    channels: tuple[str, ...]
    contracts: tuple[str, ...]
    leave_share: float
    roles: bool
    floors: bool

    def label(self) -> str:
        wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.start_weekday]
        return (
            f"{wd} {self.days}d {self.slot}min {'+'.join(self.channels)} "
            f"{'/'.join(self.contracts)} leave {self.leave_share:.0%}"
            f"{' roles' if self.roles else ''}{' floors' if self.floors else ''}"
        )


def _breaks(slot: int, long_lunch: bool = False) -> tuple[BreakRule, ...]:
    short = max(15, slot)
    return (
        BreakRule(name="break_am", minutes=short, earliest=90, latest=180, paid=True),
        BreakRule(
            name="lunch",
            minutes=90 if long_lunch else 30,
            earliest=180 if long_lunch else 210,
            latest=300,
            paid=False,
            lunch=True,
        ),
        BreakRule(
            name="break_pm",
            minutes=short,
            earliest=390 if long_lunch else 330,
            latest=480 if long_lunch else 420,
            paid=True,
        ),
    )


def _types(slot: int) -> tuple[ShiftType, ...]:
    step = max(30, slot)
    return (
        ShiftType(id="early", start_earliest=360, start_latest=480, start_step=step,
                  length_min=510, length_max=510, briefing_minutes=slot if slot == 15 else 0,
                  breaks=_breaks(slot)),
        ShiftType(id="late", start_earliest=720, start_latest=870, start_step=step,
                  length_min=510, length_max=510, briefing_minutes=slot if slot == 15 else 0,
                  breaks=_breaks(slot)),
        ShiftType(id="office", start_earliest=540, start_latest=540, length_min=600,
                  length_max=600, weekdays=(0, 1, 2, 3, 4), breaks=_breaks(slot, True)),
        ShiftType(id="short", start_earliest=540, start_latest=1020, start_step=60,
                  length_min=240, length_max=300, length_step=60,
                  breaks=(BreakRule(name="break", minutes=max(15, slot), earliest=90,
                                    latest=150, paid=True),)),
        ShiftType(id="night", start_earliest=1320, start_latest=1320, length_min=540,
                  length_max=540, breaks=(
                      BreakRule(name="break_1", minutes=max(15, slot), earliest=90,
                                latest=210, paid=True),
                      BreakRule(name="meal", minutes=30, earliest=240, latest=360, paid=True,
                                lunch=True),
                      BreakRule(name="break_2", minutes=max(15, slot), earliest=390,
                                latest=480, paid=True),
                  )),
    )  # fmt: skip


def varied_problem(n_agents: int, seed: int, days: int | None = None) -> RosterProblem:
    problem, _ = varied(n_agents, seed, days)
    return problem


def varied(n_agents: int, seed: int, days: int | None = None) -> tuple[RosterProblem, Draw]:
    """A seeded varied centre; ``days`` fixes the horizon (else 7, 14 or 28 are drawn)."""
    rng = random.Random(1_000_003 * seed + n_agents)
    start = START + timedelta(days=rng.randrange(7))
    days = days if days is not None else rng.choice((7, 7, 14, 28))
    slot = rng.choice((15, 30))
    n_slots = days * DAY // slot
    channels = rng.choice((("phone",), ("phone", "chat"), ("phone", "chat", "messages"),
                           ("phone", "messages")))  # fmt: skip
    nights = rng.random() < 0.5
    per_month = days >= 14 and rng.random() < 0.5
    roles = rng.random() < 0.6
    floors = rng.random() < 0.6
    leave_share = rng.choice((0.0, 0.03, 0.06, 0.10, 0.15))
    contracts = [
        Contract(id="full_time", hours_min=32, hours_max=40,
                 days_off_per_week=None if per_month else 2,
                 days_off_per_month=8 if per_month else None,
                 shift_types=("early", "late"), night_shifts=False),
        Contract(id="office", hours_min=32, hours_max=40, days_off_per_week=2,
                 shift_types=("office",), night_shifts=False),
        Contract(id="part_time", hours_min=12, hours_max=20, days_off_per_week=3,
                 shift_types=("short",), night_shifts=False),
    ]  # fmt: skip
    mix = {"full_time": 0.55, "office": 0.2, "part_time": 0.25}
    if nights:
        contracts.append(Contract(id="nights", hours_min=32, hours_max=40, days_off_per_week=2,
                                  shift_types=("night",), night_shifts=True))  # fmt: skip
        # nights only for the dedicated night agents: about four a night, whose breaks fit
        # the break cap inside the night's break windows
        mix = {"full_time": 0.6, "office": 0.15, "part_time": 0.25}
    names = list(mix)
    agents: list[Agent] = []
    n_leads = max(9, n_agents // 10) if roles else 0
    n_night = max(6, n_agents // 12) if nights else 0
    # a night agent works four nights a week (36 h): at most 7 x 4 / 4 = 7 of them per 60
    # agents keeps the nights at about four agents, whose breaks the 30 % cap allows
    for i in range(n_agents):
        if i < n_leads:
            contract = "full_time"
        elif i < n_leads + n_night:
            contract = "nights"
        else:
            contract = rng.choices(names, weights=[mix[c] for c in names])[0]
        primary = "phone" if contract == "nights" else rng.choice(channels)
        skills = [primary]
        if len(channels) > 1 and rng.random() < 0.35:
            skills.append(rng.choice([c for c in channels if c != primary]))
        if contract == "nights" and "phone" not in skills:
            skills.insert(0, "phone")
        agents.append(Agent(id=f"A{i:04d}", name=f"Agent {i}", contract=contract,
                            skills=tuple(skills),
                            roles=("team_lead",) if i < n_leads else ()))  # fmt: skip
    # ------------------------------------------------------------ leave
    leave: list[Leave] = []
    for a in agents:
        if rng.random() < leave_share * 2.5:
            length = rng.choice((1, 2, 3, 5))
            first = rng.choice((0, days - length, rng.randrange(max(1, days - length + 1))))
            first = max(0, min(first, days - length))
            leave.append(Leave(agent_id=a.id, kind=LeaveKind.annual, status=LeaveStatus.approved,
                               start=first * DAY, end=(first + length) * DAY))  # fmt: skip
        if rng.random() < 0.06:
            d = rng.randrange(days)
            if not any(lv.agent_id == a.id and d in lv.days() for lv in leave):
                leave.append(Leave(agent_id=a.id, kind=LeaveKind.day_off_request,
                                   status=LeaveStatus.requested, start=d * DAY,
                                   end=(d + 1) * DAY))  # fmt: skip
    # training for an agent without leave (one with a week of leave may have no working day)
    on_leave = {lv.agent_id for lv in leave}
    trained = [a for a in agents if a.contract == "full_time" and a.id not in on_leave]
    if trained:
        a = rng.choice(trained)
        d = rng.randrange(days)
        if not any(lv.agent_id == a.id and d in lv.days() for lv in leave):
            leave.append(Leave(agent_id=a.id, kind=LeaveKind.training,
                               status=LeaveStatus.approved, start=d * DAY + 15 * 60,
                               end=d * DAY + 16 * 60, whole_days=False))  # fmt: skip
    # ------------------------------------------------------------ demand
    hours = {"full_time": 36.0, "office": 34.0, "part_time": 16.0, "nights": 36.0}
    supply = sum(hours[a.contract] for a in agents) * 60 / slot * days / 7 * 0.85
    supply *= 1.0 - leave_share
    utilisation = rng.uniform(0.75, 0.95)
    skilled = {c: 0.0 for c in channels}
    for a in agents:
        for c in a.skills:
            skilled[c] += hours[a.contract] / len(a.skills)
    total = sum(skilled.values())
    shape = _curve(days, 1.0, 0.0, start, slot)
    per_day = DAY // slot
    tod = (np.arange(n_slots) % per_day) * slot
    phone_open = np.ones(n_slots, bool) if nights else (tod >= 7 * 60) & (tod < 22 * 60)
    if not nights:
        shape = np.where(phone_open, shape, 0.0)
    out: list[Channel] = []
    for cid in channels:
        target = supply * skilled[cid] / total * utilisation
        if cid == "messages":
            out.append(_messages(np.where((tod >= 7 * 60) & (tod < 22 * 60), shape, 0.0) + 1e-9,
                                 target, n_slots, slot))  # fmt: skip
            continue
        aht, k = (300.0, 1) if cid == "phone" else (480.0, 2)
        open_ = phone_open if cid == "phone" else (tod >= 8 * 60) & (tod < 21 * 60)
        lo, hi = 0.0, 50.0 * n_agents
        req = np.zeros(n_slots)
        for _ in range(30):
            mid = (lo + hi) / 2
            req = required_agents(np.where(open_, shape * mid, 0.0), aht, slot * 60.0,
                                  0.8, 20.0 if k == 1 else 30.0, max_occupancy=0.9,
                                  concurrency=k)  # fmt: skip
            lo, hi = (mid, hi) if req.sum() < target else (lo, mid)
        req = np.where(open_, req, 0)
        floor = ()
        if cid == "phone" and floors:
            window = (tod >= 9 * 60) & (tod < 19 * 60)
            floor = tuple(int(window[t]) for t in range(n_slots))
        out.append(Channel(id=cid, kind=ChannelKind.voice if k == 1 else ChannelKind.chat,
                           required=tuple(int(x) for x in req), min_staff=floor,
                           open=() if open_.all() else tuple(bool(x) for x in open_)))  # fmt: skip
    reqs = ()
    if roles:
        window = (tod >= 8 * 60) & (tod < 20 * 60)
        lead = RoleRequirement(
            role="team_lead", count=1, slots=tuple(bool(x) for x in window), label="08:00-20:00"
        )
        reqs = (lead,)
    problem = RosterProblem(
        name=f"varied-{n_agents}-{seed}",
        horizon_start=start,
        days=days,
        slot_minutes=slot,
        channels=tuple(out),
        shift_types=_types(slot),
        contracts=tuple(contracts),
        agents=tuple(agents),
        leave=tuple(leave),
        roles=reqs,
        rules=Rules(min_rest_minutes=660, max_consecutive_days=6, max_on_break_share=0.3),
        weights=Weights(),
    )
    draw = Draw(start.weekday(), days, slot, tuple(channels),
                tuple(c.id for c in contracts) + (("per-month",) if per_month else ()),
                leave_share, roles, floors)  # fmt: skip
    return problem, draw
