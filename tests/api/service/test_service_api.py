"""The HTTP service end to end on SQLite (httpx through Starlette's TestClient): roles, uploads
with revisions and located errors, calculators, solves in worker processes (roster, tables, CSV,
report, XLSX, calendars), infeasible results, comparisons, cancellation, queue limits, time
limits, leave imports and the impact of leave requests."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from service_helpers import (
    ADMIN,
    HR,
    PLANNER,
    SMALL,
    SUPERVISOR,
    TINY,
    json_upload,
    settings,
    upload,
    wait,
    wait_for_status,
)
from sqlalchemy import select

from api.service.app import create_app
from api.store.db import JobRow, make_engine, make_sessionmaker, migrate, session_scope

OPERATION_IDS = {
    "getHealth",
    "computeStaffing",
    "computeForecast",
    "createScenario",
    "listScenarios",
    "createScenarioRevision",
    "getScenario",
    "getScenarioRevision",
    "getScenarioFile",
    "diffScenario",
    "createSolve",
    "listSolves",
    "createComparison",
    "getSolve",
    "cancelSolve",
    "getSolveSummary",
    "getSolveRoster",
    "getSolveActivities",
    "getSolveCoverage",
    "getSolveLeaveDecisions",
    "getSolveLedger",
    "getSolveChanges",
    "createReplan",
    "getSolveComparison",
    "getSolveReport",
    "getSolveXlsx",
    "getSolveCalendar",
    "importLeave",
    "listLeave",
    "updateLeave",
    "deleteLeave",
    "leaveImpact",
    "createSweep",
    "getSweep",
    "getSweepTable",
    "getSweepReport",
}
MEETING = b"agent_id,start,end,kind,status\nT2,2026-12-07T13:00,2026-12-07T14:00,meeting,approved\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("service")
    with TestClient(create_app(settings(data))) as c:
        yield c


@pytest.fixture(scope="module")
def tiny(client: TestClient) -> dict[str, Any]:
    """The tiny scenario uploaded, a stored meeting for T2, and one finished solve."""
    r = upload(client, TINY, "tiny.yaml")
    assert r.status_code == 201, r.text
    scenario = r.json()
    r = client.post("/leave", content=MEETING, headers={**HR, "Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    meeting = r.json()["records"][0]["id"]
    r = client.post(
        "/solves", json={"scenario_id": scenario["id"], "time_limit_s": 5}, headers=SUPERVISOR
    )
    assert r.status_code == 202, r.text
    job = wait(client, r.json()["id"])
    return {"scenario": scenario, "job": job, "meeting": meeting, "id": job["id"]}


# --------------------------------------------------------------------------- service
def test_openapi_lists_every_route_with_stable_operation_ids(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert ops == OPERATION_IDS
    for path in spec["paths"].values():
        for op in path.values():
            assert (
                "200" in op["responses"]
                or "201" in op["responses"]
                or ("202" in op["responses"] or "204" in op["responses"])
            )
    assert client.get("/docs").status_code == 200


def test_health_needs_no_key(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["database"] == "sqlite" and r.json()["max_concurrent_solves"] == 1


def test_keys_and_roles(client: TestClient) -> None:
    r = client.get("/scenarios")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert "X-API-Key" in r.json()["message"] and r.headers["www-authenticate"] == "ApiKey"
    assert client.get("/scenarios", headers={"X-API-Key": "nope-nope-nope"}).status_code == 401
    r = upload(client, TINY, "tiny.yaml", key=HR)
    assert r.status_code == 403
    assert r.json() == {
        "error": "forbidden",
        "message": "this operation needs the role planner; your key has hr",
        "problems": [],
    }
    assert client.post("/leave", json={"records": [{}]}, headers=PLANNER).status_code == 403
    assert client.post("/solves", json={"scenario_id": 1}, headers=HR).status_code == 403
    assert client.get("/solves", headers=HR).status_code == 403
    assert client.get("/scenarios", headers=HR).status_code == 200
    assert client.get("/leave", headers=SUPERVISOR).status_code == 200


def test_no_keys_configured_refuses_with_a_clear_body(tmp_path: Path) -> None:
    s = settings(tmp_path).model_copy(update={"api_keys": {}})
    with TestClient(create_app(s, run_jobs=False)) as c:
        r = c.get("/scenarios", headers=ADMIN)
    assert r.status_code == 401 and "WFM_API_KEYS" in r.json()["message"]


def test_unknown_ids_and_routes_are_404(client: TestClient) -> None:
    for path in (
        "/scenarios/999",
        "/scenarios/999/revisions/1",
        "/solves/0123456789abcdef0123456789abcdef",
        "/solves/0123456789abcdef0123456789abcdef/roster",
        "/solves/x" + "y" * 80,
        "/nowhere",
    ):
        r = client.get(path, headers=ADMIN)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert client.patch("/leave/999", json={"status": "approved"}, headers=HR).status_code == 404
    assert client.delete("/leave/999", headers=HR).status_code == 404
    r = client.post("/solves", json={"scenario_id": 999}, headers=ADMIN)
    assert r.status_code == 404 and "scenario 999" in r.json()["message"]


def test_request_size_limit(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, max_request_bytes=2048), run_jobs=False)) as c:
        r = c.post("/leave", content=b"x" * 4096, headers={**HR, "Content-Type": "text/csv"})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        r = c.post(
            "/staffing", json={"volume": 1, "aht_seconds": 1, "interval_minutes": 1}, headers=ADMIN
        )
        assert r.status_code == 200


def test_bad_bodies_are_422_naming_the_field(client: TestClient) -> None:
    r = client.post(
        "/staffing", content=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    r = client.post("/staffing", json={"volume": -1, "aht_seconds": 0}, headers=ADMIN)
    assert r.status_code == 422
    wheres = {p["where"] for p in r.json()["problems"]}
    assert {"volume", "aht_seconds"} <= wheres
    r = client.post("/scenarios", content=b"x", headers={**PLANNER, "Content-Type": "text/yaml"})
    assert r.status_code == 415


# --------------------------------------------------------------------------- calculators
def test_staffing_one_interval_and_a_forecast(client: TestClient) -> None:
    r = client.post(
        "/staffing",
        json={
            "volume": 120,
            "aht_seconds": 240,
            "interval_minutes": 30,
            "targets": {"service_level": 0.8, "answer_seconds": 20, "shrinkage": 0.3},
        },
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["agents_erlang"] == [20] and plan["agents_required"] == [29]
    assert plan["service_level"][0] >= 0.8
    fc = {
        "interval_start": ["2026-12-07T08:00", "2026-12-07T08:30"],
        "volume": [0, 60],
        "aht_seconds": [0, 300],
        "interval_minutes": 30,
    }
    r = client.post(
        "/staffing",
        json={"forecast": fc, "targets": {"kind": "chat", "concurrency": 3}},
        headers=HR,
    )
    assert r.status_code == 200 and r.json()["agents_required"][0] == 0
    r = client.post(
        "/staffing",
        json={"volume": 1e6, "aht_seconds": 86400, "interval_minutes": 1},
        headers=ADMIN,
    )
    assert r.status_code == 422 and "Erlangs" in r.json()["problems"][0]["message"]


def test_forecast_from_json_rows_and_from_csv(client: TestClient) -> None:
    rows = [
        {
            "interval_start": f"2026-11-{d:02d}T{h:02d}:00",
            "offered": 10 + h,
            "handle_time_seconds": 300,
        }
        for d in range(2, 30)
        for h in range(24)
    ]
    body = {"history": rows, "start": "2026-11-30", "days": 2, "method": "seasonal_naive"}
    r = client.post("/forecast", json=body, headers=PLANNER)
    assert r.status_code == 200, r.text
    q = r.json()["queues"][0]
    assert q["queue"] == "default" and len(q["forecast"]["volume"]) == 48
    assert q["forecast"]["volume"][5] == pytest.approx(15)
    text = "interval_start,offered,handle_time_seconds\n" + "".join(
        f"{x['interval_start']},{x['offered']},300\n" for x in rows
    )
    r = client.post(
        "/forecast", json={"history_csv": text, "start": "2026-11-30", "days": 1}, headers=PLANNER
    )
    assert r.status_code == 200 and len(r.json()["queues"][0]["forecast"]["volume"]) == 24
    bad = text.replace("2026-11-02T03:00,13", "2026-11-02T03:00,minus")
    r = client.post("/forecast", json={"history_csv": bad, "start": "2026-11-30"}, headers=PLANNER)
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert p["file"] == "history_csv" and p["line"] == 5 and "offered" in p["message"]
    r = client.post("/forecast", json={"history": rows, "start": "2026-11-03"}, headers=PLANNER)
    assert r.status_code == 422 and "inside the history" in r.json()["problems"][0]["message"]


# --------------------------------------------------------------------------- scenarios
def test_upload_keeps_revisions_and_diffs(client: TestClient) -> None:
    r = client.post("/scenarios", json=json_upload(TINY, "tiny.yaml"), headers=PLANNER)
    assert r.status_code == 201, r.text
    sc = r.json()
    assert sc["latest_revision"] == 1 and sc["name"] == "tiny-test"
    rev = sc["revisions"][0]
    assert rev["overview"]["agents"] == ["T1", "T2", "T3", "T4"]
    assert {f["path"] for f in rev["files"]} == {
        "tiny.yaml",
        "agents.csv",
        "leave.csv",
        "phone.csv",
    }
    yaml_text = (TINY / "tiny.yaml").read_text().replace("name: tiny-test", "name: tiny-v2")
    body = json_upload(TINY, "tiny.yaml", **{"tiny.yaml": yaml_text}) | {"comment": "renamed"}
    r = client.post(f"/scenarios/{sc['id']}/revisions", json=body, headers=PLANNER)
    assert r.status_code == 201, r.text
    assert r.json()["latest_revision"] == 2 and r.json()["name"] == "tiny-v2"
    d = client.get(f"/scenarios/{sc['id']}/diff", headers=HR).json()
    assert (d["from_revision"], d["to_revision"]) == (1, 2)
    changes = {f["path"]: f for f in d["files"]}
    assert changes["agents.csv"]["change"] == "unchanged"
    assert changes["tiny.yaml"]["change"] == "changed"
    assert "-name: tiny-test\n+name: tiny-v2" in changes["tiny.yaml"]["diff"]
    r = client.get(f"/scenarios/{sc['id']}/revisions/1/files/agents.csv", headers=HR)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content == (TINY / "agents.csv").read_bytes()
    listing = client.get("/scenarios", headers=SUPERVISOR).json()
    assert sc["id"] in {s["id"] for s in listing["items"]}


def test_invalid_upload_is_422_with_file_line_and_key(client: TestClient) -> None:
    agents = (
        (TINY / "agents.csv")
        .read_text()
        .replace("T3,Ivo Sand,a,full_time", "T3,Ivo Sand,a,full_tme")
    )
    yaml_text = (TINY / "tiny.yaml").read_text().replace("answer_seconds: 20", "answer_seconds: -5")
    before = client.get("/scenarios", headers=ADMIN).json()["total"]
    r = client.post(
        "/scenarios",
        json=json_upload(TINY, "tiny.yaml", **{"agents.csv": agents, "tiny.yaml": yaml_text}),
        headers=PLANNER,
    )
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any(
        p["file"] == "tiny.yaml" and p["line"] == 14 and "answer_seconds" in p["path"]
        for p in problems
    ), problems
    r = client.post(
        "/scenarios",
        json=json_upload(TINY, "tiny.yaml", **{"agents.csv": agents}),
        headers=PLANNER,
    )
    p = r.json()["problems"][0]
    assert (p["file"], p["line"]) == ("agents.csv", 4) and "full_tme" in p["message"], p
    assert "did you mean 'full_time'" in p["message"]
    assert client.get("/scenarios", headers=ADMIN).json()["total"] == before  # nothing stored


def test_uploads_cannot_name_files_outside_themselves(client: TestClient) -> None:
    text = (TINY / "tiny.yaml").read_text().replace("agents: agents.csv", "agents: /etc/passwd")
    r = client.post(
        "/scenarios", json=json_upload(TINY, "tiny.yaml", **{"tiny.yaml": text}), headers=PLANNER
    )
    assert r.status_code == 422
    assert r.json()["problems"][0]["where"] == "tiny.yaml agents"
    r = client.post(
        "/scenarios",
        json={"main_file": "../x.yaml", "files": {"../x.yaml": "name: x"}},
        headers=PLANNER,
    )
    assert r.status_code == 422 and "'..'" in r.json()["problems"][0]["message"]
    clash = {"main_file": "s.yaml", "files": {"s.yaml": "name: x", "a": "1", "a/b.csv": "2"}}
    r = client.post("/scenarios", json=clash, headers=PLANNER)
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "a"
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    r = client.post(
        "/scenarios", json={"main_file": "s.yaml", "files": {"s.yaml": bomb}}, headers=PLANNER
    )
    assert r.status_code == 422 and "aliases" in r.json()["problems"][0]["message"]


# --------------------------------------------------------------------------- solves
def test_solve_runs_in_a_worker_and_serves_every_output(
    client: TestClient, tiny: dict[str, Any]
) -> None:
    job = tiny["job"]
    assert job["status"] == "finished", job
    assert job["result"]["status"] in ("optimal", "feasible")
    assert job["attempt"] == 1 and job["progress"]["elapsed_s"] > 0
    assert job["applied_leave"] == [tiny["meeting"]]
    assert job["progress"]["time_limit_s"] == 5
    base = f"/solves/{job['id']}"
    roster = client.get(f"{base}/roster", headers=SUPERVISOR).json()
    assert {r["agent_id"] for r in roster} <= {"T1", "T2", "T3", "T4"} and roster
    assert all(r["shift_type"] == "day" and r["paid_minutes"] == 420 for r in roster)
    csv_r = client.get(f"{base}/roster", headers={**SUPERVISOR, "Accept": "text/csv"})
    assert csv_r.headers["content-type"].startswith("text/csv")
    assert csv_r.text.splitlines()[0] == "agent_id,name,date,shift_type,start,end,paid_minutes"
    assert len(csv_r.text.splitlines()) == len(roster) + 1
    acts = client.get(f"{base}/activities", headers=SUPERVISOR).json()
    meeting = [a for a in acts if a["activity"] == "meeting"]
    if any(r["agent_id"] == "T2" for r in roster):
        assert meeting == [
            {
                "agent_id": "T2",
                "date": "2026-12-07",
                "activity": "meeting",
                "start": "2026-12-07T13:00",
                "end": "2026-12-07T14:00",
                "channel": None,
            }
        ]
    cov = client.get(f"{base}/coverage", headers=SUPERVISOR).json()
    assert len(cov) == 48 and {c["channel"] for c in cov} == {"phone"}
    summary = client.get(f"{base}/summary", headers=SUPERVISOR).json()
    assert summary["status"] == job["result"]["status"]
    assert summary["scenario_sha256"] and "phone" in summary["service_level"]
    decisions = client.get(f"{base}/leave-decisions", headers=SUPERVISOR).json()
    assert [d["agent_id"] for d in decisions] == ["T4"]
    report = client.get(f"{base}/report", headers=SUPERVISOR)
    assert report.headers["content-type"].startswith("text/html") and b"<svg" in report.content
    xlsx = client.get(f"{base}/xlsx", headers=SUPERVISOR)
    assert xlsx.status_code == 200
    assert len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) >= 2
    ics = client.get(f"{base}/calendars/T1.ics", headers=SUPERVISOR)
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content
    r = client.get(f"{base}/calendars/NOBODY.ics", headers=SUPERVISOR)
    assert r.status_code == 404
    assert client.get(f"{base}/comparison", headers=PLANNER).status_code == 409
    listed = client.get("/solves", params={"status": "finished"}, headers=PLANNER).json()
    assert job["id"] in {j["id"] for j in listed["items"]}


def test_an_infeasible_solve_is_stored_and_explained(client: TestClient) -> None:
    text = (
        (TINY / "tiny.yaml")
        .read_text()
        .replace(
            "role_coverage:",
            "min_staff:\n  - {channel: phone, count: 4, when: open}\nrole_coverage:",
        )
    )
    r = client.post(
        "/scenarios", json=json_upload(TINY, "tiny.yaml", **{"tiny.yaml": text}), headers=PLANNER
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/solves",
        json={"scenario_id": r.json()["id"], "time_limit_s": 3, "include_stored_leave": False},
        headers=PLANNER,
    )
    job = wait(client, r.json()["id"])
    assert job["status"] == "finished"
    assert job["result"]["status"] in ("infeasible", "timeout_no_solution")
    summary = client.get(f"/solves/{job['id']}/summary", headers=PLANNER).json()
    assert summary["status"] == job["result"]["status"] and "explanation" in summary
    assert isinstance(client.get(f"/solves/{job['id']}/roster", headers=PLANNER).json(), list)
    assert client.get(f"/solves/{job['id']}/report", headers=PLANNER).status_code == 200
    r = client.get(f"/solves/{job['id']}/xlsx", headers=PLANNER)
    assert r.status_code == 409 and "without a roster" in r.json()["message"]


def test_a_solve_that_cannot_be_prepared_fails_with_located_problems(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path))) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        night = (
            b"agent_id,start,end,kind,status\n"
            b"T1,2026-12-07T02:00,2026-12-07T03:00,training,approved\n"
        )
        r = c.post("/leave", content=night, headers={**HR, "Content-Type": "text/csv"})
        leave_id = r.json()["records"][0]["id"]
        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 3}, headers=SUPERVISOR)
        job = wait(c, r.json()["id"])
        assert job["status"] == "failed" and job["applied_leave"] == [leave_id]
        assert job["error"]["problems"], job
        assert job["error"]["problems"][0]["where"].startswith(f"leave record {leave_id}"), job
        assert c.get(f"/solves/{job['id']}/summary", headers=SUPERVISOR).status_code == 409
        r = c.post(
            "/solves",
            json={"scenario_id": sid, "time_limit_s": 3, "include_stored_leave": False},
            headers=SUPERVISOR,
        )
        assert wait(c, r.json()["id"])["status"] == "finished"


def test_the_ledger_and_a_previous_solve(client: TestClient, tiny: dict[str, Any]) -> None:
    """Every solve serves its fairness ledger; a solve may carry on from a finished one
    (previous_solve_id): an unknown one is refused at once, one whose roster falls in the new
    horizon fails the job with the place named."""
    job = tiny["job"]
    rows = client.get(f"/solves/{job['id']}/ledger", headers=SUPERVISOR).json()
    assert {r["agent_id"] for r in rows} == {"T1", "T2", "T3", "T4"}
    assert {r["horizon_start"] for r in rows} == {"2026-12-07"}
    assert all(r["weekend"] >= 0 and r["refused_requests"] >= 0 for r in rows)
    sid = tiny["scenario"]["id"]
    r = client.post(
        "/solves",
        json={"scenario_id": sid, "time_limit_s": 3, "previous_solve_id": "nosuchjob"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["where"] == "previous_solve_id"
    r = client.post(
        "/solves",
        json={"scenario_id": sid, "time_limit_s": 3, "previous_solve_id": job["id"]},
        headers=SUPERVISOR,
    )
    assert r.status_code == 202, r.text
    failed = wait(client, r.json()["id"])
    assert failed["status"] == "failed", failed
    problem = failed["error"]["problems"][0]
    assert problem["where"].startswith(f"previous_solve_id {job['id']}: previous/roster.csv:")
    assert "falls in the new horizon" in problem["message"]


def test_a_replan_of_a_finished_solve(tmp_path: Path) -> None:
    """POST /solves/{id}/replan: an agent on shift goes home at 13:00; the re-plan is a new
    job whose /changes names them, with the morning before 12:00 frozen. Bad events are 422
    naming the field, an unknown solve 404. (Its own service: the re-plan is a finished solve
    of the scenario, which the shared one's leave impact would take as the latest.)"""
    with TestClient(create_app(settings(tmp_path))) as client:
        sid = upload(client, TINY, "tiny.yaml").json()["id"]
        r = client.post("/solves", json={"scenario_id": sid, "time_limit_s": 5}, headers=SUPERVISOR)
        job = wait(client, r.json()["id"])
        assert job["status"] == "finished", job
        _replan_checks(client, job)


def _replan_checks(client: TestClient, job: dict[str, Any]) -> None:
    roster = client.get(f"/solves/{job['id']}/roster", headers=SUPERVISOR).json()
    ill = next(r["agent_id"] for r in roster if r["agent_id"] in ("T2", "T4"))  # not a lead
    body = {
        "frozen_until": "2026-12-07T12:00",
        "events": [
            {"absence": {"agent": ill, "from": "2026-12-07T13:00", "to": "2026-12-08T00:00"}}
        ],
        "time_limit_s": 3,
    }
    r = client.post(f"/solves/{job['id']}/replan", json=body, headers=SUPERVISOR)
    assert r.status_code == 202, r.text
    done = wait(client, r.json()["id"])
    assert done["status"] == "finished", done
    assert done["result"]["status"] in ("optimal", "feasible"), done
    moved = client.get(f"/solves/{done['id']}/changes", headers=SUPERVISOR).json()
    assert [m["agent_id"] for m in moved if m["after"] == "off"] == [ill]
    summary = client.get(f"/solves/{done['id']}/summary", headers=SUPERVISOR).json()
    assert summary["changes"]["agents"] == len({m["agent_id"] for m in moved})
    bad = {**body, "events": [{"sickness": {"agent": ill}}]}
    r = client.post(f"/solves/{job['id']}/replan", json=bad, headers=SUPERVISOR)
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["where"] == "events[0]"
    backwards = {
        **body,
        "events": [
            {"absence": {"agent": ill, "from": "2026-12-07T13:00", "to": "2026-12-07T12:00"}}
        ],
    }
    r = client.post(f"/solves/{job['id']}/replan", json=backwards, headers=SUPERVISOR)
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "events[0].absence"
    r = client.post("/solves/nosuchjob/replan", json=body, headers=SUPERVISOR)
    assert r.status_code == 404


def test_compare_solves_variants_as_one_job(client: TestClient, tiny: dict[str, Any]) -> None:
    body = {
        "scenario_id": tiny["scenario"]["id"],
        "time_limit_s": 3,
        "variants": [
            {
                "name": "volume +30 %",
                "overrides": {"channels": [{"id": "phone", "demand": {"volume_scale": 1.3}}]},
            }
        ],
    }
    assert client.post("/compare", json=body, headers=SUPERVISOR).status_code == 403
    r = client.post("/compare", json=body, headers=PLANNER)
    assert r.status_code == 202, r.text
    job = wait(client, r.json()["id"])
    assert job["kind"] == "compare" and job["status"] == "finished", job
    assert len(job["children"]) == 2
    table = client.get(f"/solves/{job['id']}/comparison", headers=PLANNER).json()
    assert table["header"][:5] == ["metric", "unit", "base", "volume +30 %", "delta volume +30 %"]
    rows = {row[0]: row for row in table["rows"]}
    assert float(rows["required_agent_hours"][3]) > float(rows["required_agent_hours"][2])
    html = client.get(f"/solves/{job['id']}/report", headers=PLANNER)
    assert b"What-if comparison" in html.content
    child = client.get(f"/solves/{job['children'][1]}", headers=PLANNER).json()
    assert child["variant"] == "volume +30 %" and child["parent_id"] == job["id"]
    assert client.get(f"/solves/{job['id']}/roster", headers=PLANNER).status_code == 409
    bad = {
        **body,
        "variants": [
            {
                "name": "x",
                "overrides": {
                    "channels": [{"id": "phone", "demand": {"volume_scale": -1}}],
                    "shrinkage": 2,
                },
            }
        ],
    }
    r = client.post("/compare", json=bad, headers=PLANNER)
    assert r.status_code == 422
    wheres = [p["where"] for p in r.json()["problems"]]
    assert "variants[0] (x) overrides channels[phone].demand.volume_scale" in wheres, wheres
    assert "variants[0] (x) overrides shrinkage" in wheres


def test_cancel_stops_a_running_worker(client: TestClient) -> None:
    r = upload(client, SMALL, "small.yaml")
    assert r.status_code == 201, r.text
    r = client.post(
        "/solves", json={"scenario_id": r.json()["id"], "time_limit_s": 60}, headers=SUPERVISOR
    )
    job_id = r.json()["id"]
    wait_for_status(client, job_id, "running")
    t0 = time.monotonic()
    r = client.delete(f"/solves/{job_id}", headers=SUPERVISOR)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.json()
    # the cancel stops the worker rather than waiting for its 60-second solve
    assert time.monotonic() - t0 < 6
    r = client.get(f"/solves/{job_id}/roster", headers=SUPERVISOR)
    assert r.status_code == 409 and "cancelled" in r.json()["message"]
    assert client.delete(f"/solves/{job_id}", headers=SUPERVISOR).status_code == 200


def test_full_queue_answers_429_and_queued_jobs_cancel_at_once(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, queue_size=1), run_jobs=False)) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        first = c.post("/solves", json={"scenario_id": sid}, headers=SUPERVISOR)
        assert first.status_code == 202 and first.json()["queue_position"] == 1
        r = c.post("/solves", json={"scenario_id": sid}, headers=SUPERVISOR)
        assert r.status_code == 429 and r.json()["error"] == "queue_full"
        assert int(r.headers["retry-after"]) > 0
        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 1e6}, headers=SUPERVISOR)
        assert r.status_code == 422 and r.json()["problems"][0]["where"] == "time_limit_s"
        r = c.delete(f"/solves/{first.json()['id']}", headers=SUPERVISOR)
        assert r.json()["status"] == "cancelled"
        assert c.post("/solves", json={"scenario_id": sid}, headers=SUPERVISOR).status_code == 202


