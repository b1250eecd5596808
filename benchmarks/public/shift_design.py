"""Minimum shift design (TU Wien "Rota" data sets): the ``.txt`` format and the official
objective, independent of the solver (no OR-Tools, no solver import).

An instance is a cyclic week of ``minute_interval`` slots with a staff requirement per slot and
shift templates (a start window and a length range on the slot grid, days allowed). A solution
is a set of shifts (start minute of the day, length in minutes), each with a worker count per
weekday (Monday first). ``evaluate`` checks every shift fits a template on every day it is
worked and scores it as Di Gaspero et al. (2007) and the benchmark page define it:

    F = w_under * shortage + w_over * excess + w_shifts * (shifts with a non-zero count)

with shortage and excess in person-minutes (slot deviation x interval), the week wrapping
when the instance is cyclic (a shift running past Sunday midnight covers Monday's first slots).
The reference solutions embedded in the files as comments are never read.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BestKnown",
    "FormatError",
    "MSDInstance",
    "Score",
    "Shift",
    "Template",
    "best_known",
    "evaluate",
    "parse",
]

DAY = 1440


@dataclass(frozen=True)
class Template:
    abbr: str
    start_min: int
    """Earliest start, minutes after midnight (may be negative: the evening before)."""
    start_max: int
    length_min: int
    length_max: int
    days: tuple[int, ...]
    """Weekdays the template may be worked (0 = Monday)."""

    def fits(self, start: int, length: int, interval: int) -> bool:
        """Does a shift (start minute of the day, length) fit this template on the grid?"""
        if length % interval or not self.length_min <= length <= self.length_max:
            return False
        return any(
            self.start_min <= s <= self.start_max and (s - self.start_min) % interval == 0
            for s in (start, start - DAY, start + DAY)
        )


@dataclass
class MSDInstance:
    name: str
    interval: int
    days: int
    cyclic: bool
    requirements: list[int]
    templates: list[Template]
    w_under: int
    w_over: int
    w_shifts: int
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def slots_per_day(self) -> int:
        return DAY // self.interval


@dataclass(frozen=True)
class Shift:
    start: int
    """Minutes after midnight (0..1439)."""
    length: int
    counts: tuple[int, ...]
    """Workers per day (Monday first)."""


@dataclass
class Score:
    objective: int
    shortage_minutes: int
    excess_minutes: int
    shifts: int
    violations: list[str]

    @property
    def feasible(self) -> bool:
        return not self.violations


class FormatError(ValueError):
    """The file is not in the expected format (the message names the file and the field)."""


def _clock(text: str, where: str) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{1,2})", text)
    if not m:
        raise FormatError(f"{where}: expected a time HH:MM, found {text!r}")
    return int(m[1]) * 60 + int(m[2])


def _values(lines: list[str], key: str, path: Path) -> list[str]:
    """The non-comment lines after the header line starting with ``key``, up to the next
    header."""
    for i, line in enumerate(lines):
        if line.startswith(key):
            out = []
            for nxt in lines[i + 1 :]:
                if nxt.startswith("#"):
                    if out:
                        break
                    continue
                if nxt.strip():
                    out.append(nxt.strip())
            return out
    raise FormatError(f"{path}: no {key!r} section")


def parse(path: Path) -> MSDInstance:
    """Read a ``RandomExampleN.txt`` file (ISO-8859-1)."""
    lines = path.read_text(encoding="latin-1").replace("\r", "").split("\n")

    def one_int(key: str) -> int:
        vals = _values(lines, key, path)
        try:
            return int(vals[0].split()[0])
        except (IndexError, ValueError):
            raise FormatError(f"{path}: {key} expects an integer") from None

    interval = one_int("#MinuteInterval")
    days = one_int("#DaysPerCycle")
    cyclic = _values(lines, "#FlagCyclical", path)[0].lower().startswith("y")
    req = [int(x) for x in " ".join(_values(lines, "#Requirements", path)).split()]
    if len(req) != days * DAY // interval:
        raise FormatError(
            f"{path}: #Requirements has {len(req)} values, expected {days * DAY // interval}"
        )
    n_templates = one_int("#Number of shift templates")
    rows = [r for r in _values(lines, "#Shift templates", path)][:n_templates]
    templates = []
    for row in rows:
        parts = row.split()
        if len(parts) < 9:
            raise FormatError(f"{path}: template line {row!r} has {len(parts)} fields, expected 9")
        abbr = parts[0]
        start = _clock(parts[2], f"{path}: template {abbr} start")
        plus, minus, length, lplus, lminus = (int(x) for x in parts[3:8])
        allowed = parts[8]
        if allowed == "*":
            week: tuple[int, ...] = tuple(range(days))
        else:  # a string of 0/1 flags per day
            week = tuple(d for d, flag in enumerate(allowed) if flag == "1")
        templates.append(
            Template(abbr, start - minus, start + plus, length - lminus, length + lplus, week)
        )
    return MSDInstance(
        name=path.stem,
        interval=interval,
        days=days,
        cyclic=cyclic,
        requirements=req,
        templates=templates,
        w_under=one_int("#UnderCover"),
        w_over=one_int("#Overcover"),
        w_shifts=one_int("#Shifts"),
    )


def evaluate(inst: MSDInstance, shifts: list[Shift]) -> Score:
    """Violations (a shift fitting no template on a day it is worked, bad counts) and F."""
    n = len(inst.requirements)
    spd = inst.slots_per_day
    cover = [0] * n
    violations: list[str] = []
    used = set()
    for sh in shifts:
        if len(sh.counts) != inst.days:
            violations.append(f"shift {sh.start}+{sh.length}: {len(sh.counts)} day counts")
            continue
        if sh.start % inst.interval or not 0 <= sh.start < DAY:
            violations.append(f"shift {sh.start}+{sh.length}: start off the grid")
            continue
        for d, k in enumerate(sh.counts):
            if k < 0:
                violations.append(f"shift {sh.start}+{sh.length}: negative count on day {d}")
            if k <= 0:
                continue
            if not any(
                d in t.days and t.fits(sh.start, sh.length, inst.interval) for t in inst.templates
            ):
                violations.append(f"shift {sh.start}+{sh.length} on day {d} fits no template")
            first = d * spd + sh.start // inst.interval
            for t in range(first, first + sh.length // inst.interval):
                if t < n:
                    cover[t] += k
                elif inst.cyclic:
                    cover[t % n] += k
            used.add((sh.start, sh.length))
    shortage = sum(max(0, r - c) for r, c in zip(inst.requirements, cover, strict=True))
    excess = sum(max(0, c - r) for r, c in zip(inst.requirements, cover, strict=True))
    shortage *= inst.interval
    excess *= inst.interval
    objective = inst.w_under * shortage + inst.w_over * excess + inst.w_shifts * len(used)
    return Score(objective, shortage, excess, len(used), violations)


@dataclass(frozen=True)
class BestKnown:
    value: int
    shifts: int


def best_known(path: Path) -> dict[str, BestKnown]:
    """``best_known.csv``: instance -> best known F and its number of shifts."""
    with path.open(encoding="utf-8") as fh:
        return {
            row["instance"]: BestKnown(int(row["best_known_F"]), int(row["bk_shifts"]))
            for row in csv.DictReader(fh)
        }
