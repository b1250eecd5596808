"""What-if sweeps (api.sweep, wfm sweep / pareto): sweep files and their errors, key paths and
head count applied to a scenario, a real local Ray (2 CPUs, one session for the module) against
a sequential run of the same variants, the resume, a killed worker, the Pareto front."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import SMALL, TINY
from typer.testing import CliRunner

from api.cli import app
from api.errors import InputError
from api.sweep.engine import SweepProgress, check_variants, prepare_variant, run_sweep
from api.sweep.pareto import non_dominated, pareto_plan, parse_objectives, weight_points
from api.sweep.spec import SweepPlan, load_sweep

ray = pytest.importorskip("ray")


def sweep_file(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- sweep files
def test_sweep_file_errors_name_the_line_and_what_was_expected(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        "base: nowhere.yaml\n"  # 1
        "mode: crossed\n"  # 2
        "axes:\n"  # 3
        "  channels[phone].service_level.targit: [0.8]\n"  # 4
        "  channels[*].demand.volume_scale: {from: 1.2, to: 0.9, step: 0.1}\n"  # 5
        "  headcount[full_time]: [-1, 0.5]\n"  # 6
        "  channels.demand: [1]\n"  # 7
        "  rules.min_rest_hours: {from: 1, to: 2, step: -1}\n"  # 8
        "colour: red\n",  # 9
    )
    with pytest.raises(InputError) as exc:
        load_sweep(path)
    got = problems(exc)
    expected = [
        "sweep.yaml:1 base: file not found",
        "sweep.yaml:2 mode: expected one of 'cross' or 'zip', got 'crossed'",
        "sweep.yaml:4 axes.channels[phone].service_level.targit: unknown key 'targit' in "
        "channels[phone].service_level; did you mean 'target'?",
        "sweep.yaml:5 axes.channels[*].demand.volume_scale: to (0.9) is below from (1.2)",
        "sweep.yaml:6 axes.headcount[full_time]: expected whole numbers of agents",
        "sweep.yaml:7 axes.channels.demand: channels is a list; pick its items",
        "sweep.yaml:8 axes.rules.min_rest_hours.step: expected a number > 0",
        "sweep.yaml:9 colour: unknown key 'colour'",
    ]
    for text in expected:
        assert any(text in g for g in got), (text, got)
    assert len(got) == len(expected), got


def test_variant_values_are_checked_against_the_scenario(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        f"base: {SMALL / 'small.yaml'}\n"
        "axes:\n"
        "  channels[fax].service_level.target: [0.8]\n"  # 3
        "  channels[phone].service_level.target: [0.8, 1.5]\n"  # 4
        "  headcount[part_time]: [-9]\n"  # 5
        "  headcount[night_owls]: [1]\n",  # 6
    )
    plan = load_sweep(path)
    assert len(plan.variants) == 2
    with pytest.raises(InputError) as exc:
        check_variants(plan)
    got = problems(exc)
    assert any(
        "sweep.yaml:3 axes.channels[fax].service_level.target: channels has no item with id "
        "'fax' (ids: phone, chat, messages)" in g
        for g in got
    ), got
    assert any("sweep.yaml:4 " in g and "expected a number <= 1" in g for g in got), got
    assert any(
        "sweep.yaml:5 " in g and "cannot drop 9 agents of part_time: it has 2" in g for g in got
    )
    assert any("sweep.yaml:6 " in g and "no agent has contract 'night_owls'" in g for g in got)


def test_zip_needs_axes_of_one_length(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        f"base: {TINY / 'tiny.yaml'}\nmode: zip\naxes:\n"
        "  channels[phone].service_level.target: [0.7, 0.8]\n"
        "  shrinkage: {from: 0, to: 0.2, step: 0.1}\n",
    )
    with pytest.raises(InputError) as exc:
        load_sweep(path)
    assert "mode: zip needs axes of one length" in problems(exc)[0]


def test_cli_bad_sweep_exits_2_without_traceback(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "base: missing.yaml\naxes: {shrinkage: [0.1]}\n")
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "base: file not found" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_key_paths_and_head_count_edit_the_scenario(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        f"base: {SMALL / 'small.yaml'}\nmode: zip\nset: {{rules.min_rest_hours: 10}}\naxes:\n"
        "  channels[*].demand.volume_scale: [1.2, 0.8]\n"
        "  headcount[full_time]: [-2, 3]\n",
    )
    plan = load_sweep(path)
    assert [v.name for v in plan.variants] == [
        "volume_scale=1.2_headcount.full_time=-2",
        "volume_scale=0.8_headcount.full_time=3",
    ]
    fewer = prepare_variant(plan, plan.variants[0]).scenario
    more = prepare_variant(plan, plan.variants[1]).scenario
    assert {c.demand.volume_scale for c in fewer.channels} == {1.2}
    assert fewer.rules.min_rest_hours == 10
    full = [a for a in load_scenario_agents() if a[1] == "full_time"]
    assert len([a for a in fewer.agents if a.contract == "full_time"]) == len(full) - 2
    dropped = {a[0] for a in full[-2:]}
    assert not dropped & {a.id for a in fewer.agents}
    assert not dropped & {lv.agent_id for lv in fewer.leave}
    added = [a for a in more.agents if a.id.startswith("full_time-extra-")]
    assert len(added) == 3 and all(a.contract == "full_time" and a.skills for a in added)


def load_scenario_agents() -> list[tuple[str, str]]:
    with (SMALL / "agents.csv").open(encoding="utf-8") as fh:
        return [(r["id"], r["contract"]) for r in csv.DictReader(fh)]


def test_pareto_helpers() -> None:
    pts: list[dict[str, float | None]] = [
        {"cost": 100, "service_level": 0.8, "fairness": 2},
        {"cost": 90, "service_level": 0.8, "fairness": 2},  # dominates the first
        {"cost": 120, "service_level": 0.9, "fairness": 3},
        {"cost": 95, "service_level": 0.7, "fairness": 0},
        {"cost": None, "service_level": None, "fairness": None},  # failed
    ]
    assert non_dominated(pts) == [False, True, True, True, False]
    assert non_dominated(pts, ["cost", "service_level"]) == [False, True, True, False, False]
    assert weight_points(2, 5) == [(1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0, 1.0)]
    three = weight_points(3, 8)
    assert len(three) == 8 and all(abs(sum(p) - 1) < 1e-9 for p in three)
    assert {(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)} <= set(three)
    with pytest.raises(InputError):
        parse_objectives("cost,speed")
    plan = pareto_plan(TINY / "tiny.yaml", ["cost", "service_level"], 3, 2.0)
    weights = [dict(v.values) for v in plan.variants]
    # the middle point is the scenario's own weights (over 1, under 10, late 10)
    assert weights[1] == {"over_cover": 1.0, "under_cover": 10.0, "deferred_late": 10.0}
    assert weights[0]["over_cover"] == 10.0 and weights[0]["under_cover"] == 1.0


# --------------------------------------------------------------------------- on Ray
@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


def six_variants(folder: Path) -> SweepPlan:
    """6 variants of the tiny scenario, deterministic search, 5 s each (each is optimal in well
    under a second, so the search ends on its own, not on the clock)."""
    return load_sweep(
        sweep_file(
            folder,
            f"base: {TINY / 'tiny.yaml'}\nname: tiny what-ifs\ntime_limit_seconds: 5\n"
            "set: {solver.deterministic: true, solver.seed: 3}\naxes:\n"
            "  channels[phone].service_level.target: [0.7, 0.9]\n"
            "  channels[*].demand.volume_scale: {from: 0.9, to: 1.1, step: 0.1}\n",
        )
    )


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


SAME = (
    "variant",
    "status",
    "objective",
    "paid_hours",
    "agents_scheduled",
    "service_level.phone",
    "under_cover_agent_hours",
    "over_cover_agent_hours",
    "fairness_spread",
    "pareto",
    "scenario_sha256",
)


def test_ray_sweep_matches_a_sequential_run_and_resumes(ray_session: None, tmp_path: Path) -> None:
    plan = six_variants(tmp_path)
    events: list[SweepProgress] = []
    on_ray = run_sweep(plan, tmp_path / "ray", workers=1, on_progress=events.append)
    assert on_ray.parallel == 2 and on_ray.workers == 1
    run_sweep(plan, tmp_path / "seq", workers=1, use_ray=False)
    assert len(on_ray.rows) == 6 and all(r.solved for r in on_ray.rows), on_ray.rows
    a, b = rows_of(tmp_path / "ray" / "sweep.csv"), rows_of(tmp_path / "seq" / "sweep.csv")
    assert [{k: r[k] for k in SAME} for r in a] == [{k: r[k] for k in SAME} for r in b]
    for r in on_ray.rows:
        assert r.summary["reproducible"] is True
        ray_roster = (tmp_path / "ray" / r.variant / "roster.csv").read_bytes()
        assert ray_roster == (tmp_path / "seq" / r.variant / "roster.csv").read_bytes()
    assert a[0]["target"] == "0.7" and a[0]["volume_scale"] == "0.9"
    assert any(r["pareto"] == "true" for r in a)
    html = (tmp_path / "ray" / "sweep.html").read_text(encoding="utf-8")
    assert "non-dominated" in html and "<svg" in html
    assert events[-1].done == 6 and events[-1].failed == 0 and max(e.running for e in events) == 2
    # a re-run skips every variant solved with the same inputs ...
    again = run_sweep(plan, tmp_path / "ray", workers=1)
    assert all(r.resumed for r in again.rows) and again.wall_time_s < 5
    # ... and solves again the one whose inputs (here: its recorded hash) differ
    first = tmp_path / "ray" / plan.variants[0].name / "summary.json"
    stale = json.loads(first.read_text(encoding="utf-8"))
    stale["scenario_sha256"] = "0" * 64
    first.write_text(json.dumps(stale), encoding="utf-8")
    third = run_sweep(plan, tmp_path / "ray", workers=1)
    assert [r.resumed for r in third.rows] == [False] + [True] * 5
    assert third.rows[0].summary["objective"] == on_ray.rows[0].summary["objective"]


def test_a_killed_worker_is_retried_once_and_a_lost_one_fails_alone(
    ray_session: None, tmp_path: Path
) -> None:
    plan = six_variants(tmp_path)
    two = SweepPlan(plan.name, plan.base, plan.axes, plan.variants[:2], plan.source)
    once, twice = tmp_path / "once.count", tmp_path / "twice.count"
    crash = {two.variants[0].name: (str(once), 1), two.variants[1].name: (str(twice), 2)}
    out = run_sweep(two, tmp_path / "out", workers=1, crash=crash)
    retried, lost = out.rows
    assert once.read_text() == "1" and retried.solved, retried
    assert twice.read_text() == "2" and lost.status == "failed"
    assert "worker lost" in lost.reason
    rows = rows_of(tmp_path / "out" / "sweep.csv")
    assert rows[1]["status"] == "failed" and "worker lost" in rows[1]["reason"]
    assert (tmp_path / "out" / retried.variant / "roster.csv").exists()


def test_pareto_command_on_ray(ray_session: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "pareto",
            str(TINY / "tiny.yaml"),
            "--out",
            str(tmp_path / "front"),
            "--objectives",
            "cost,service_level",
            "--points",
            "2",
            "--time-limit",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "front" / "sweep.csv")
    assert [r["over_cover"] for r in rows] == ["10", "0.1"]
    assert any(r["pareto"] == "true" for r in rows)


def test_plan_from_names_duplicate_labels_by_path(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        f"base: {SMALL / 'small.yaml'}\naxes:\n"
        "  channels[phone].service_level.target: [0.8]\n"
        "  channels[chat].service_level.target: [0.9]\n",
    )
    plan = load_sweep(path)
    assert plan.axes == (
        "channels.phone.service_level.target",
        "channels.chat.service_level.target",
    )
