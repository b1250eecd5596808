"""Broken scenarios (tests/bad_scenarios/): exit code 2, a message naming the place and what was
expected, no traceback, and nothing written to the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TESTS
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
BAD = TESTS / "bad_scenarios"

# file -> substrings the error output must contain (the place and what was expected)
CASES: dict[str, tuple[str, ...]] = {
    "unknown_key.yaml": (
        "unknown_key.yaml:4 channels[phone].servce_level",
        "unknown key 'servce_level'; did you mean 'service_level'?",
    ),
    "unknown_agent_in_leave.yaml": (
        "leave_unknown_agent.csv:3 column agent_id",
        "unknown agent 'Z99'",
    ),
    # every problem at once: the YAML's own errors stop the full cross-check, yet the leave
    # file's unknown agent is still reported with them
    "several_problems.yaml": (
        "several_problems.yaml:5 channels[phone].servce_level",
        "several_problems.yaml:8 shift_types[early].start.earliest",
        "leave_unknown_agent.csv:3 column agent_id",
        "unknown agent 'Z99'",
        "several_problems.yaml:10 pinned[0].shift_type",
        "unknown shift type 'erly'; did you mean 'early'?",
    ),
    "leave_ends_before_start.yaml": (
        "leave_backwards.csv:2 column end",
        "ends (2026-12-07) before it starts (2026-12-08)",
    ),
    "break_window_longer_than_shift.yaml": (
        "break_window_longer_than_shift.yaml:5 shift_types[early].breaks[0].latest",
        "break window longer than the shift",
        "shortest early shift is 480 min",
    ),
    "channel_without_demand.yaml": (
        "channel_without_demand.yaml:3 channels[email].demand",
        "required key missing",
    ),
    "shift_type_no_contract_allows.yaml": (
        "shift_type_no_contract_allows.yaml:3 shift_types[night]",
        "no contract allows shift type 'night'",
    ),
    "negative_weight.yaml": (
        "negative_weight.yaml:3 objective.over_cover",
        "expected a number >= 0",
        "got -1",
    ),
    "malformed_time.yaml": (
        "malformed_time.yaml:4 shift_types[early].start.earliest",
        "expected a time of day HH:MM",
        "'7h30'",
    ),
    "missing_file.yaml": (
        "missing_file.yaml:4 channels[chat].demand.forecast_file",
        "file not found",
        "no_such_file.csv",
    ),
    "extends_cycle_a.yaml": ("extends", "cycle", "extends_cycle_a.yaml -> "),
    "empty_agents.yaml": ("agents_empty.csv", "no data rows; expected at least one agent"),
    "unknown_contract.yaml": (
        "agents_bad_contract.csv:3 column contract",
        "unknown contract 'ful_time'; did you mean 'full_time'?",
        "agents_bad_contract.csv:4 column skills",
        "unknown channel 'fax'",
    ),
    "not_yaml.yaml": ("not_yaml.yaml:3", "not valid YAML"),
    "overlapping_breaks.yaml": (
        "overlapping_breaks.yaml:6 shift_types[late].breaks[1].earliest",
        "overlap",
    ),
    "off_grid.yaml": (
        "shift_types[late].breaks[0].minutes",
        "not a multiple of the 30-minute interval",
    ),
    "remove_unknown.yaml": ("remove_unknown.yaml:3", "no item with id 'fax'"),
    "duplicate_key.yaml": ("duplicate_key.yaml:3", "key 'name' is given twice"),
    "min_staff_unknown_channel.yaml": (
        "min_staff[0].channel",
        "unknown channel 'phnoe'; did you mean 'phone'?",
        "role_coverage[0].role",
        "no agent has the role 'supervisor'",
    ),
    "wrong_types.yaml": (
        "horizon.days: expected a number >= 1, got 0",
        "horizon.interval_minutes: expected one of 5, 10, 15, 30 or 60, got 20",
        "horizon.timezone: unknown time zone 'Mars/Olympus'",
        "channels[chat].kind",
        "shrinkage: expected a number < 1",
    ),
    "missing_extends.yaml": ("missing_extends.yaml:1 extends", "file not found"),
    "unknown_holiday_country.yaml": (
        "unknown_holiday_country.yaml:3 horizon.public_holidays",
        "unknown holiday country 'XX'",
    ),
    "holiday_region_without_country.yaml": (
        "holiday_region_without_country.yaml:3 horizon.public_holidays",
        "region needs the country too",
    ),
}


def test_every_broken_file_has_a_case() -> None:
    files = {p.name for p in BAD.glob("*.yaml")} - {"extends_cycle_b.yaml"}
    assert files == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario_exit_2_located_no_output(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = runner.invoke(app, ["solve", str(BAD / name), "--out", str(out)])
    text = r.stderr
    assert r.exit_code == 2, (r.exit_code, r.stdout, text)
    assert "Traceback" not in text + r.stdout
    flat = " ".join(text.split())  # rich may wrap long lines
    for piece in CASES[name]:
        assert piece in flat, f"{piece!r} not in:\n{text}"
    assert text.lstrip().startswith("error ")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind either


@pytest.mark.parametrize("name", ["unknown_key.yaml", "negative_weight.yaml", "not_yaml.yaml"])
def test_validate_reports_the_same(name: str) -> None:
    r = runner.invoke(app, ["validate", str(BAD / name)])
    assert r.exit_code == 2
    assert CASES[name][0] in " ".join(r.stderr.split())


def test_a_failed_run_keeps_the_previous_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    r = runner.invoke(app, ["solve", str(BAD / "negative_weight.yaml"), "--out", str(out)])
    assert r.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["summary.json"]


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x", encoding="utf-8")
    scenario = BAD.parent / "scenarios" / "small" / "small.yaml"
    r = runner.invoke(app, ["solve", str(scenario), "--out", str(f)])
    assert r.exit_code == 2
    assert "--out" in r.stderr and "not a folder" in r.stderr
