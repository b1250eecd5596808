"""Service under load: read latency with and without a running solve (``make bench-service``).

Starts ``wfm serve`` on loopback (SQLite in a temporary folder, one key per role), uploads the
example scenario, then sends ``WFM_BENCH_REQUESTS`` GETs (default 2,000) from
``WFM_BENCH_CONCURRENCY`` concurrent clients (default 50) over ``/health``, ``/scenarios``,
``/solves``, ``/solves/{id}`` and ``/leave``: once with no solve, once while a solve of the
example week runs (``WFM_BENCH_SOLVE_S``, default 60 s). Reports requests per second and the
latency percentiles of each phase; the client runs on the same machine (its CPU counts against
the server's): a minimal keep-alive HTTP/1.1 client (``raw``) and httpx's async client, which
spends about as much CPU per request as the server (``WFM_BENCH_CLIENT``: ``raw``, ``httpx`` or
``both``, the default). Stops by itself: each phase ends after its requests or 120 s, the server is
stopped at the end whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import machine, write_result

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-admin-key-0001"
HEADERS = {"X-API-Key": KEY}
PHASE_CAP_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WFM_DATA_DIR": str(data_dir),
        "WFM_API_KEYS": json.dumps({KEY: "admin"}),
        "WFM_QUEUE_SIZE": "5",
        "WFM_MAX_CONCURRENT_SOLVES": "1",
    }
    wfm = Path(sys.executable).with_name("wfm")
    return subprocess.Popen(
        [str(wfm), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "server.log", "wb"),
    )


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /health within 60 s")


def _upload(client: httpx.Client) -> int:
    folder = ROOT / "scenarios"
    files = {"main_file": "base.yaml", "files": {}}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".yaml", ".csv"):
            files["files"][p.relative_to(folder).as_posix()] = p.read_text(encoding="utf-8")
    r = client.post("/scenarios", json=files, headers=HEADERS, timeout=120)
    r.raise_for_status()
    return int(r.json()["id"])


def _summary(latencies: list[float], errors: int, wall: float) -> dict[str, Any]:
    latencies.sort()

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {
        "requests": len(latencies),
        "errors": errors,
        "wall_s": round(wall, 2),
        "per_s": round(len(latencies) / wall, 1) if wall else None,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
    }


async def _load_raw(port: int, paths: list[str], n: int, concurrency: int) -> dict[str, Any]:
    """``concurrency`` keep-alive HTTP/1.1 connections, each sending its next GET when the
    last answer is in: a client light enough not to take the CPU the server needs (httpx's
    async client spends about as much per request as the server on a 2-core machine). A
    response counts as an error unless it is a 200 with a Content-Length body."""
    latencies: list[float] = []
    errors = 0
    next_i = 0
    t_end = time.monotonic() + PHASE_CAP_S

    async def worker() -> None:
        nonlocal next_i, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_i < n and time.monotonic() < t_end:
                path = paths[next_i % len(paths)]
                next_i += 1
                t0 = time.perf_counter()
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (
                        int(x.split(":", 1)[1])
                        for x in lines
                        if x.lower().startswith("content-length:")
                    ),
                    None,
                )
                if length is None:  # not expected from these routes: reconnect
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                await reader.readexactly(length)
                if not lines[0].startswith("HTTP/1.1 200"):
                    errors += 1
                latencies.append(time.perf_counter() - t0)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(latencies, errors, time.perf_counter() - t0)


async def _load_httpx(base: str, paths: list[str], n: int, concurrency: int) -> dict[str, Any]:
    """The same load from httpx's async client."""
    latencies: list[float] = []
    errors = 0
    next_i = 0
    t_end = time.monotonic() + PHASE_CAP_S
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, limits=limits, timeout=30) as c:

        async def worker() -> None:
            nonlocal next_i, errors
            while next_i < n and time.monotonic() < t_end:
                path = paths[next_i % len(paths)]
                next_i += 1
                t0 = time.perf_counter()
                try:
                    r = await c.get(path)
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return _summary(latencies, errors, wall)


