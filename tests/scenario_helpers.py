"""Scenario files the command-line and output tests share."""

from __future__ import annotations

import textwrap
from pathlib import Path


def pinned_on_leave(base: Path, folder: Path) -> Path:
    """A what-if of ``base`` that cannot be rostered: A02 is on approved annual leave on
    Tuesday 8 Dec 2026 (the small scenario's leave.csv) and pinned to work that day."""
    (folder / "pinned.csv").write_text(
        "agent_id,date,shift_type\nA02,2026-12-08,early\n", encoding="utf-8"
    )
    f = folder / "infeasible.yaml"
    f.write_text(
        textwrap.dedent(f"""\
        extends: {base}
        name: pinned on leave
        pinned: pinned.csv
        """),
        encoding="utf-8",
    )
    return f
