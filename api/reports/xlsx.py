"""roster.xlsx: a supervisor-friendly grid (agents x days) plus the roster, activity, coverage and
leave tables (openpyxl)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from api.pipeline.outcome import Outcome
from api.reports import tables
from solver.schema import ShiftAssignment

PALETTE = ("DCEBFF", "FFE7C7", "DFF5E1", "F5DDF2", "FFF6BF", "E0E0F8", "D9F2F2", "F7DEDE")
_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="34495E")
_THIN = Side(style="thin", color="C8CCD0")


def shift_colours(o: Outcome) -> dict[str, str]:
    return {t.id: PALETTE[i % len(PALETTE)] for i, t in enumerate(o.prepared.scenario.shift_types)}


def _table(ws: Any, header: tuple[str, ...], rows: list[list[str]], numeric: set[str]) -> None:
    ws.append(list(header))
    for c in ws[1]:
        c.font, c.fill = _HEAD, _HEAD_FILL
    idx = [i for i, h in enumerate(header) if h in numeric]
    for row in rows:
        values: list[Any] = list(row)
        for i in idx:
            if values[i] != "":
                with contextlib.suppress(ValueError):
                    values[i] = float(values[i]) if "." in values[i] else int(values[i])
        ws.append(values)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, h in enumerate(header, start=1):
        width = max([len(h)] + [len(str(r[i - 1])) for r in rows[:200]]) + 2
        ws.column_dimensions[get_column_letter(i)].width = min(width, 60)


def _grid(ws: Any, o: Outcome) -> None:
    s = o.prepared.scenario
    days = [s.horizon.start + timedelta(days=d) for d in range(s.horizon.days)]
    ws.append(["agent", "name", "team", "contract", *[f"{d:%a %d %b}" for d in days], "paid h"])
    for c in ws[1]:
        c.font, c.fill = _HEAD, _HEAD_FILL
        c.alignment = Alignment(horizontal="center")
    colours = shift_colours(o)
    by_agent: dict[str, dict[int, ShiftAssignment]] = defaultdict(dict)
    for sh in o.result.assignments:
        by_agent[sh.agent_id][sh.day] = sh
    leave_days: dict[str, dict[int, str]] = defaultdict(dict)
    granted = {d.leave_index for d in o.result.leave_decisions if d.granted}
    for i, lv in enumerate(o.prepared.problem.leave):
        if not lv.whole_days or (lv.status.value == "requested" and i not in granted):
            continue
        for d in lv.days():
            if 0 <= d < s.horizon.days:
                leave_days[lv.agent_id][d] = lv.kind.value.replace("_", " ")
    leave_fill = PatternFill("solid", fgColor="EEEEEE")
    for agent in sorted(s.agents, key=lambda a: (a.team, a.id)):
        row: list[Any] = [agent.id, agent.name, agent.team, agent.contract]
        paid = 0
        cells: list[tuple[str, str | None, str]] = []
        for d in range(s.horizon.days):
            a = by_agent[agent.id].get(d)
            if a is None:
                text = leave_days[agent.id].get(d, "")
                cells.append((text, None, ""))
                continue
            paid += a.paid_minutes
            start, end = s.minute_time(a.start), s.minute_time(a.end)
            breaks = ", ".join(f"{b.name} {s.minute_time(b.start):%H:%M}" for b in a.breaks)
            text = f"{a.shift_type} {start:%H:%M}-{end:%H:%M}"
            detail = "\n".join(
                f"{x.activity} {x.start:%H:%M}-{x.end:%H:%M} {x.channel}".rstrip()
                for x in tables.shift_activities(o, a)
            )
            cells.append((text + (f"\n{breaks}" if breaks else ""), a.shift_type, detail))
        ws.append(row + [c[0] for c in cells] + [round(paid / 60, 2)])
        r = ws.max_row
        for j, (text, stype, detail) in enumerate(cells):
            cell = ws.cell(row=r, column=5 + j)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
            if stype is not None:
                cell.fill = PatternFill("solid", fgColor=colours[stype])
                cell.comment = Comment(detail, "wfm")
                cell.comment.width, cell.comment.height = 260, 200
            elif text:
                cell.fill = leave_fill
                cell.font = Font(italic=True, color="777777")
        ws.row_dimensions[r].height = 30
    ws.freeze_panes = "E2"
    for col, width in (("A", 10), ("B", 20), ("C", 10), ("D", 12)):
        ws.column_dimensions[col].width = width
    for j in range(len(days)):
        ws.column_dimensions[get_column_letter(5 + j)].width = 24


def _summary(ws: Any, summary: dict[str, Any]) -> None:
    ws.append(["key", "value"])
    for c in ws[1]:
        c.font, c.fill = _HEAD, _HEAD_FILL

    def put(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            ws.append([prefix, "; ".join(str(v) for v in value)])
        else:
            ws.append([prefix, value])

    put("", summary)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 80


def write_xlsx(path: Path, o: Outcome, summary: dict[str, Any]) -> None:
    wb = Workbook()
    grid = wb.active
    grid.title = "Grid"
    _grid(grid, o)
    _summary(wb.create_sheet("Summary"), summary)
    _table(wb.create_sheet("Roster"), tables.ROSTER_HEADER, tables.roster_rows(o), {"paid_minutes"})
    _table(
        wb.create_sheet("Activities"),
        tables.ACTIVITY_HEADER,
        [a.row() for a in tables.activities(o)],
        set(),
    )
    _table(
        wb.create_sheet("Coverage"),
        tables.COVERAGE_HEADER,
        tables.coverage_rows(o),
        {"required", "scheduled", "under", "over", "projected_service_level"},
    )
    _table(wb.create_sheet("Leave decisions"), tables.LEAVE_HEADER, tables.leave_rows(o), set())
    wb.save(path)


__all__ = ["shift_colours", "write_xlsx"]
