"""The outputs of a solve never contradict each other, whatever way it ends: valid, timed out
with a best roster that breaks a hard rule, timed out with nothing, infeasible. Without a valid
roster every roster table holds its header only, the summary names the best roster's broken
rules (``hard_rule_violations`` is always there), leave is "not decided" everywhere, and the
report says what happened; requested leave outside the horizon is counted apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTS
from scenario_helpers import pinned_on_leave
from typer.testing import CliRunner

from api.cli import app
from api.pipeline.outcome import evaluate, options_for, solve_prepared
from api.pipeline.prepare import prepare_scenario
from api.reports import tables, write_outputs
from solver.schema import RosterResult, SolveStatus

HERE = TESTS
SMALL = HERE / "scenarios" / "small" / "small.yaml"
runner = CliRunner()

LEAVE = """agent_id,start,end,kind,status
A02,2026-12-08,2026-12-08,annual,approved
A05,2026-12-08,2026-12-08,day_off_request,requested
A06,2026-12-07T13:00,2026-12-07T14:00,training,approved
A03,2026-12-07,2026-12-07,day_off_request,requested
A04,2026-12-20,2026-12-21,annual,requested
A07,2026-12-28,2026-12-28,annual,approved
"""


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agree")
    (folder / "leave.csv").write_text(LEAVE, encoding="utf-8")
    f = folder / "week.yaml"
    f.write_text(f"extends: {SMALL}\nname: agreement\nleave: leave.csv\n", encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def valid(scenario: Path) -> RosterResult:
    prepared = prepare_scenario(scenario)
    result = solve_prepared(prepared, options_for(prepared.scenario, 6.0, 2))
    assert result.status.value in ("optimal", "feasible"), result.message
    return result


def _write(scenario: Path, result: RosterResult, out: Path) -> dict[str, Any]:
    prepared = prepare_scenario(scenario)
    o = evaluate(prepared, result)
    summary = tables.summary(o, scenario.name, 6.0)
    write_outputs(o, out, summary)
    return summary


def _check(out: Path) -> dict[str, Any]:
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    roster = _read(out / "roster.csv")
    activities = _read(out / "activities.csv")
    coverage = _read(out / "coverage.csv")
    leave = _read(out / "leave_decisions.csv")
    html = (out / "report.html").read_text(encoding="utf-8")
    solved = s["status"] in ("optimal", "feasible")
    hv = s["hard_rule_violations"]
    assert hv["roster_written"] is solved
    assert hv["count"] == len(hv["first"]) or hv["count"] > 20
    if solved:
        assert roster and activities and coverage
        assert s["shifts"] == len(roster)
        assert s["agents_scheduled"] == len({r["agent_id"] for r in roster})
        assert (out / "roster.xlsx").exists()
    else:
        assert roster == [] and activities == [] and coverage == []
        assert s["agents_scheduled"] == 0
        assert not (out / "roster.xlsx").exists() and not (out / "calendars").exists()
        assert all(r["granted"] == "" for r in leave)
        assert "Why there is no roster" in html
    # the leave counts are the file's
    lv = s["leave"]
    outside = [r for r in leave if r["reason"] == tables.OUTSIDE_HORIZON]
    assert lv["outside_horizon"] == len(outside) == 1
    assert lv["requested"] == len(leave) - len(outside) == 2
    assert lv["granted"] == sum(r["granted"] == "true" for r in leave)
    assert lv["refused"] == sum(r["granted"] == "false" for r in leave)
    assert lv["not_decided"] == lv["requested"] - lv["granted"] - lv["refused"]
    assert lv["not_decided"] == (0 if solved else 2)
    # the report names the broken rules and never calls a best roster "no roster"
    if hv["count"]:
        assert f"breaks {hv['count']} hard rule(s)" in html
        assert "No roster was found" not in html
    return s


def test_valid_solve_agrees(scenario: Path, valid: RosterResult, tmp_path: Path) -> None:
    _write(scenario, valid, tmp_path / "out")
    s = _check(tmp_path / "out")
    assert s["hard_rule_violations"]["count"] == 0 and s["hard_rule_violations"]["first"] == []


def test_best_roster_with_a_broken_rule_is_named_not_written(
    scenario: Path, valid: RosterResult, tmp_path: Path
) -> None:
    # the solver's best roster with one shift's breaks dropped: a hard rule broken
    first = valid.assignments[0]
    broken = (first.model_copy(update={"breaks": ()}), *valid.assignments[1:])
    result = valid.model_copy(
        update={
            "status": SolveStatus.timeout_no_solution,
            "objective": None,
            "assignments": broken,
            "message": "the best roster found breaks hard rules",
        }
    )
    _write(scenario, result, tmp_path / "out")
    s = _check(tmp_path / "out")
    assert s["hard_rule_violations"]["count"] >= 1
    assert s["hard_rule_violations"]["roster_written"] is False


def test_timeout_without_a_roster_agrees(
    scenario: Path, valid: RosterResult, tmp_path: Path
) -> None:
    result = RosterResult(
        status=SolveStatus.timeout_no_solution,
        wall_time_s=6.0,
        message="no weekly plan found in the time given",
        phases={"prepare": 0.1, "bound": 1.0, "master": 4.9},
    )
    _write(scenario, result, tmp_path / "out")
    s = _check(tmp_path / "out")
    assert s["hard_rule_violations"] == {"count": 0, "first": [], "roster_written": False}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "No roster was found" in html and "used its whole time limit" in html


def test_infeasible_solve_agrees(scenario: Path, tmp_path: Path) -> None:
    f = pinned_on_leave(scenario, tmp_path)
    r = runner.invoke(app, ["solve", str(f), "--out", str(tmp_path / "out"), "--quiet"])
    assert r.exit_code == 1, r.stdout + r.stderr
    s = _check(tmp_path / "out")
    assert s["status"] == "infeasible" and s["explanation"]


def test_validate_counts_only_the_leave_in_the_horizon(scenario: Path) -> None:
    r = runner.invoke(app, ["validate", str(scenario)])
    assert r.exit_code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "2 approved and 2 requested leave in the horizon (2 more outside it" in text