def test_a_worker_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, job_grace_s=0.3))) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 0.2}, headers=SUPERVISOR)
        job = wait(c, r.json()["id"], timeout=30)
    assert job["status"] == "failed" and job["error"]["message"].startswith("killed after")


def test_interrupted_jobs_are_requeued_or_failed_on_startup(tmp_path: Path) -> None:
    s = settings(tmp_path, max_attempts=2)
    with TestClient(create_app(s, run_jobs=False)) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        ids = [
            c.post(
                "/solves", json={"scenario_id": sid, "time_limit_s": 3}, headers=SUPERVISOR
            ).json()["id"]
            for _ in range(2)
        ]
    engine = make_engine(s.effective_database_url)
    with session_scope(make_sessionmaker(engine)) as session:  # as a crash leaves them
        for attempt, job_id in zip((1, 2), ids, strict=True):
            row = session.get(JobRow, job_id)
            assert row is not None
            row.status, row.attempt = "running", attempt
    engine.dispose()
    with TestClient(create_app(s)) as c:
        again = wait(c, ids[0])
        failed = c.get(f"/solves/{ids[1]}", headers=ADMIN).json()
    assert again["status"] == "finished" and again["attempt"] == 2
    assert any("queued again: a server restart" in h for h in again["history"])
    assert failed["status"] == "failed"
    assert "interrupted by a server restart during attempt 2 of 2" in failed["error"]["message"]


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.store.db import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.exec_driver_sql("select version_num from alembic_version").scalar()
    engine.dispose()


