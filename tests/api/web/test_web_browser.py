"""The workspace in a real browser: headless Chromium (Debian's, driven by Playwright) against a
live `wfm serve` on SQLite. The journeys of the three roles end to end, no console errors on any
page, and a 500-agent week's grid rendered (a ceiling of 3 s; about 0.3 s measured). With
WFM_SCREENSHOTS=1 each page is saved to docs/screenshots/ (1,280 x 800)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT
from service_helpers import KEYS, PLANNER, SMALL, upload, wait
from starlette.requests import Request

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run "
        "the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from api.service.deps import Caller  # noqa: E402
from api.settings import Role  # noqa: E402
from api.web.pages import render  # noqa: E402
from api.web.session import WebSession  # noqa: E402
from api.web.views import AgentRow, RosterView  # noqa: E402

SHOTS = ROOT / "docs" / "screenshots"
WFM = ROOT / ".venv" / "bin" / "wfm"
GOOD_LEAVE = "agent_id,start,end,kind,status\nA07,2026-12-08,2026-12-08,annual,requested\n"
BAD_LEAVE = GOOD_LEAVE + "A99,2026-12-08,2026-12-07,annual,requested\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`wfm serve` on a free loopback port with a fresh SQLite database and one key per role."""
    data = tmp_path_factory.mktemp("web-live")
    port = _free_port()
    env = {
        **os.environ,
        "WFM_DATA_DIR": str(data),
        "WFM_API_KEYS": "{" + ",".join(f'"{k}": "{r}"' for r, k in KEYS.items()) + "}",
        "WFM_POLL_INTERVAL_S": "0.1",
    }
    env.pop("WFM_DATABASE_URL", None)
    cmd = [str(WFM)] if WFM.exists() else [sys.executable, "-c", "from api.cli import main; main()"]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (data / "server.log").read_text(errors="replace")
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "wfm serve did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


