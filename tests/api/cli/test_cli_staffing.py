"""`wfm staffing`: the calculator, the file mode, and bad input (exit 2, one line per problem)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from conftest import ROOT
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_single_interval_table() -> None:
    code, out, err = run(
        "staffing",
        "--volume",
        "120",
        "--aht",
        "240",
        "--interval",
        "30",
        "--sl",
        "0.8",
        "--answer",
        "20",
    )
    assert code == 0, err
    assert "traffic (Erlangs)" in out and "16" in out
    assert "agents (Erlang C)" in out and "20" in out
    assert "81.65 %" in out


def test_single_interval_all_options() -> None:
    code, out, err = run(
        "staffing",
        "--volume",
        "120",
        "--aht",
        "240",
        "--interval",
        "30",
        "--sl",
        "0.8",
        "--answer",
        "20",
        "--max-occupancy",
        "0.85",
        "--shrinkage",
        "0.3",
        "--patience",
        "90",
    )
    assert code == 0, err
    assert "Erlang A" in out and "abandonment" in out and "after shrinkage" in out
    code, out, err = run(
        "staffing", "--volume", "120", "--aht", "240", "--interval", "30", "--concurrency", "3"
    )
    assert code == 0, err
    assert "3 chats/agent" in out


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_file_mode_writes_plan(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "f.csv",
        "interval_start,volume,aht_seconds,channel\n"
        "2026-12-07T08:00,100,240,phone\n2026-12-07T08:30,120,240,phone\n"
        "2026-12-07 09:00,0,0,phone\n2026-12-07T08:00,30,600,chat\n"
        "2026-12-07T08:30,40,600,chat\n",
    )
    out = tmp_path / "out" / "plan.csv"
    code, stdout, err = run(
        "staffing",
        str(src),
        "--sl",
        "0.8",
        "--answer",
        "20",
        "--shrinkage",
        "0.3",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "Plan written to" in stdout
    rows = list(csv.DictReader(out.open()))
    assert [r["channel"] for r in rows] == ["phone"] * 3 + ["chat"] * 2
    assert rows[1]["agents_erlang"] == "20" and rows[1]["agents_required"] == "29"
    assert rows[2]["agents_required"] == "0" and rows[2]["service_level"] == ""
    assert set(rows[0]) >= {
        "interval_start",
        "traffic_erlangs",
        "agents_after_occupancy",
        "service_level",
        "asa_seconds",
        "occupancy",
    }


def test_file_mode_deferred(tmp_path: Path) -> None:
    lines = ["interval_start,volume,aht_seconds"]
    for h in range(24):
        for m in (0, 30):
            lines.append(f"2026-12-07T{h:02d}:{m:02d},{8 if 7 <= h < 22 else 2},180")
    src = _write(tmp_path / "m.csv", "\n".join(lines) + "\n")
    out = tmp_path / "plan.csv"
    code, _, err = run(
        "staffing",
        str(src),
        "--deadline",
        "60",
        "--overnight-deadline",
        "10:00",
        "--staffed",
        "07:00-22:00",
        "--out",
        str(out),
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert all(r["agents_required"] == "0" for r in rows[:14])  # nobody before 07:00
    assert float(rows[19]["backlog_items"]) == 0.0  # overnight backlog cleared by 10:00


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("interval_start,volume\n2026-12-07T08:00,1\n", ":1: missing column(s) aht_seconds"),
        (
            "interval_start,volume,aht_seconds,queue\n2026-12-07T08:00,1,2,a\n",
            ":1: unknown column(s) queue",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:00,1,200\n2026-12-07T08:30,-4,200\n",
            ":3: column volume: expected a number >= 0, got '-4'",
        ),
        (
            "interval_start,volume,aht_seconds\nmonday 8am,1,200\n",
            ":2: column interval_start: expected a local date-time",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:00,nan,200\n",
            ":2: column volume: expected a finite number",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:00,3,0\n",
            ":2: column aht_seconds: expected a number > 0 where volume > 0",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:30,1,200\n2026-12-07T08:00,1,200\n",
            ":3: interval_start 2026-12-07 08:00:00 is earlier than the row before",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:00,1,200\n2026-12-07T08:00,1,200\n",
            ":3: duplicate interval_start",
        ),
        (
            "interval_start,volume,aht_seconds\n2026-12-07T08:00,1,200\n2026-12-07T08:15,1,200\n"
            "2026-12-07T08:35,1,200\n",
            ":4: mixed interval lengths",
        ),
        ("interval_start,volume,aht_seconds\n2026-12-07T08:00,1,200,9\n", ":2: expected 3 fields"),
        ("", "the file is empty"),
        ("interval_start,volume,aht_seconds\n", "no data rows"),
    ],
)
def test_bad_forecast_file(tmp_path: Path, content: str, expected: str) -> None:
    src = _write(tmp_path / "bad.csv", content)
    out = tmp_path / "plan.csv"
    code, _, err = run("staffing", str(src), "--out", str(out))
    assert code == 2
    assert expected in err, err
    assert str(src) in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".plan.csv*"))


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    code, _, err = run("staffing", str(tmp_path / "nope.csv"))
    assert code == 2 and "file not found" in err
    bad = tmp_path / "latin.csv"
    bad.write_bytes(
        "interval_start,volume,aht_seconds\n2026-12-07T08:00,1,2\xe9\n".encode("latin-1")
    )
    code, _, err = run("staffing", str(bad))
    assert code == 2 and "not UTF-8" in err


def test_every_problem_is_reported_once(tmp_path: Path) -> None:
    code, _, err = run(
        "staffing",
        "--volume",
        "-3",
        "--aht",
        "0",
        "--interval",
        "30",
        "--sl",
        "1.5",
        "--shrinkage",
        "1",
    )
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 4, err
    for option in ("--volume", "--aht", "--sl", "--shrinkage"):
        assert sum(option in ln for ln in lines) == 1
    src = _write(
        tmp_path / "two.csv",
        "interval_start,volume,aht_seconds\n2026-12-07T08:00,-1,200\n2026-12-07T08:30,1,abc\n",
    )
    code, _, err = run("staffing", str(src))
    assert code == 2
    assert ":2: column volume" in err and ":3: column aht_seconds" in err


@pytest.mark.parametrize(
    "args",
    [
        [
            "--volume",
            "10",
            "--aht",
            "200",
            "--interval",
            "30",
            "--concurrency",
            "2",
            "--deadline",
            "30",
        ],
        ["--volume", "10", "--aht", "200", "--interval", "0"],
        ["--volume", "10", "--aht", "200", "--interval", "30", "--patience", "-5"],
        [
            "--volume",
            "10",
            "--aht",
            "200",
            "--interval",
            "30",
            "--deadline",
            "60",
            "--overnight-deadline",
            "25:99",
        ],
        ["--volume", "10"],
    ],
)
def test_bad_options_exit_2(args: list[str]) -> None:
    code, _, err = run("staffing", *args)
    assert code == 2 and "Traceback" not in err and err.strip()


def test_console_script_has_no_traceback() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "staffing",
            "--volume",
            "nan",
            "--aht",
            "10",
            "--interval",
            "30",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "--volume" in r.stderr


def test_help_lists_the_commands_in_their_order() -> None:
    group = typer.main.get_command(app)
    ctx = group.make_context("wfm", [], resilient_parsing=True)
    assert group.list_commands(ctx) == [
        "staffing",
        "forecast",
        "backtest",
        "validate",
        "solve",
        "replan",
        "compare",
        "sweep",
        "pareto",
        "serve",
    ]