# --------------------------------------------------------------------------- leave
def test_leave_import_is_all_or_nothing_with_row_numbers(client: TestClient) -> None:
    before = client.get("/leave", headers=HR).json()["total"]
    bad = (
        b"agent_id,start,end,kind,status\n"
        b"T1,2026-12-09,2026-12-09,annual,approved\n"
        b"T2,2026-12-10,2026-12-08,annual,requested\n"
        b"T3,2026-12-11,2026-12-11,holiday,approved\n"
    )
    r = client.post("/leave", content=bad, headers={**HR, "Content-Type": "text/csv"})
    assert r.status_code == 422
    got = {(p["file"], p["line"]) for p in r.json()["problems"]}
    assert got == {("leave.csv", 3), ("leave.csv", 4)}, r.json()
    assert client.get("/leave", headers=HR).json()["total"] == before
    records = [
        {
            "agent_id": "T1",
            "start": "2026-12-09",
            "end": "2026-12-10",
            "kind": "annual",
            "status": "requested",
        },
        {
            "agent_id": "T9",
            "start": "2026-12-09",
            "end": "2026-12-09",
            "kind": "sick",
            "status": "approved",
        },
    ]
    r = client.post("/leave", json={"records": records, "scenario_id": 1}, headers=HR)
    assert r.status_code == 422
    assert r.json()["problems"][0]["where"] == "records row 2 column agent_id"
    r = client.post("/leave", json={"records": records[:1]}, headers=HR)
    assert r.status_code == 201 and r.json()["imported"] == 1
    rec = r.json()["records"][0]
    assert (rec["start"], rec["end"], rec["status"]) == ("2026-12-09", "2026-12-10", "requested")
    listed = client.get(
        "/leave", params={"agent_id": "T1", "status": "requested"}, headers=SUPERVISOR
    )
    assert rec["id"] in {x["id"] for x in listed.json()["items"]}
    r = client.get("/leave", params={"from": "2026-12-11"}, headers=HR)
    assert rec["id"] not in {x["id"] for x in r.json()["items"]}
    r = client.patch(f"/leave/{rec['id']}", json={"status": "approved"}, headers=HR)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert client.patch(f"/leave/{rec['id']}", json={"status": "x"}, headers=HR).status_code == 422
    assert client.delete(f"/leave/{rec['id']}", headers=HR).status_code == 204
    assert client.delete(f"/leave/{rec['id']}", headers=HR).status_code == 404


