"""The service under concurrent requests: queue admission, revision numbers, leave imports and
cancellation decided atomically (on SQLite here, and on the PostgreSQL that .ci/run starts when
``WFM_TEST_POSTGRES_URL`` is set); deep YAML and JSON refused with 422 before parsing; an
unexpected error is a 500 with an id, and the connection stays usable."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
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
)

from api.scenario.yamlsrc import MAX_YAML_DEPTH, too_deep
from api.service.app import create_app
from api.service.limits import MAX_JSON_DEPTH, json_depth

PG = os.environ.get("WFM_TEST_POSTGRES_URL")
N = 12


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not PG,
                reason="WFM_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL and sets "
                "it); the concurrency tests ran on SQLite only",
            ),
        ),
    ]
)
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        assert PG is not None
        yield from pg_schema_url(PG, "wfm_conc")


def _at_once(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """``n`` calls released together from as many threads."""
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _client(tmp_path: Path, database: str | None, **extra: Any) -> TestClient:
    return TestClient(create_app(settings(tmp_path, database, **extra), run_jobs=False))


def test_queue_admission_never_overruns_the_limit(
    tmp_path: Path, database: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.store.jobs

    original = api.store.jobs.append_history

    def slow(row: Any, text: str) -> None:  # widen the gap between the count and the insert
        time.sleep(0.05)
        original(row, text)

    monkeypatch.setattr(api.store.jobs, "append_history", slow)
    with _client(tmp_path, database, queue_size=5) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        got = _at_once(
            N, lambda _: c.post("/solves", json={"scenario_id": sid}, headers=SUPERVISOR)
        )
        codes = Counter(r.status_code for r in got)
        assert codes == {202: 5, 429: N - 5}, [r.text for r in got if r.status_code >= 500]
        assert all(r.headers.get("retry-after") for r in got if r.status_code == 429)
        assert c.get("/health").json()["queued"] == 5
        # a comparison of 2 variants no longer fits either
        cmp = c.post(
            "/compare",
            json={"scenario_id": sid, "variants": [{"name": "x", "overrides": {}}]},
            headers=PLANNER,
        )
        assert cmp.status_code == 429


def test_concurrent_revisions_get_consecutive_numbers(tmp_path: Path, database: str | None) -> None:
    with _client(tmp_path, database) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        body = json_upload(TINY, "tiny.yaml")
        got = _at_once(
            N,
            lambda i: c.post(
                f"/scenarios/{sid}/revisions",
                json={**body, "comment": f"upload {i}"},
                headers=PLANNER,
            ),
        )
        assert [r.status_code for r in got] == [201] * N, [r.text for r in got]
        numbers = [
            rev["number"] for rev in c.get(f"/scenarios/{sid}", headers=PLANNER).json()["revisions"]
        ]
        assert sorted(numbers) == list(range(1, N + 2))


def test_concurrent_leave_imports_are_each_stored_once(
    tmp_path: Path, database: str | None
) -> None:
    with _client(tmp_path, database) as c:
        got = _at_once(
            N,
            lambda i: c.post(
                "/leave",
                json={
                    "records": [
                        {
                            "agent_id": f"A{i:03d}",
                            "start": "2026-12-08",
                            "end": "2026-12-09",
                            "kind": "annual",
                            "status": "approved",
                        }
                    ]
                },
                headers=HR,
            ),
        )
        assert [r.status_code for r in got] == [201] * N, [r.text for r in got]
        rows = c.get("/leave", headers=HR).json()
        records = rows["items"]
        assert rows["total"] == N
        assert sorted(r["agent_id"] for r in records) == [f"A{i:03d}" for i in range(N)]


def test_concurrent_cancellations_cancel_once(tmp_path: Path, database: str | None) -> None:
    with _client(tmp_path, database) as c:
        sid = upload(c, TINY, "tiny.yaml").json()["id"]
        job = c.post("/solves", json={"scenario_id": sid}, headers=SUPERVISOR).json()["id"]
        got = _at_once(N, lambda _: c.delete(f"/solves/{job}", headers=SUPERVISOR))
        assert all(r.status_code < 300 for r in got), [r.text for r in got]
        out = c.get(f"/solves/{job}", headers=SUPERVISOR).json()
        assert out["status"] == "cancelled"
        assert sum("cancelled" in h for h in out["history"]) == 1


def _nested_yaml(depth: int) -> str:
    return "name: deep\nextra: " + "[" * depth + "]" * depth + "\n"


def test_deep_yaml_uploads_are_422_naming_the_limit(tmp_path: Path) -> None:
    with _client(tmp_path, None) as c:
        for depth in (MAX_YAML_DEPTH + 1, 500, 5000):
            body = json_upload(TINY, "tiny.yaml")
            body["files"]["tiny.yaml"] += "\nextra: " + "[" * depth + "]" * depth + "\n"
            r = c.post("/scenarios", json=body, headers=PLANNER)
            assert r.status_code == 422, r.text
            assert f"more than {MAX_YAML_DEPTH} levels" in r.text
            assert r.json()["problems"][0]["where"].startswith("tiny.yaml:")
        assert c.get("/scenarios", headers=PLANNER).json()["total"] == 0


def test_deep_json_bodies_are_422_before_parsing(tmp_path: Path) -> None:
    with _client(tmp_path, None) as c:
        deep = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        r = c.post("/leave", content=deep, headers={**HR, "content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert f"more than {MAX_JSON_DEPTH} levels" in r.json()["message"]
        # strings with brackets in them do not count
        ok = {"records": [], "note": "[[[[" * 100}
        assert json_depth(httpx.Request("POST", "/", json=ok).content) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unexpected_error_is_a_500_with_an_id_and_the_connection_stays_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import api.service.routes.scenarios as routes

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(routes, "get_scenario", boom)
    app = create_app(settings(tmp_path), run_jobs=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with (
            caplog.at_level(logging.ERROR, logger="wfm.http"),
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            r = client.get("/scenarios/1", headers=ADMIN)
            assert r.status_code == 500
            body = r.json()
            assert body["error"] == "internal" and len(body["error_id"]) == 12
            assert body["error_id"] in body["message"]
            # the same kept-alive connection serves the next request
            assert client.get("/health").status_code == 200
        logged = [rec for rec in caplog.records if body["error_id"] in rec.getMessage()]
        assert len(logged) == 1
        assert len(logged[0].getMessage().splitlines()) < 40
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@st.composite
def _nested(draw: st.DrawFn) -> tuple[Any, int]:
    depth = draw(st.integers(min_value=1, max_value=3 * MAX_YAML_DEPTH))
    value: Any = draw(st.sampled_from([1, "x", None]))
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {"k": value}
    return value, depth


@hsettings(max_examples=60, deadline=None)
@given(_nested(), st.booleans())
def test_yaml_depth_limit_property(doc: tuple[Any, int], flow: bool) -> None:
    value, depth = doc
    text = yaml.safe_dump(value, default_flow_style=flow)
    flagged = too_deep(text)
    if depth <= MAX_YAML_DEPTH:
        assert flagged is None
    if depth > 2 * MAX_YAML_DEPTH:  # block sequences in mappings add no level of their own
        assert flagged is not None
    if flagged is None:
        assert yaml.safe_load(text) == value  # what passes, parses
