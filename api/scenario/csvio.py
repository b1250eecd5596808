"""CSV inputs with located errors: UTF-8 (BOM accepted), a header row, extra columns only as x_*."""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from api.errors import InputError, Problem

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One data row: its 1-based line number in the file and its cells by column name."""

    line: int
    cells: dict[str, str]


def read_rows(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[Row]:
    """Read a CSV file; raise InputError naming the file for a missing file, bad encoding,
    missing or unknown columns, or ragged rows."""
    where = str(path)
    if not path.exists():
        raise InputError.one(where, "file not found")
    if path.is_dir():
        raise InputError.one(where, "expected a CSV file, found a directory")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.one(where, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError.one(where, f"cannot read: {exc.strerror}") from None
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise InputError.one(where, "the file is empty; expected a header row") from None
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(
            Problem(
                f"{where}:1",
                f"missing column(s) {', '.join(missing)}; expected {', '.join(required)}",
            )
        )
    known = set(required) | set(optional)
    extra = [h for h in header if h not in known and not h.startswith("x_")]
    if extra:
        hint = f" (optional: {', '.join(optional)})" if optional else ""
        problems.append(
            Problem(
                f"{where}:1",
                f"unknown column(s) {', '.join(extra)}; extra columns must start with x_{hint}",
            )
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(Problem(f"{where}:1", f"duplicate column(s) {', '.join(dupes)}"))
    if problems:
        raise InputError(problems)
    rows: list[Row] = []
    for line, record in enumerate(reader, start=2):
        if not record or all(not c.strip() for c in record):
            continue
        if len(record) != len(header):
            problems.append(
                Problem(f"{where}:{line}", f"expected {len(header)} fields, got {len(record)}")
            )
            continue
        rows.append(Row(line, {h: c.strip() for h, c in zip(header, record, strict=True)}))
    if problems:
        raise InputError(problems)
    return rows


class CellError(ValueError):
    """A cell that does not parse; the message says what was expected."""


def parse_float(text: str, *, low: float | None = None, low_inclusive: bool = True) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise CellError(f"expected a finite number, got {text!r}")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        op = ">=" if low_inclusive else ">"
        raise CellError(f"expected a number {op} {low:g}, got {text!r}")
    return value


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(
            f"expected a local date-time like 2026-12-07T08:15 or 2026-12-07 08:15, got {text!r}"
        ) from None
    if value.tzinfo is not None:
        raise CellError(f"expected a local time without a UTC offset, got {text!r}")
    return value


def cell(
    row: Row, column: str, parse: Callable[[str], T], where: str, problems: list[Problem]
) -> T | None:
    """Parse one cell, recording a located problem instead of raising."""
    try:
        return parse(row.cells[column])
    except CellError as exc:
        problems.append(Problem(f"{where}:{row.line}", f"column {column}: {exc}"))
        return None


@contextmanager
def atomic_write(path: Path, newline: str | None = "") -> Iterator[TextIO]:
    """Write a text file atomically: to a temporary file beside it, renamed on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file atomically."""
    with atomic_write(path) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