class Tab:
    """A browser tab that records console errors and failed requests, and takes screenshots."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        # generous waits: a loaded 2-core machine (a solve's worker starting) is slow, not broken
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.failed: list[str] = []
        self.page.on(
            "response",
            lambda r: (
                self.failed.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )

    def sign_in(self, role: str) -> None:
        p = self.page
        p.goto("/")
        assert "/ui/sign-in" in p.url
        p.get_by_label("API key").fill(KEYS[role])
        p.get_by_role("button", name="Sign in").click()
        p.wait_for_url("**/")
        assert p.get_by_text(f"Signed in as {role}").is_visible()

    def shot(self, name: str) -> None:
        if os.environ.get("WFM_SCREENSHOTS") == "1":
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()
        # pages that refuse (403) or list an input's problems (422) say so in their status,
        # which the browser logs; any other error, and any failed script, style or fetch, fails
        expected = ("status of 403 (Forbidden)", "status of 422 (Unprocessable Entity)")
        left = [e for e in self.errors if not e.endswith(expected)]
        assert left == [], f"console errors: {left}"
        assert self.failed == [], f"failed requests: {self.failed}"


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Tab]:
    t = Tab(browser, base_url)
    yield t
    t.close()


def test_planner_uploads_solves_and_reads_the_roster(tab: Tab, tmp_path: Path) -> None:
    p = tab.page
    tab.sign_in("planner")
    tab.shot("home")
    p.get_by_role("link", name="Scenarios", exact=True).click()
    files = sorted(x for x in SMALL.iterdir() if x.name != "small.yaml")
    p.get_by_label("Scenario YAML").set_input_files(str(SMALL / "small.yaml"))
    p.get_by_label("Its other files").set_input_files([str(f) for f in files])
    tab.shot("scenarios")
    p.get_by_role("button", name="Upload and check").click()
    p.wait_for_url("**/ui/scenarios/*?uploaded=1")
    assert p.get_by_text("Stored as revision 1.").is_visible()
    tab.shot("scenario")

    p.get_by_role("link", name="Solve this scenario…").click()
    p.get_by_label("Time limit, seconds").fill("3")
    assert p.get_by_label("Include stored leave (imported by HR)").is_checked()
    p.get_by_role("button", name="Start solve").click()
    p.wait_for_url("**/ui/solves/*")
    tab.shot("solve-progress")
    # the page polls the job and reloads itself when it ends
    outputs = p.locator("#outputs")
    outputs.wait_for(state="visible", timeout=120_000)
    assert p.locator('#progress [data-field="status"]').inner_text() == "finished"
    assert p.locator('#progress [data-field="result"]').inner_text() in ("optimal", "feasible")
    tab.shot("solve")

    p.get_by_role("link", name="Roster", exact=True).first.click()
    p.wait_for_url("**/roster")
    rows = p.locator("#grid tbody tr")
    assert rows.count() == 10
    assert "All hard rules hold" in p.locator("#hard-check").inner_text()
    assert p.locator("#penalties tbody tr").count() >= 1
    tab.shot("roster")
    # a cell opens the agent's day in a dialog; Escape closes it and focus goes back
    cell = p.locator("#grid td.c-shift a").first
    cell.focus()
    p.keyboard.press("Enter")
    dialog = p.locator("#day-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator(".timeline .seg").count() >= 2
    text = dialog.inner_text()
    assert "work" in text and "lunch" in text
    tab.shot("day")
    p.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # filters: the red team only (the select submits itself)
    p.get_by_label("Team").select_option("red")
    p.wait_for_url("**/roster?*team=red*")
    assert rows.count() == 5
    # the CSV download is the API's roster.csv
    with p.expect_download() as dl:
        p.locator("#download-csv").click()
    path = tmp_path / "roster.csv"
    dl.value.save_as(path)
    assert path.read_text().startswith("agent_id,name,date,shift_type,start,end,paid_minutes")

    p.get_by_role("link", name="Coverage", exact=True).click()
    p.wait_for_url("**/coverage")
    p.locator(".chart canvas").first.wait_for()
    assert p.locator(".chart .uplot").count() == 6  # 3 channels x 2 charts
    assert p.locator("#under-target caption").is_visible()
    tab.shot("coverage")

    # pin and re-solve: one shift pinned, re-planned in 3 s; the new job lists what changed
    p.go_back()
    p.wait_for_url("**/roster*")
    box = p.locator("#grid input.pin").first
    pinned = box.get_attribute("value")
    box.check()
    p.get_by_label("Time limit (s)").fill("3")
    tab.shot("replan")
    p.get_by_role("button", name="Re-solve").click()
    p.wait_for_url("**/ui/solves/*")
    p.locator("#outputs").wait_for(state="visible", timeout=120_000)
    p.reload()
    assert p.locator("#changes h2").inner_text() == "What the re-plan changed"
    assert pinned and "|" in pinned

    # a what-if: volume +20 % and two part-timers more against the base, the variants' charts
    # side by side
    p.get_by_role("link", name="What-ifs", exact=True).click()
    p.get_by_label("Time limit per solve, seconds").fill("2")
    p.locator("#wi-name-0").fill("volume up")
    p.locator("#wi-volume-0").fill("+20")
    p.get_by_label("Head count: contract").first.fill("part_time")
    p.get_by_label("Agents added (+) or dropped (−)").first.fill("+2")
    p.get_by_role("button", name="Run the comparison").click()
    p.wait_for_url("**/ui/solves/*")
    p.locator("#outputs").wait_for(state="visible", timeout=120_000)
    p.reload()
    assert p.locator("#comparison tbody tr").count() > 3
    p.locator(".chart canvas").first.wait_for()
    assert p.locator(".chart .uplot").count() == 6  # 3 channels x 2 charts, both variants in each
    data = json.loads(p.locator("#what-if-data").text_content() or "{}")
    base, up = data["channels"][0]["series"]
    assert (base["variant"], up["variant"]) == ("base", "volume up")
    assert len(up["scheduled"]) == len(data["x"]) > 0
    assert sum(up["required"]) > sum(base["required"])  # 20 % more volume needs more agents
    total = p.locator("#comparison tbody tr", has_text="agents_total").inner_text().split()
    assert total[1:3] == ["10", "12"]  # two part-timers added
    p.locator("#what-if-charts").scroll_into_view_if_needed()
    tab.shot("what-ifs")


def _finished_solve(base_url: str) -> str:
    """A finished solve of the small scenario (the planner's journey leaves one)."""
    with httpx.Client(base_url=base_url, timeout=30) as c:
        jobs = c.get("/solves", params={"status": "finished"}, headers=PLANNER).json()["items"]
        if jobs:
            return str(jobs[0]["id"])
        sid = upload(c, SMALL, "small.yaml").json()["id"]
        r = c.post("/solves", json={"scenario_id": sid, "time_limit_s": 3}, headers=PLANNER)
        return str(wait(c, r.json()["id"], key=PLANNER)["id"])


def test_hr_imports_leave_previews_the_impact_and_approves(tab: Tab, base_url: str) -> None:
    _finished_solve(base_url)
    p = tab.page
    tab.sign_in("hr")
    nav = p.get_by_role("navigation", name="Pages").inner_text()
    assert "Solve" not in nav and "Roster" not in nav and "Leave" in nav
    p.get_by_role("link", name="Leave", exact=True).click()
    # a file with one bad row: its problems listed by line, nothing stored
    p.get_by_label("…or paste the rows").fill(BAD_LEAVE)
    p.get_by_label("Check agent ids against").select_option(index=1)
    p.get_by_role("button", name="Import").click()
    problems = p.locator(".problems")
    problems.wait_for()
    assert "nothing was stored" in problems.inner_text()
    assert "A99" in problems.inner_text() and problems.locator("td", has_text="3").count() >= 1
    assert "No leave stored." in p.locator("#leave-list").inner_text()
    tab.shot("leave-errors")
    p.get_by_label("…or paste the rows").fill(GOOD_LEAVE)
    p.get_by_label("Check agent ids against").select_option(index=1)
    p.get_by_role("button", name="Import").click()
    p.wait_for_url("**/ui/leave?imported=1")
    assert p.locator("#leave-list tbody tr").count() == 1
    tab.shot("leave")
    p.locator("#leave-list input[type=checkbox]").first.check()
    p.get_by_role("button", name="Preview the impact of the chosen records").click()
    p.wait_for_url("**/ui/leave/impact")
    assert p.locator("#impact-combined tbody tr").count() == 3
    tab.shot("leave-impact")
    p.get_by_role("button", name="Approve record").click()
    p.wait_for_url("**/ui/leave")
    assert "approved" in p.locator("#leave-list tbody").inner_text()


def test_supervisor_sees_no_upload_and_is_refused_on_a_forbidden_url(tab: Tab) -> None:
    p = tab.page
    tab.sign_in("supervisor")
    nav = p.get_by_role("navigation", name="Pages").inner_text()
    assert "Solve" in nav and "Roster" in nav and "What-ifs" not in nav
    p.get_by_role("link", name="Scenarios", exact=True).click()
    assert p.locator("input[type=file]").count() == 0
    assert p.get_by_text("Upload").count() == 0
    r = p.goto("/ui/what-ifs")
    assert r is not None and r.status == 403
    assert p.get_by_role("heading", name="Not allowed").is_visible()
    assert "needs the role planner; your key has supervisor" in p.inner_text("main")
    tab.shot("refused")
    p.get_by_role("button", name="Sign out").click()
    p.wait_for_url("**/ui/sign-in?why=signed-out")
    p.goto("/ui/roster")
    assert "/ui/sign-in" in p.url


def _big_view(agents: int = 500, days: int = 7) -> RosterView:
    """A synthetic week of ``agents`` agents (the grid's shape; no solve needed)."""
    start = date(2026, 12, 7)
    rows = []
    for i in range(agents):
        cells: list[dict[str, Any]] = []
        for d in range(days):
            if (i + d) % 7 in (5, 6):
                cells.append({"kind": "off", "text": "off"})
            elif (i * 7 + d) % 23 == 0:
                cells.append({"kind": "leave", "text": "annual"})
            else:
                cells.append(
                    {
                        "kind": "shift",
                        "type": "early" if (i + d) % 2 else "late",
                        "colour": "#dcebff" if (i + d) % 2 else "#ffe7c7",
                        "times": "07:00–15:30" if (i + d) % 2 else "13:00–21:30",
                        "breaks": "break 09:30 · lunch 11:30 · break 14:00",
                        "note": "",
                        "training": d == 2 and i % 10 == 0,
                    }
                )
        rows.append(
            AgentRow(
                id=f"A{i:04d}",
                name=f"Agent {i}",
                team=f"team-{i % 12}",
                contract="full_time" if i % 3 else "part_time",
                skills=("phone", "chat"),
                roles=("team_lead",) if i % 20 == 0 else (),
                cells=cells,
                paid_h=38.5,
                contract_min_h=30,
                contract_max_h=40,
                counts={"weekend": i % 2, "night": 0, "late": 2, "holiday": 0},
            )
        )
    return RosterView(
        job_id="f" * 32,
        scenario_id=1,
        revision=1,
        scenario_name="500 agents",
        status="feasible",
        solved=True,
        objective=1.0,
        bound=1.0,
        gap=0.0,
        days=[start + timedelta(days=d) for d in range(days)],
        rows=rows,
        shift_colours={"early": "#dcebff", "late": "#ffe7c7"},
        violations=(),
        penalties=[],
        explanation=[],
        channels=[],
        slot_starts=[],
        interval_minutes=15,
    )


def test_a_500_agent_week_renders_its_grid_in_under_a_second(browser: Any, tmp_path: Path) -> None:
    view = _big_view()
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )
    request.state.web_session = WebSession(Caller(frozenset({Role.planner})), "t", 0)
    request.state.csrf = "x"
    t0 = time.perf_counter()
    html = render(
        request,
        "roster.html.j2",
        active="roster",
        view=view,
        rows=view.rows,
        filters={"team": "", "skill": "", "contract": "", "role": ""},
        options={k: [] for k in ("team", "skill", "contract", "role")},
        solves=[],
    ).body
    server_s = time.perf_counter() - t0
    # ceilings against regressions, not the target (about 0.3 s in Chromium on the quiet 2-core
    # machine, docs/workspace.md): on a loaded machine the load took 1.0-1.2 s
    assert server_s < 2.0, f"the server took {server_s:.2f} s to render the grid"
    # the page as the browser gets it, with the workspace's static files beside it
    shutil.copytree(ROOT / "api" / "web" / "static", tmp_path / "ui" / "static")
    page_file = tmp_path / "grid.html"
    page_file.write_bytes(
        bytes(html)
        .replace(b'href="/ui/static', b'href="ui/static')
        .replace(b'src="/ui/static', b'src="ui/static')
    )
    timings = []
    for _ in range(2):  # the best of two loads: the first one also starts a renderer process
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(page_file.as_uri())
            page.locator("#grid tbody tr").nth(499).wait_for(state="attached")
            cells = page.locator("#grid td a").count()
            # from the request to the load event: parsed, styled, laid out, scripts run
            timings.append(
                page.evaluate(
                    "() => { const t = performance.getEntriesByType('navigation')[0];"
                    " document.getElementById('grid').getBoundingClientRect();"
                    " return t.loadEventEnd - t.startTime; }"
                )
            )
        finally:
            page.close()
    assert cells > 2500
    assert min(timings) < 3000, f"the browser took {timings} ms to load the 500-agent grid"
