"""HR leave records: imports checked row by row (all or nothing), stored, listed, and merged into
the scenarios that are solved.

A CSV import has the columns of a scenario's ``leave.csv`` (``agent_id,start,end,kind,status``,
optionally ``weight``, extra columns as ``x_*``); a JSON import the same fields per record. Every
row is checked with the scenario format's own ``LeaveSpec``; problems name the line (CSV) or the
row number (JSON), and nothing is stored when any row is bad.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import tempfile
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import InputError, NotFoundError, Problem
from api.scenario.csvio import read_rows
from api.scenario.loader import describe_error
from api.scenario.models import LEAVE_COLUMNS, LEAVE_OPTIONAL, LeaveSpec
from api.store.db import LeaveRow, utcnow
from common.enums import LeaveStatus

__all__ = [
    "import_leave",
    "leave_csv",
    "leave_for_agents",
    "list_leave",
    "parse_leave_csv",
    "parse_leave_records",
    "spec_of",
    "text_of",
]


def text_of(value: date | datetime) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


def _check(spec: LeaveSpec, where: str, problems: list[Problem]) -> None:
    """The scenario checker's rules for one leave row: same kind of bounds, end after start."""
    if isinstance(spec.start, datetime) != isinstance(spec.end, datetime):
        problems.append(
            Problem(
                where,
                "start and end must both be dates (whole days) or both date-times (part of a "
                f"day), got {text_of(spec.start)} and {text_of(spec.end)}",
            )
        )
    elif spec.end < spec.start or (isinstance(spec.start, datetime) and spec.end == spec.start):
        problems.append(Problem(where, f"the leave ends ({text_of(spec.end)}) before it starts"))


def _validate(cells: dict[str, Any], where: str, problems: list[Problem]) -> LeaveSpec | None:
    try:
        spec = LeaveSpec.model_validate(cells)
    except ValidationError as exc:
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"])
            col = f" column {loc}" if loc else ""
            problems.append(Problem(f"{where}{col}", describe_error(e)))
        return None
    if not 0 < len(spec.agent_id.strip()) <= 100:
        problems.append(
            Problem(f"{where} column agent_id", "expected an agent id of 1-100 characters")
        )
        return None
    if not math.isfinite(spec.weight):
        problems.append(Problem(f"{where} column weight", "expected a finite number >= 0"))
        return None
    _check(spec, where, problems)
    return spec


