"""Shift options: every (shift type, day, start, length) on the absolute slot axis.

Pure Python (no OR-Tools): the validator uses the same definitions of night, late and weekend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from solver.schema import DAY, RosterProblem, Rules, ShiftType

__all__ = [
    "FAIRNESS_CATEGORIES",
    "ShiftOption",
    "classify",
    "clock",
    "day_name",
    "enumerate_options",
    "fairness_flags",
    "night_minutes",
    "slot_range_name",
    "slot_runs",
]


@dataclass(frozen=True)
class ShiftOption:
    """One concrete shift. Times are minutes from the horizon start; slots are absolute."""

    index: int
    type_id: str
    type_index: int
    day: int
    start: int
    length: int
    paid_minutes: int
    slot_minutes: int
    briefing_slots: int
    break_windows: tuple[tuple[int, int, int], ...] = field(repr=False)
    """Per break of the type: (first start slot, last start slot, length in slots)."""
    night: bool = False
    late: bool = False
    weekend: bool = False
    holiday: bool = False
    """The shift starts on a public holiday (``RosterProblem.holidays``)."""

    @property
    def end(self) -> int:
        return self.start + self.length

    @property
    def first_slot(self) -> int:
        return self.start // self.slot_minutes

    @property
    def n_slots(self) -> int:
        return self.length // self.slot_minutes

    @property
    def slots(self) -> range:
        return range(self.first_slot, self.first_slot + self.n_slots)

    def covers(self, start: int, end: int) -> bool:
        """Does the shift contain the interval [start, end)?"""
        return self.start <= start and end <= self.end

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


def night_minutes(start: int, end: int, rules: Rules) -> int:
    """Minutes of [start, end) inside the nightly window [night_start, night_end)."""
    total = 0
    first_day = start // DAY - 1
    for d in range(first_day, end // DAY + 2):
        lo, hi = d * DAY + rules.night_start, d * DAY + rules.night_end
        if rules.night_end <= rules.night_start:  # window wraps midnight
            hi += DAY
        total += max(0, min(end, hi) - max(start, lo))
    return total


FAIRNESS_CATEGORIES = ("weekend", "night", "late", "holiday")
"""What the fairness rules spread across a contract's agents: each a ``ShiftOption`` flag."""


def fairness_flags(
    start: int, length: int, day: int, weekday: int, rules: Rules, holiday: bool
) -> tuple[bool, ...]:
    """Per category of ``FAIRNESS_CATEGORIES``, whether a shift counts for it."""
    night, late, weekend = classify(start, length, day, weekday, rules)
    flags = {"weekend": weekend, "night": night, "late": late, "holiday": holiday}
    return tuple(flags[c] for c in FAIRNESS_CATEGORIES)


def classify(
    start: int, length: int, day: int, weekday: int, rules: Rules
) -> tuple[bool, bool, bool]:
    """(night, late, weekend) for a shift; night excludes late."""
    night = night_minutes(start, start + length, rules) >= rules.night_min_minutes
    late = not night and (start + length - day * DAY) > rules.late_end_after
    return night, late, weekday >= 5


def _options_of(t: ShiftType, ti: int, problem: RosterProblem, first: int) -> list[ShiftOption]:
    s = problem.slot_minutes
    out: list[ShiftOption] = []
    holidays = set(problem.holidays)
    for day in range(problem.days):
        weekday = problem.weekday(day)
        if weekday not in t.weekdays:
            continue
        for start in t.starts:
            for length in t.lengths:
                abs_start = day * DAY + start
                windows = tuple(
                    (
                        (abs_start + b.earliest) // s,
                        (abs_start + b.latest - b.minutes) // s,
                        b.minutes // s,
                    )
                    for b in t.breaks
                )
                night, late, weekend = classify(abs_start, length, day, weekday, problem.rules)
                out.append(
                    ShiftOption(
                        index=first + len(out),
                        type_id=t.id,
                        type_index=ti,
                        day=day,
                        start=abs_start,
                        length=length,
                        paid_minutes=length - t.unpaid_minutes,
                        slot_minutes=s,
                        briefing_slots=-(-t.briefing_minutes // s),
                        break_windows=windows,
                        night=night,
                        late=late,
                        weekend=weekend,
                        holiday=day in holidays,
                    )
                )
    return out


def enumerate_options(problem: RosterProblem) -> list[ShiftOption]:
    """All shift options of the horizon, indexed 0..n-1 (type, day, start, length order)."""
    options: list[ShiftOption] = []
    for ti, t in enumerate(problem.shift_types):
        options.extend(_options_of(t, ti, problem, len(options)))
    return options


def day_name(start: date, day: int) -> str:
    """'Mon 07 Dec' for a day of the horizon."""
    return (start + timedelta(days=day)).strftime("%a %d %b")


def clock(minute: int) -> str:
    """'HH:MM' of a minute from the horizon start (24:00 for midnight at an end)."""
    m = minute % DAY
    return f"{m // 60:02d}:{m % 60:02d}"


def slot_range_name(start: date, first: int, last: int, slot_minutes: int) -> str:
    """'Sun 13 Dec 02:00-06:00' for slots first..last (inclusive)."""
    a, b = first * slot_minutes, (last + 1) * slot_minutes
    end = clock(b) if b % DAY else "24:00"
    if b // DAY > a // DAY and b % DAY:
        return f"{day_name(start, a // DAY)} {clock(a)}-{day_name(start, b // DAY)} {end}"
    return f"{day_name(start, a // DAY)} {clock(a)}-{end}"


def slot_runs(slots: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive slots, (first, last) inclusive, from a sorted list without repeats."""
    runs: list[tuple[int, int]] = []
    for t in slots:
        if runs and runs[-1][1] == t - 1:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs
