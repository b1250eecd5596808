"""Outputs of a solved scenario (CSV, XLSX, ICS, HTML), written into a folder atomically.

``write_outputs(outcome, out_dir)`` writes every file into a temporary folder beside ``out_dir``
and renames it into place only when all files are complete; a failure leaves ``out_dir`` as it
was (absent, or the previous run's outputs).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.errors import InputError
from api.pipeline.outcome import Outcome
from api.pipeline.previous import LEDGER_HEADER, ledger_rows
from api.reports import tables
from api.scenario.csvio import write_csv

__all__ = ["OUTPUT_FILES", "atomic_dir", "check_out_dir", "write_outputs"]

OUTPUT_FILES = (
    "summary.json",
    "roster.csv",
    "activities.csv",
    "coverage.csv",
    "leave_decisions.csv",
    "staffing_plan.csv",
    "roster.xlsx",
    "calendars/",
    "report.html",
)


def check_out_dir(out_dir: Path, option: str = "--out") -> None:
    """Fail early (before solving) when the output folder cannot be made."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError.one(option, f"{out_dir} exists and is not a folder")
    parent = out_dir.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise InputError.one(option, f"cannot write into {parent}")


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary folder that replaces ``out_dir`` when the block succeeds."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.rmdir(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_outputs(
    o: Outcome,
    out_dir: Path,
    summary: dict[str, Any],
    on_file: Callable[[str], None] | None = None,
    sequence: int = 0,
    extra: dict[str, tuple[Sequence[str], list[list[str]]]] | None = None,
) -> list[str]:
    """Write every output of the contract into ``out_dir`` (atomically); returns the names.
    ``sequence``: the calendars' SEQUENCE; ``extra``: more CSV files, name -> (header, rows)
    (a re-plan's changes.csv)."""
    # start-up time: the writers' libraries (jinja2, openpyxl, icalendar) load only when outputs
    # are written, not for every `wfm` command that imports this package
    from api.reports.html import write_report  # start-up time, as above
    from api.reports.ics import write_calendars  # start-up time, as above
    from api.reports.xlsx import write_xlsx  # start-up time, as above

    solved = o.result.status.value in ("optimal", "feasible")
    written: list[str] = []

    def done(name: str) -> None:
        written.append(name)
        if on_file is not None:
            on_file(name)

    with atomic_dir(out_dir) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        done("summary.json")
        write_csv(tmp / "staffing_plan.csv", tables.STAFFING_HEADER, tables.staffing_rows(o))
        done("staffing_plan.csv")
        write_csv(tmp / "leave_decisions.csv", tables.LEAVE_HEADER, tables.leave_rows(o))
        done("leave_decisions.csv")
        # without a roster the tables keep their headers (no rows), so scripts still find them
        write_csv(tmp / "roster.csv", tables.ROSTER_HEADER, tables.roster_rows(o))
        done("roster.csv")
        write_csv(
            tmp / "activities.csv",
            tables.ACTIVITY_HEADER,
            [a.row() for a in tables.activities(o)] if solved else [],
        )
        done("activities.csv")
        write_csv(
            tmp / "coverage.csv", tables.COVERAGE_HEADER, tables.coverage_rows(o) if solved else []
        )
        done("coverage.csv")
        # the fairness ledger: the rows carried in, and this horizon's with a valid roster
        refused: dict[str, int] = defaultdict(int)
        for row in tables.leave_rows(o):
            if row[4] == "false":
                refused[row[0]] += 1
        write_csv(
            tmp / "ledger.csv",
            LEDGER_HEADER,
            ledger_rows(
                o.prepared.problem,
                o.prepared.ledger,
                o.result.assignments if solved else None,
                refused,
            ),
        )
        done("ledger.csv")
        for name, (header, rows) in (extra or {}).items():
            write_csv(tmp / name, header, rows)
            done(name)
        if solved:
            write_xlsx(tmp / "roster.xlsx", o, summary)
            done("roster.xlsx")
            write_calendars(tmp / "calendars", o, sequence)
            done("calendars/")
        write_report(tmp / "report.html", o, summary)
        done("report.html")
    return written
