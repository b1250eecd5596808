"""The service on a real PostgreSQL (``WFM_TEST_POSTGRES_URL``, started on loopback by .ci/run):
migrations, uploads with revisions, all-or-nothing leave imports, a solve in a worker process
that writes to PostgreSQL, the impact of leave, and recovery of interrupted jobs. Each run works
in its own schema, dropped afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    ADMIN,
    HR,
    PLANNER,
    SUPERVISOR,
    TINY,
    json_upload,
    pg_schema_url,
    settings,
    upload,
    wait,
)

from api.service.app import create_app
from api.settings import Settings
from api.store.db import JobRow, make_engine, make_sessionmaker, migrate, session_scope

URL = os.environ.get("WFM_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not URL,
        reason="WFM_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL and sets it); "
        "the PostgreSQL tests of the service did not run",
    ),
]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """The test database, confined to a fresh schema (search_path), dropped at the end."""
    assert URL is not None
    yield from pg_schema_url(URL, "wfm_test")


@pytest.fixture(scope="module")
def pg_settings(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings(tmp_path_factory.mktemp("pg"), database_url=pg_url)


def test_migrations_match_the_models_on_postgresql(pg_settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.store.db import Base

    engine = make_engine(pg_settings.effective_database_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_the_service_end_to_end_on_postgresql(pg_settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(pg_settings)) as c:
        assert c.get("/health").json()["database"] == "postgresql"
        r = upload(c, TINY, "tiny.yaml")
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        text = (TINY / "tiny.yaml").read_text().replace("seed: 0", "seed: 1")
        r = c.post(
            f"/scenarios/{sid}/revisions",
            json=json_upload(TINY, "tiny.yaml", **{"tiny.yaml": text}),
            headers=PLANNER,
        )
        assert r.status_code == 201 and r.json()["latest_revision"] == 2
        diff = c.get(f"/scenarios/{sid}/diff", headers=PLANNER).json()
        assert "+  seed: 1" in next(f for f in diff["files"] if f["path"] == "tiny.yaml")["diff"]

        bad = (
            b"agent_id,start,end,kind,status\n"
            b"T1,2026-12-07,2026-12-07,annual,requested\n"
            b"T2,x,y,annual,approved\n"
        )
        r = c.post("/leave", content=bad, headers={**HR, "Content-Type": "text/csv"})
        assert r.status_code == 422 and {p["line"] for p in r.json()["problems"]} == {3}
        assert c.get("/leave", headers=HR).json()["total"] == 0
        good = (
            b"agent_id,start,end,kind,status\n"
            b"T4,2026-12-07T10:00,2026-12-07T11:00,training,approved\n"
        )
        r = c.post(
            f"/leave?scenario_id={sid}", content=good, headers={**HR, "Content-Type": "text/csv"}
        )
        assert r.status_code == 201, r.text
        leave_id = r.json()["records"][0]["id"]

        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 5}, headers=SUPERVISOR)
        job = wait(c, r.json()["id"])
        assert job["status"] == "finished" and job["revision"] == 2, job
        assert job["applied_leave"] == [leave_id]
        roster = c.get(f"/solves/{job['id']}/roster", headers={**SUPERVISOR, "Accept": "text/csv"})
        assert roster.text.startswith("agent_id,name,date,shift_type,start,end,paid_minutes")
        assert c.get(f"/solves/{job['id']}/xlsx", headers=SUPERVISOR).status_code == (
            200 if job["result"]["status"] in ("optimal", "feasible") else 409
        )
        if job["result"]["status"] in ("optimal", "feasible"):
            r = c.post("/leave/impact", json={"leave_ids": [leave_id]}, headers=HR)
            assert r.status_code == 200 and r.json()["solve_id"] == job["id"], r.text

        # a job left running by a crash on its last attempt is failed with the reason on startup
        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 5}, headers=ADMIN)
        crashed = r.json()["id"]
        c.delete(f"/solves/{crashed}", headers=ADMIN)
    engine = make_engine(pg_settings.effective_database_url)
    with session_scope(make_sessionmaker(engine)) as session:
        row = session.get(JobRow, crashed)
        assert row is not None
        row.status, row.attempt, row.cancel_requested = "running", 2, False
    engine.dispose()
    with TestClient(create_app(pg_settings, run_jobs=True)) as c:
        after = c.get(f"/solves/{crashed}", headers=ADMIN).json()
        finished = c.get(f"/solves/{job['id']}/roster", headers={**ADMIN, "Accept": "text/csv"})
    assert after["status"] == "failed" and "attempt 2 of 2" in after["error"]["message"]
    assert finished.content == roster.content
