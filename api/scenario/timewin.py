"""Clock times, weekday sets and weekly time windows of scenario files, as per-slot masks.

A window is written per weekday set: ``{mon-fri: "08:00-22:00", sat-sun: "09:00-18:00"}``, the
word ``24x7``, or (for rules) ``"mon-fri 09:00-18:00"``. A range that ends at or before its start
(``"22:00-06:00"``) wraps midnight and belongs to the day it starts on; ``"00:00-24:00"`` is the
whole day; several ranges are separated by commas; ``closed`` means no hours that day. Masks are
laid on the horizon's absolute slot axis (``days x 1440 / slot`` slots from the first midnight).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 1440

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_ALWAYS = {"24x7", "always", "24/7"}


class WindowError(ValueError):
    """A clock time, weekday set or window that does not parse; the message says what was
    expected."""


def parse_clock(text: object, allow_24: bool = False) -> int:
    """'08:30' -> 510 minutes after midnight (``allow_24``: '24:00' -> 1440)."""
    if not isinstance(text, str):
        raise WindowError(f'expected a time of day like "08:30" (quoted), got {text!r}')
    m = _CLOCK.match(text.strip())
    if not m:
        raise WindowError(f'expected a time of day HH:MM like "08:30", got {text!r}')
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and (mi or not allow_24)):
        limit = "00:00-24:00" if allow_24 else "00:00-23:59"
        raise WindowError(f"expected a time of day in {limit}, got {text!r}")
    return h * 60 + mi


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'mon-fri' / 'sat,sun' / 'daily' -> weekday numbers (0 = Monday), in week order."""
    t = text.strip().lower()
    if t in ("daily", "all", "every day", "mon-sun"):
        return tuple(range(7))
    out: set[int] = set()
    for part in (p.strip() for p in t.split(",")):
        if "-" in part:
            a, _, b = part.partition("-")
            i, j = _weekday(a.strip(), text), _weekday(b.strip(), text)
            out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        else:
            out.add(_weekday(part, text))
    return tuple(sorted(out))


def _weekday(name: str, whole: str) -> int:
    key = name[:3]
    if key not in WEEKDAYS or name not in (key, _FULL[key]):
        raise WindowError(
            f"expected weekdays like mon, mon-fri, sat-sun or mon,wed,fri; got {whole!r}"
        )
    return WEEKDAYS.index(key)


_FULL = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}


@dataclass(frozen=True)
class Range:
    """Minutes after a day's midnight; ``end`` may exceed 1440 (wraps into the next day)."""

    start: int
    end: int


def parse_ranges(text: object) -> tuple[Range, ...]:
    """'08:00-12:00, 13:00-18:00' / '22:00-06:00' / 'closed' -> ranges of one day."""
    if not isinstance(text, str):
        raise WindowError(f'expected hours like "08:00-22:00" (quoted), got {text!r}')
    t = text.strip().lower()
    if t in ("closed", "none", ""):
        return ()
    if t in _ALWAYS or t == "all day":
        return (Range(0, DAY),)
    out = []
    for part in t.split(","):
        a, sep, b = part.strip().partition("-")
        if not sep:
            raise WindowError(f'expected hours like "08:00-22:00", got {text!r}')
        lo, hi = parse_clock(a.strip()), parse_clock(b.strip(), allow_24=True)
        if hi <= lo:
            hi += DAY  # wraps midnight
        out.append(Range(lo, hi))
    return tuple(out)


@dataclass(frozen=True)
class Window:
    """Weekly hours: for each weekday (0 = Monday), the ranges that start on that day."""

    days: tuple[tuple[Range, ...], ...]
    text: str

    @property
    def always(self) -> bool:
        return all(r == (Range(0, DAY),) for r in self.days)

    def mask(self, first_weekday: int, n_days: int, slot: int) -> tuple[bool, ...]:
        """One value per slot of the horizon: is the slot inside the window? A range that
        starts the day before the horizon is not known (the horizon starts at midnight)."""
        n = n_days * DAY // slot
        out = [False] * n
        for d in range(-1, n_days):
            for r in self.days[(first_weekday + d) % 7]:
                lo = max(0, (d * DAY + r.start) // slot)
                hi = min(n, -(-(d * DAY + r.end) // slot))
                for t in range(lo, hi):
                    out[t] = True
        return tuple(out)


ALWAYS = Window(days=tuple((Range(0, DAY),) for _ in range(7)), text="24x7")


def parse_window(value: object) -> Window:
    """'24x7', a mapping {weekdays: hours}, or 'WEEKDAYS HH:MM-HH:MM' -> a weekly window."""
    if isinstance(value, str):
        t = value.strip()
        if t.lower() in _ALWAYS:
            return ALWAYS
        head, _, tail = t.partition(" ")
        if tail and not head[:1].isdigit():
            return _from_mapping({head: tail.strip()}, t)
        return _from_mapping({"daily": t}, t)
    if isinstance(value, Mapping):
        return _from_mapping(value, ", ".join(f"{k}: {v}" for k, v in value.items()))
    raise WindowError(
        'expected "24x7", hours like "08:00-22:00", "mon-fri 09:00-18:00" or a mapping like '
        f'{{mon-fri: "08:00-22:00", sat-sun: "09:00-18:00"}}; got {value!r}'
    )


def _from_mapping(value: Mapping[object, object], text: str) -> Window:
    days: list[tuple[Range, ...] | None] = [None] * 7
    for key, hours in value.items():
        if not isinstance(key, str):
            raise WindowError(f"expected weekdays like mon-fri as a key, got {key!r}")
        ranges = parse_ranges(hours)
        for d in parse_weekdays(key):
            if days[d] is not None:
                raise WindowError(f"{WEEKDAYS[d]} is given twice in {text!r}")
            days[d] = ranges
    return Window(days=tuple(r if r is not None else () for r in days), text=text)


def describe_mask(mask: Sequence[bool]) -> str:
    """'always' / 'never' / 'some slots' for messages."""
    if all(mask):
        return "always"
    if not any(mask):
        return "never"
    return "some slots"