def test_leave_impact_before_approval(client: TestClient, tiny: dict[str, Any]) -> None:
    roster = client.get(f"/solves/{tiny['id']}/roster", headers=SUPERVISOR).json()
    working = sorted({r["agent_id"] for r in roster})
    agent = working[0]
    body = {
        "requests": [
            {"agent_id": agent, "start": "2026-12-07", "end": "2026-12-07", "kind": "annual"}
        ]
    }
    r = client.post("/leave/impact", json=body, headers=HR)
    assert r.status_code == 200, r.text
    imp = r.json()
    assert imp["solve_id"] == tiny["id"] and imp["roster_status"] in ("optimal", "feasible")
    req = imp["requests"][0]
    assert req["shifts_affected"] and req["agent_hours_removed"] > 0
    ch = req["channels"][0]
    summary = client.get(f"/solves/{tiny['id']}/summary", headers=SUPERVISOR).json()
    assert ch["service_level_before"] == pytest.approx(summary["service_level"]["phone"], abs=1e-4)
    assert ch["service_level_after"] < ch["service_level_before"]
    assert ch["under_cover_agent_hours_after"] >= ch["under_cover_agent_hours_before"]
    assert (
        ch["worst_intervals"][0]["scheduled_after"]
        == ch["worst_intervals"][0]["scheduled_before"] - 1
    )
    leads = {
        "requests": [
            {"agent_id": a, "start": "2026-12-07", "end": "2026-12-07", "kind": "annual"}
            for a in ("T1", "T3")
        ]
    }
    r = client.post("/leave/impact", json={**leads, "solve_id": tiny["id"]}, headers=PLANNER)
    assert r.status_code == 200
    assert r.json()["combined_roles_broken"], r.json()
    part = {
        "requests": [{"agent_id": "T4", "start": "2026-12-14T09:00", "end": "2026-12-14T10:00"}],
        "solve_id": tiny["id"],
    }
    assert (
        "outside the roster's horizon"
        in client.post("/leave/impact", json=part, headers=HR).json()["requests"][0]["notes"]
    )
    r = client.post(
        "/leave/impact",
        json={
            "requests": [{"agent_id": "ZZ", "start": "2026-12-07", "end": "2026-12-07"}],
            "solve_id": tiny["id"],
        },
        headers=HR,
    )
    assert r.status_code == 422
    r = client.post(
        "/leave/impact", json={"leave_ids": [tiny["meeting"]], "solve_id": tiny["id"]}, headers=HR
    )
    assert r.status_code == 200 and r.json()["requests"][0]["leave_id"] == tiny["meeting"]
    r = client.post(
        "/leave/impact",
        json={"requests": [{"agent_id": "T1", "start": "2027-05-01", "end": "2027-05-01"}]},
        headers=HR,
    )
    assert r.status_code == 409 and "solve_id" in r.json()["message"]


