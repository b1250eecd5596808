"""Minimum shift design instances as ``RosterProblem``s, solved by the solver's aggregate layer
(``solver.design``), and the designed shifts back as the benchmark's solution.

The mapping (docs/public-benchmarks.md):

* the week -> a cyclic 7-day horizon starting on a Monday, slots of the instance's interval;
* the requirement -> one voice channel with per-slot ``required``; under/over weights per
  agent-slot = the benchmark's per-person-minute weights x the interval, so the solver's
  coverage cost is the benchmark's shortage and excess in person-minutes;
* each template -> a ``ShiftType`` (start window and length range on the interval grid, its
  weekdays); a window reaching back before midnight becomes two types (evening and morning);
* the shift weight -> ``weights.distinct_shift`` (per distinct start and length used);
* staff -> one pool of interchangeable agents with no weekly limits, large enough never to
  bind; every other soft rule is switched off, so the solver's objective is the benchmark's F.
"""

from __future__ import annotations

from datetime import date

from benchmarks.public.shift_design import DAY, MSDInstance, Shift
from common.enums import ChannelKind
from solver.design import DesignedShift
from solver.rule_ids import SOFT_RULES
from solver.schema import Agent, Channel, Contract, RosterProblem, Rules, ShiftType, Weights

__all__ = ["START", "to_problem", "to_shifts"]

START = date(2024, 1, 1)  # a Monday
BENCHMARK_RULES = ("coverage.under", "coverage.over", "shifts.distinct")


def _types(inst: MSDInstance) -> tuple[ShiftType, ...]:
    out = []
    for t in inst.templates:
        weekdays = tuple(sorted(set(t.days)))
        windows = []
        if t.start_min < 0:
            # the part of the window before midnight belongs to the day before
            windows.append((f"{t.abbr}-eve", t.start_min + DAY, DAY - inst.interval, (-1,)))
            windows.append((t.abbr, 0, t.start_max, ()))
        else:
            windows.append((t.abbr, t.start_min, min(t.start_max, DAY - inst.interval), ()))
        for name, lo, hi, shift in windows:
            days = tuple(sorted({(d + s) % 7 for d in weekdays for s in shift})) or weekdays
            if lo > hi:
                continue
            out.append(
                ShiftType(
                    id=name,
                    start_earliest=lo,
                    start_latest=hi,
                    start_step=inst.interval,
                    length_min=t.length_min,
                    length_max=t.length_max,
                    length_step=inst.interval,
                    weekdays=days,
                )
            )
    return tuple(out)


def pool_size(inst: MSDInstance) -> int:
    """Agents in the pool: every slot's requirement covered by its own shifts, per day, could
    not need more than the day's peak times the shifts a day can hold back to back."""
    shortest = min(t.length_min for t in inst.templates)
    per_day = -(-DAY // shortest) + 1
    return max(1, max(inst.requirements) * per_day)


def to_problem(inst: MSDInstance) -> RosterProblem:
    """The instance in the solver's own model (see the module docstring)."""
    n = pool_size(inst)
    contract = Contract(
        id="pool", hours_min=0, hours_max=168, days_off_per_week=0, max_consecutive_days=7
    )
    agents = tuple(Agent(id=f"W{i:04d}", contract="pool", skills=("demand",)) for i in range(n))
    weight = float(inst.interval)
    channel = Channel(
        id="demand",
        kind=ChannelKind.voice,
        required=tuple(inst.requirements),
        under_weight=inst.w_under * weight,
        over_weight=inst.w_over * weight,
    )
    return RosterProblem(
        name=inst.name,
        horizon_start=START,
        days=inst.days,
        slot_minutes=inst.interval,
        cyclic=inst.cyclic,
        channels=(channel,),
        shift_types=_types(inst),
        contracts=(contract,),
        agents=agents,
        rules=Rules(min_rest_minutes=0, max_consecutive_days=7, max_on_break_share=1.0),
        weights=Weights(
            fairness=0,
            preference=0,
            consecutive_days_off=0,
            over_cover=inst.w_over * weight,
            under_cover=inst.w_under * weight,
            distinct_shift=float(inst.w_shifts),
        ),
        disabled_rules=tuple(r for r in SOFT_RULES if r not in BENCHMARK_RULES),
    )


def to_shifts(inst: MSDInstance, designed: tuple[DesignedShift, ...]) -> list[Shift]:
    """Designed counts as the benchmark's solution: one row per (start, length) with its
    worker count per weekday."""
    rows: dict[tuple[int, int], list[int]] = {}
    for s in designed:
        counts = rows.setdefault((s.start % DAY, s.length), [0] * inst.days)
        counts[s.day] += s.count
    return [Shift(start, length, tuple(c)) for (start, length), c in sorted(rows.items())]
