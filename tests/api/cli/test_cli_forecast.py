"""`wfm forecast` and `wfm backtest`: files in, files out, and bad input (exit 2, located)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from forecast_helpers import DATA, synthetic, write_history
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("h") / "history.csv", synthetic(days=63))


def test_forecast_writes_the_forecast_format_and_staffing_reads_it(
    history: Path, tmp_path: Path
) -> None:
    out = tmp_path / "forecast.csv"
    code, stdout, err = run(
        "forecast",
        str(history),
        "--start",
        "2025-03-10",
        "--days",
        "7",
        "--out",
        str(out),
        "--model",
        "combined",
        "--holidays",
        "US",
    )
    assert code == 0, err
    assert "combined" in stdout and "Forecast written to" in stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["interval_start", "volume", "aht_seconds"]
    assert len(rows) == 7 * 48 and rows[0]["interval_start"] == "2025-03-10T00:00"
    assert all(float(r["volume"]) >= 0 and float(r["aht_seconds"]) > 0 for r in rows)
    code, stdout, err = run(
        "staffing", str(out), "--sl", "0.8", "--answer", "20", "--out", str(tmp_path / "plan.csv")
    )
    assert code == 0, err


def test_forecast_to_stdout_with_auto_and_a_coarser_interval(history: Path) -> None:
    code, stdout, err = run(
        "forecast", str(history), "--start", "2025-03-10", "--days", "1", "--interval", "60"
    )
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0] == "interval_start,volume,aht_seconds" and len(lines) == 25
    assert lines[2].startswith("2025-03-10T01:00,")


def test_forecast_of_several_queues_has_a_channel_column(tmp_path: Path) -> None:
    a = write_history(tmp_path / "a.csv", synthetic(days=63, seed=1), "phone")
    b = write_history(tmp_path / "b.csv", synthetic(days=63, seed=2), "chat")
    both = tmp_path / "both.csv"
    both.write_text(a.read_text() + "".join(b.read_text().splitlines(True)[1:]), encoding="utf-8")
    out = tmp_path / "f.csv"
    code, _, err = run(
        "forecast",
        str(both),
        "--start",
        "2025-03-10",
        "--days",
        "2",
        "--out",
        str(out),
        "--model",
        "profile",
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["channel"] for r in rows} == {"phone", "chat"} and len(rows) == 2 * 2 * 48


def test_backtest_prints_a_table_and_writes_json_and_plot(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    code, stdout, err = run(
        "backtest",
        str(history),
        "--model",
        "seasonal_naive",
        "--model",
        "combined",
        "--out",
        str(out),
        "--min-history-days",
        "35",
        "--week-start",
        "mon",
        "--holidays",
        "US",
    )
    assert code == 0, err
    assert "seasonal_naive" in stdout and "AHT profile" in stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [m["model"] for m in report["metrics"]] == ["seasonal_naive", "combined"]
    assert report["metrics"][1]["origins"] == 4 and report["metrics"][1]["wape"] < 0.3
    assert report["handle_time"]["default"]["error"] < 0.15
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_on_real_call_level_history() -> None:
    code, stdout, err = run(
        "backtest",
        str(DATA / "feb1999_aht_30min.csv"),
        "--model",
        "profile",
        "--min-history-days",
        "6",
        "--week-start",
        "sun",
        "--holidays",
        "IL",
    )
    assert code == 0, err
    assert "AHT profile" in stdout and "19.84" in stdout  # the benchmark's handle-time error


def bad_file(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "h.csv"
    p.write_text(
        "\n".join(["interval_start,offered,handle_time_seconds", *lines]) + "\n", encoding="utf-8"
    )
    return p


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["2025-03-03T08:00,5,100", "2025-03-03T08:30,-3,100"],
            ":3: column offered: negative count '-3'",
        ),
        (
            ["2025-03-03T08:00,5,100", "2025-03-03T09:00,5,100", "2025-03-03T08:30,5,100"],
            ":4: column interval_start: earlier than the row before",
        ),
        (
            ["2025-03-03T08:00,5,100", "2025-03-03T08:30,5,100", "2025-03-03T08:30,5,100"],
            ":4: column interval_start: duplicate interval_start",
        ),
        (
            [
                "2025-03-03T08:00,5,100",
                "2025-03-03T08:30,5,100",
                "2025-03-03T09:00,5,100",
                "2025-03-03T09:10,5,100",
            ],
            ":5: column interval_start: mixed interval lengths",
        ),
        (["2025-03-03T08:00,five,100"], ":2: column offered: expected a number"),
        (["03/03/2025 08:00,5,100"], ":2: column interval_start: expected a date-time"),
        (
            ["2025-03-03T08:00+01:00,5,100", "2025-03-03T08:30+01:00,5,100"],
            "has a UTC offset: give the time zone",
        ),
    ],
)
def test_bad_history_rows_are_located(tmp_path: Path, lines: list[str], expected: str) -> None:
    path = bad_file(tmp_path, lines)
    for command in (["forecast", str(path), "--start", "2025-03-10"], ["backtest", str(path)]):
        code, stdout, err = run(*command)
        assert code == 2, stdout
        assert expected in err and str(path) in err
        assert "Traceback" not in err + stdout


def test_bad_columns_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("interval_start,calls\n2025-03-03T08:00,5\n", encoding="utf-8")
    code, _, err = run("forecast", str(p), "--start", "2025-03-10")
    assert code == 2 and "missing column(s) offered, handle_time_seconds" in err
    assert "unknown column(s) calls" in err
    code, _, err = run("backtest", str(tmp_path / "nope.csv"))
    assert code == 2 and "file not found" in err


def test_bad_options_are_all_reported_at_once(history: Path) -> None:
    code, stdout, err = run(
        "forecast",
        str(history),
        "--start",
        "next monday",
        "--days",
        "0",
        "--model",
        "arima",
        "--holidays",
        "XX",
        "--special-date",
        "24/12",
        "--timezone",
        "Mars/Base",
    )
    assert code == 2, stdout
    lines = err.strip().splitlines()
    for option in ("--start", "--days", "--model", "--holidays", "--special-date", "--timezone"):
        assert any(option in line for line in lines), (option, err)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--start", "2025-03-01"], "--start: 2025-03-01 00:00 is inside the history"),
        (["--start", "2025-03-10", "--interval", "45"], "--interval: the history"),
        (
            ["--start", "2025-03-10", "--holidays", "US", "--region", "ZZ"],
            "--region: unknown region 'ZZ' of US",
        ),
    ],
)
def test_bad_forecast_requests(history: Path, args: list[str], expected: str) -> None:
    code, stdout, err = run("forecast", str(history), *args)
    assert code == 2, stdout
    assert expected in err


def test_special_days_file(history: Path, tmp_path: Path) -> None:
    good = tmp_path / "special.csv"
    good.write_text("date,name,factor\n2025-03-12,sale,2\n2025-03-13,mailing,\n", encoding="utf-8")
    code, _, err = run(
        "forecast",
        str(history),
        "--start",
        "2025-03-10",
        "--days",
        "7",
        "--special-days",
        str(good),
        "--special-date",
        "2025-03-14=0.5",
        "--out",
        str(tmp_path / "f.csv"),
        "--model",
        "profile",
    )
    assert code == 0, err
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,name,factor\n2025-13-01,x,\n2025-03-12,y,0\n2025-03-14,z,\n2025-03-14,w,\n",
        encoding="utf-8",
    )
    code, _, err = run(
        "forecast", str(history), "--start", "2025-03-10", "--special-days", str(bad)
    )
    assert code == 2
    assert f"{bad}:2: column date: expected a date" in err
    assert f"{bad}:3: column factor: expected a number > 0" in err
    assert f"{bad}:5: date 2025-03-14 already given on line 4" in err


def test_backtest_history_too_short_and_bad_week_start(tmp_path: Path) -> None:
    short = write_history(tmp_path / "short.csv", synthetic(days=20))
    code, _, err = run("backtest", str(short))
    assert code == 2 and "20 days of history are too few for a backtest" in err
    code, _, err = run("backtest", str(short), "--week-start", "someday", "--horizon-days", "0")
    assert code == 2 and "--week-start" in err and "--horizon-days" in err


def test_history_without_handle_times_cannot_forecast_aht(tmp_path: Path) -> None:
    rec = synthetic(days=63)
    rec = rec.model_copy(update={"handle_time_seconds": [None] * len(rec)})
    path = write_history(tmp_path / "h.csv", rec)
    code, _, err = run("forecast", str(path), "--start", "2025-03-10")
    assert code == 2 and "no handle times in the history" in err
