"""Shared benchmark helpers: machine description and result files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(  # code changed since that commit (results files aside)
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!benchmarks/results",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout.strip()
        if commit and changed:
            commit += " + uncommitted changes"
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, data: dict[str, Any], markdown: str) -> Path:
    """Write benchmarks/results/NAME.json and NAME.md; returns the markdown path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(
        json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"
    )
    md = RESULTS / f"{name}.md"
    md.write_text(markdown, encoding="utf-8")
    return md


class FirstValid:
    """A solver progress callback that keeps the elapsed time of the first valid roster: an
    exact-model solution, or refinement reporting no hard-rule break left."""

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self, p: Any) -> None:
        valid_now = p.objective is not None and (
            p.phase == "exact" or p.message.startswith("0 hard-rule")
        )
        if valid_now and self.at is None:
            self.at = p.elapsed_s


def triples(spec: str) -> list[tuple[int, int, float]]:
    """``"a:b:seconds,..."`` (a benchmark's sets from the environment) as (int, int, float)."""
    out = []
    for part in spec.split(","):
        a, b, limit = part.split(":")
        out.append((int(a), int(b), float(limit)))
    return out
