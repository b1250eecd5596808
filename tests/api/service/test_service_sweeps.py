"""POST /sweeps: roles, located errors in the body, one job that runs the variants on a local Ray
(WFM_RAY_ADDRESS unset) with its progress, and its sweep.csv and sweep.html."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import HR, PLANNER, SUPERVISOR, TINY, settings, upload, wait

from api.service.app import create_app

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("sweeps")
    with TestClient(create_app(settings(data, worker_nice=0))) as c:
        yield c


def test_post_sweeps_runs_the_variants_as_one_job(client: TestClient) -> None:
    r = upload(client, TINY, "tiny.yaml")
    assert r.status_code == 201, r.text
    scenario_id = r.json()["id"]
    body: dict[str, Any] = {
        "scenario_id": scenario_id,
        "time_limit_s": 5,
        "workers": 1,
        "set": {"solver.deterministic": True},
        "axes": {"channels[phone].service_level.target": [0.7, 0.9]},
    }
    assert client.post("/sweeps", json=body, headers=HR).status_code == 403
    assert client.post("/sweeps", json=body, headers=SUPERVISOR).status_code == 403
    bad = {
        **body,
        "axes": {
            "channels[phone].service_level.targit": [0.8],
            "headcount[full_time]": [-9],
            "shrinkage": {"from": 0.2, "to": 0.1, "step": 0.1},
        },
    }
    r = client.post("/sweeps", json=bad, headers=PLANNER)
    assert r.status_code == 422, r.text
    where = {p["where"]: p["message"] for p in r.json()["problems"]}
    assert "did you mean 'target'" in where["axes.channels[phone].service_level.targit"]
    assert "below from" in where["axes.shrinkage"]
    r = client.post("/sweeps", json=body, headers=PLANNER)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "sweep" and job["links"]["self"] == f"/sweeps/{job['id']}"
    job = wait(client, job["id"], timeout=120)
    assert job["status"] == "finished", job
    seen = client.get(f"/sweeps/{job['id']}", headers=SUPERVISOR).json()
    assert seen["progress"]["phase"] == "finished"
    assert "2 of 2 variants solved" in (seen["progress"]["message"] or "")
    assert any("2 of 2 done" in h or "finished" in h for h in seen["history"])
    table = client.get(f"/sweeps/{job['id']}/table", headers=SUPERVISOR).json()
    assert table["header"][:3] == ["variant", "target", "status"]
    assert [row[1] for row in table["rows"]] == ["0.7", "0.9"]
    assert all(row[2] in ("optimal", "feasible") for row in table["rows"])
    text = client.get(f"/sweeps/{job['id']}/table", headers={**PLANNER, "Accept": "text/csv"}).text
    assert text.startswith("variant,target,status")
    html = client.get(f"/sweeps/{job['id']}/report", headers=PLANNER)
    assert html.status_code == 200 and b"non-dominated" in html.content
    # a solve is not a sweep
    solve = client.post("/solves", json={"scenario_id": scenario_id}, headers=PLANNER).json()
    assert client.get(f"/sweeps/{solve['id']}", headers=PLANNER).status_code == 404
    assert client.get("/sweeps/nope", headers=PLANNER).status_code == 404


def test_sweep_body_errors_are_422(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/sweeps", json={"scenario_id": 1, "axes": {}}, headers=PLANNER)
    assert r.status_code == 422
    r = client.post(
        "/sweeps",
        json={"scenario_id": 1, "axes": {"shrinkage": {"from": 0, "to": 1e300, "step": 1e-300}}},
        headers=PLANNER,
    )
    assert r.status_code == 422 and "more than" in r.text
