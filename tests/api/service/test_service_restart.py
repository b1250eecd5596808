"""Restart test: `wfm serve` as a real process on a free loopback port with a SQLite file; solves
are submitted, the server is killed with SIGKILL mid-solve, started again, and no job or result
is lost: the finished roster is byte-for-byte intact, the interrupted solve is queued again (and
its orphaned worker has exited), the queued one runs to the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import ROOT
from service_helpers import ADMIN, KEYS, SMALL, SUPERVISOR, TINY, upload, wait, wait_for_status

_SCRIPT = Path(sys.executable).parent / "wfm"
WFM = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from api.cli import main; main()"]
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def server(data: Path, port: int) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    env = {
        **os.environ,
        "WFM_DATA_DIR": str(data),
        "WFM_API_KEYS": "{" + ",".join(f'"{k}": "{r}"' for r, k in KEYS.items()) + "}",
        "WFM_POLL_INTERVAL_S": "0.1",
    }
    env.pop("WFM_DATABASE_URL", None)
    log = (data / f"server-{time.monotonic_ns()}.log").open("wb")
    proc = subprocess.Popen(
        [*WFM, "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (data / log.name).read_text(errors="replace")
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.mark.slow
def test_kill_9_mid_solve_loses_nothing(tmp_path: Path) -> None:
    port = _free_port()
    with server(tmp_path, port) as (proc, c):
        tiny = upload(c, TINY, "tiny.yaml").json()["id"]
        small = upload(c, SMALL, "small.yaml").json()["id"]
        done = c.post("/solves", json={"scenario_id": tiny, "time_limit_s": 5}, headers=SUPERVISOR)
        done_job = wait(c, done.json()["id"])
        assert done_job["status"] == "finished"
        roster = c.get(f"/solves/{done_job['id']}/roster", headers={**ADMIN, "Accept": "text/csv"})
        report = c.get(f"/solves/{done_job['id']}/report", headers=ADMIN)
        assert roster.status_code == 200 and report.status_code == 200
        long = c.post("/solves", json={"scenario_id": small, "time_limit_s": 60}, headers=ADMIN)
        queued = c.post("/solves", json={"scenario_id": tiny, "time_limit_s": 5}, headers=ADMIN)
        long_id, queued_id = long.json()["id"], queued.json()["id"]
        wait_for_status(c, long_id, "running")
        deadline = time.monotonic() + 60
        while c.get(f"/solves/{long_id}", headers=ADMIN).json()["progress"]["phase"] in (
            "starting",
            "preparing",
        ):  # mid-solve: the worker is in the solver
            assert time.monotonic() < deadline
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert workers, "no worker process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers):  # the orphaned worker notices and exits
        assert time.monotonic() < deadline, f"orphaned workers still alive: {workers}"
        time.sleep(0.1)

    with server(tmp_path, port) as (_, c):
        again = c.get(f"/solves/{done_job['id']}", headers=ADMIN).json()
        assert again["status"] == "finished" and again["result"] == done_job["result"]
        assert (
            c.get(
                f"/solves/{done_job['id']}/roster", headers={**ADMIN, "Accept": "text/csv"}
            ).content
            == roster.content
        )
        assert c.get(f"/solves/{done_job['id']}/report", headers=ADMIN).content == report.content
        interrupted = c.get(f"/solves/{long_id}", headers=ADMIN).json()
        assert interrupted["status"] in ("queued", "running")
        assert any(
            "queued again: a server restart interrupted attempt 1" in h
            for h in interrupted["history"]
        ), interrupted
        job = wait_for_status(c, long_id, "running")
        assert job["attempt"] == 2
        assert c.delete(f"/solves/{long_id}", headers=ADMIN).json()["status"] == "cancelled"
        last = wait(c, queued_id)
        assert last["status"] == "finished" and last["attempt"] == 1
        listed = c.get("/solves", headers=ADMIN).json()
        assert listed["total"] == 3