def _known(specs: Sequence[tuple[str, LeaveSpec]], agents: Sequence[str] | None) -> list[Problem]:
    if agents is None:
        return []
    known = set(agents)
    problems = []
    for where, spec in specs:
        if spec.agent_id not in known:
            close = difflib.get_close_matches(spec.agent_id, list(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(f"{where} column agent_id", f"unknown agent {spec.agent_id!r}{hint}")
            )
    return problems


def parse_leave_csv(
    data: bytes, name: str = "leave.csv", agents: Sequence[str] | None = None
) -> list[LeaveSpec]:
    """Rows of a leave CSV; InputError naming the line of every problem."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leave.csv"
        path.write_bytes(data)
        try:
            rows = read_rows(path, LEAVE_COLUMNS, LEAVE_OPTIONAL)
        except InputError as exc:
            raise InputError(
                [Problem(p.where.replace(str(path), name), p.message) for p in exc.problems]
            ) from None
    if not rows:
        raise InputError.one(name, "no data rows; expected " + ",".join(LEAVE_COLUMNS))
    problems: list[Problem] = []
    specs: list[tuple[str, LeaveSpec]] = []
    for row in rows:
        cells = {
            k: v
            for k, v in row.cells.items()
            if not k.startswith("x_") and not (k in LEAVE_OPTIONAL and v == "")
        }
        where = f"{name}:{row.line}"
        spec = _validate(cells, where, problems)
        if spec is not None:
            specs.append((where, spec))
    problems += _known(specs, agents)
    if problems:
        raise InputError(problems)
    return [s for _, s in specs]


def parse_leave_records(
    records: Sequence[dict[str, Any]], agents: Sequence[str] | None = None
) -> list[LeaveSpec]:
    """Leave records given as JSON objects; problems name the row (1-based)."""
    problems: list[Problem] = []
    specs: list[tuple[str, LeaveSpec]] = []
    for i, record in enumerate(records, start=1):
        where = f"records row {i}"
        spec = _validate(dict(record), where, problems)
        if spec is not None:
            specs.append((where, spec))
    problems += _known(specs, agents)
    if problems:
        raise InputError(problems)
    return [s for _, s in specs]


def _days(spec: LeaveSpec) -> tuple[date, date]:
    lo = spec.start.date() if isinstance(spec.start, datetime) else spec.start
    if isinstance(spec.end, datetime):
        end = spec.end
        hi = (
            (end - timedelta(microseconds=1)).date()
            if end.time() == datetime.min.time()
            else (end.date())
        )
    else:
        hi = spec.end
    return lo, max(lo, hi)


def import_leave(session: Session, specs: Sequence[LeaveSpec], role: str) -> list[LeaveRow]:
    """Store checked leave rows as one batch (the caller's transaction: all or nothing)."""
    batch = uuid.uuid4().hex
    rows = []
    for spec in specs:
        lo, hi = _days(spec)
        rows.append(
            LeaveRow(
                agent_id=spec.agent_id,
                start=text_of(spec.start),
                end=text_of(spec.end),
                start_day=lo,
                end_day=hi,
                kind=spec.kind.value,
                status=spec.status.value,
                weight=spec.weight,
                batch_id=batch,
                created_by=role,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def list_leave(
    session: Session,
    agent_id: str | None,
    status: LeaveStatus | None,
    day_from: date | None,
    day_to: date | None,
    limit: int,
    offset: int,
) -> tuple[list[LeaveRow], int]:
    stmt = select(LeaveRow)
    if agent_id is not None:
        stmt = stmt.where(LeaveRow.agent_id == agent_id)
    if status is not None:
        stmt = stmt.where(LeaveRow.status == status.value)
    if day_from is not None:
        stmt = stmt.where(LeaveRow.end_day >= day_from)
    if day_to is not None:
        stmt = stmt.where(LeaveRow.start_day <= day_to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(LeaveRow.start_day, LeaveRow.agent_id, LeaveRow.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def get_leave(session: Session, leave_id: int) -> LeaveRow:
    row = session.get(LeaveRow, leave_id)
    if row is None:
        raise NotFoundError("leave record", leave_id)
    return row


def update_status(session: Session, leave_id: int, status: LeaveStatus) -> LeaveRow:
    row = get_leave(session, leave_id)
    row.status = status.value
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_leave(session: Session, leave_id: int) -> None:
    session.delete(get_leave(session, leave_id))
    session.flush()


def spec_of(row: LeaveRow) -> LeaveSpec:
    return LeaveSpec.model_validate(
        {
            "agent_id": row.agent_id,
            "start": row.start,
            "end": row.end,
            "kind": row.kind,
            "status": row.status,
            "weight": row.weight,
        }
    )


def leave_for_agents(
    session: Session, agents: Sequence[str], first: date, last: date
) -> list[LeaveRow]:
    """Stored leave of these agents that touches the days ``first..last``."""
    if not agents:
        return []
    rows = session.scalars(
        select(LeaveRow)
        .where(LeaveRow.agent_id.in_(list(agents)))
        .where(LeaveRow.end_day >= first - timedelta(days=1))
        .where(LeaveRow.start_day <= last)
        .order_by(LeaveRow.id)
    ).all()
    return list(rows)


def leave_csv(specs: Sequence[LeaveSpec]) -> str:
    """Leave rows as a scenario leave.csv."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*LEAVE_COLUMNS, "weight"])
    for s in specs:
        w.writerow(
            [
                s.agent_id,
                text_of(s.start),
                text_of(s.end),
                s.kind.value,
                s.status.value,
                f"{s.weight:g}",
            ]
        )
    return buf.getvalue()