def _load(kind: str, port: int, paths: list[str], n: int, concurrency: int) -> dict[str, Any]:
    if kind == "httpx":
        return asyncio.run(_load_httpx(f"http://127.0.0.1:{port}", paths, n, concurrency))
    return asyncio.run(_load_raw(port, paths, n, concurrency))


def run() -> dict[str, Any]:
    n = int(os.environ.get("WFM_BENCH_REQUESTS", "2000"))
    concurrency = int(os.environ.get("WFM_BENCH_CONCURRENCY", "50"))
    solve_s = float(os.environ.get("WFM_BENCH_SOLVE_S", "60"))
    chosen = os.environ.get("WFM_BENCH_CLIENT", "both")
    clients = ("raw", "httpx") if chosen == "both" else (chosen,)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wfm-bench-") as tmp:
        proc = _start(Path(tmp), port)
        try:
            _wait_up(base, proc)
            with httpx.Client(base_url=base) as client:
                sid = _upload(client)
                # a finished job to read: a short solve first
                first = client.post(
                    "/solves", json={"scenario_id": sid, "time_limit_s": 5}, headers=HEADERS
                ).json()["id"]
                deadline = time.monotonic() + 180
                while client.get(f"/solves/{first}", headers=HEADERS).json()["status"] not in (
                    "finished",
                    "failed",
                    "cancelled",
                ):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the warm-up solve did not finish in 180 s")
                    time.sleep(0.5)
                paths = ["/health", "/scenarios", "/solves", f"/solves/{first}", "/leave"]
                for kind in clients:
                    phases[f"idle, {kind} client"] = _load(kind, port, paths, n, concurrency)
                    job = client.post(
                        "/solves",
                        json={"scenario_id": sid, "time_limit_s": solve_s},
                        headers=HEADERS,
                    ).json()["id"]
                    deadline = time.monotonic() + 60
                    while (
                        client.get(f"/solves/{job}", headers=HEADERS).json()["status"] != "running"
                    ):
                        if time.monotonic() > deadline:
                            raise RuntimeError("the solve did not start within 60 s")
                        time.sleep(0.2)
                    time.sleep(3.0)  # past the worker's start-up, into the search
                    ph = _load(kind, port, paths, n, concurrency)
                    ph["solve_still_running"] = (
                        client.get(f"/solves/{job}", headers=HEADERS).json()["status"] == "running"
                    )
                    phases[f"solving, {kind} client"] = ph
                    client.delete(f"/solves/{job}", headers=HEADERS)
                    while client.get(f"/solves/{job}", headers=HEADERS).json()["status"] in (
                        "running",
                        "queued",
                    ):
                        time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    data = {
        "machine": machine(),
        "requests": n,
        "concurrency": concurrency,
        "worker_nice": os.environ.get("WFM_WORKER_NICE", "10 (default)"),
        "phases": phases,
    }
    lines = [
        "# Service under load (`make bench-service`)",
        "",
        f"{n} GETs per phase from {concurrency} concurrent clients on loopback (client on the "
        "same machine), over /health, /scenarios, /solves, /solves/{id}, /leave; SQLite; "
        f"the solving phases run while a solve of `scenarios/base.yaml` uses "
        f"{os.environ.get('WFM_WORKER_NICE', '10')} as its worker's niceness. Clients: `raw`, "
        "a minimal keep-alive HTTP/1.1 client (asyncio streams; a 200 with its whole body "
        "or an error); `httpx`, httpx's async client, which takes about as much CPU per "
        "request as the server, so that its phases measure the two together.",
        "",
        "| phase | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, ph in phases.items():
        lines.append(
            f"| {name} | {ph['requests']} | {ph['errors']} | {ph['per_s']} | {ph['p50_ms']} | "
            f"{ph['p95_ms']} | {ph['p99_ms']} | {ph['max_ms']} |"
        )
    m = data["machine"]
    lines += ["", f"Machine: {m}"]
    write_result("service", data, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return data


if __name__ == "__main__":
    run()
