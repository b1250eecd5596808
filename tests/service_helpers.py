"""Helpers of the HTTP service tests: settings with one key per role, uploads, waiting for jobs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from api.settings import Settings
from api.store.db import make_engine

HERE = Path(__file__).resolve().parent
TINY = HERE / "scenarios" / "tiny"
SMALL = HERE / "scenarios" / "small"
KEYS = {
    "admin": "test-admin-key",
    "hr": "test-hr-key-0001",
    "planner": "test-planner-key",
    "supervisor": "test-supervisor-key",
}
TERMINAL = ("finished", "failed", "cancelled")


def headers(role: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}


ADMIN, HR, PLANNER, SUPERVISOR = (headers(r) for r in ("admin", "hr", "planner", "supervisor"))


def settings(data_dir: Path, database_url: str | None = None, **extra: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        api_keys={key: [role] for role, key in KEYS.items()},  # type: ignore[misc]
        poll_interval_s=0.05,
        **extra,
    )


def scenario_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def upload(
    client: httpx.Client | Any, folder: Path, main: str, key: dict[str, str] = PLANNER
) -> httpx.Response:
    """POST /scenarios as a multipart form: the YAML as 'scenario', the rest as 'files'."""
    files = scenario_files(folder)
    parts = [("scenario", (main, files.pop(main)))]
    parts += [("files", (name, data)) for name, data in files.items()]
    return client.post("/scenarios", files=parts, headers=key)


def json_upload(folder: Path, main: str, **replace: str) -> dict[str, Any]:
    """The same files as a JSON upload body; ``replace`` swaps file texts by name."""
    files = {n: d.decode("utf-8") for n, d in scenario_files(folder).items()}
    files.update(replace)
    return {"main_file": main, "files": files}


def wait(client: Any, job_id: str, timeout: float = 90.0, key: dict[str, str] = ADMIN) -> dict:
    """Poll GET /solves/{id} until the job is finished, failed or cancelled."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/solves/{job_id}", headers=key)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in TERMINAL:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}: {job}"
        time.sleep(0.1)


def wait_for_status(client: Any, job_id: str, status: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/solves/{job_id}", headers=ADMIN).json()
        if job["status"] == status:
            return job
        assert job["status"] not in TERMINAL or status in TERMINAL, job
        assert time.monotonic() < deadline, f"job {job_id} never {status}: {job}"
        time.sleep(0.05)


def pg_schema_url(url: str, prefix: str) -> Iterator[str]:
    """``url`` confined to a fresh schema (search_path), dropped afterwards (a generator for
    fixtures)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(Settings(database_url=url).effective_database_url, pooled=False)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()