def test_job_rows_keep_their_history(client: TestClient, tiny: dict[str, Any]) -> None:
    factory = client.app.state.services.factory  # type: ignore[attr-defined]
    with session_scope(factory) as session:
        row = session.scalar(select(JobRow).where(JobRow.id == tiny["id"]))
        assert row is not None and row.summary is not None
        assert json.dumps(row.summary)
    assert [h.split(" ", 1)[1].split(" ")[0] for h in tiny["job"]["history"]] == [
        "queued",
        "started",
        "finished:",
    ]


def test_a_head_count_what_if_adds_or_drops_agents_of_a_contract(
    client: TestClient, tiny: dict[str, Any]
) -> None:
    """A variant's ``headcount`` writes the revision's agents in with copies added (or the
    contract's last agents dropped, with their leave); a wrong contract, a change of 0, more
    agents dropped than the contract has, or agents given both ways are 422 naming the
    variant's field, and nothing is queued."""
    sid = tiny["scenario"]["id"]

    def body(*variants: dict[str, Any]) -> dict[str, Any]:
        return {"scenario_id": sid, "time_limit_s": 2, "variants": list(variants)}

    queued = client.get("/solves", headers=PLANNER).json()["total"]
    for variant, where, says in [
        (
            {"name": "x", "headcount": {"part_time": 1}},
            "variants[0] (x).headcount.part_time",
            "no agent has contract 'part_time'",
        ),
        (
            {"name": "x", "headcount": {"full_time": 0}},
            "variants[0] (x).headcount.full_time",
            "at least one agent",
        ),
        (
            {"name": "x", "headcount": {"full_time": -5}},
            "variants[0] (x).headcount.full_time",
            "cannot drop 5 agents of full_time: it has 4",
        ),
        (
            {"name": "x", "headcount": {"full_time": 1}, "overrides": {"agents": []}},
            "variants[0] (x).overrides.agents",
            "give one or the other",
        ),
    ]:
        r = client.post("/compare", json=body(variant), headers=PLANNER)
        assert r.status_code == 422, r.text
        problems = r.json()["problems"]
        assert any(p["where"] == where and says in p["message"] for p in problems), problems
    assert client.get("/solves", headers=PLANNER).json()["total"] == queued
    r = client.post(
        "/compare",
        json=body(
            {"name": "two more", "headcount": {"full_time": 2}},
            {"name": "one less", "headcount": {"full_time": -1}},
        ),
        headers=PLANNER,
    )
    assert r.status_code == 202, r.text
    job = wait(client, r.json()["id"])
    assert job["status"] == "finished", job
    table = client.get(f"/solves/{job['id']}/comparison", headers=PLANNER).json()
    rows = {row[0]: row for row in table["rows"]}
    assert rows["agents_total"][2:5] == ["4", "6", "3"], rows["agents_total"]
