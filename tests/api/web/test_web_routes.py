"""The web workspace's routes through httpx (Starlette's TestClient, no browser): sign-in and its
failures (bad key, expired, tampered or revoked session, plain HTTP off this machine), roles as
the API checks them (forbidden pages are 403 pages, actions a role may not do are not shown),
CSRF, bad uploads and imports (every problem located, nothing stored), unknown ids."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    ADMIN,
    HR,
    KEYS,
    PLANNER,
    SMALL,
    TINY,
    scenario_files,
    settings,
    upload,
    wait,
)

from api.errors import InputError, PermissionDeniedError
from api.service.deps import Caller, allows, require
from api.settings import Role
from api.web import create_app
from api.web.session import COOKIE, SESSION_S, make_cookie, secret_of

BASE = "https://testserver"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def app_client(data: Path) -> Iterator[TestClient]:
    """The service with the workspace, no solves run (these tests never need one)."""
    with TestClient(create_app(settings(data), run_jobs=False), base_url=BASE) as c:
        yield c


def signed_in(app_client: TestClient, role: str) -> TestClient:
    """A client of the same app signed in as ``role`` (its own cookie jar)."""
    c = TestClient(app_client.app, base_url=BASE)
    r = c.post("/ui/sign-in", data={"api_key": KEYS[role], "next": "/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert KEYS[role] not in cookie  # the key itself never goes into the cookie
    return c


def csrf(client: TestClient, page: str = "/ui/scenarios") -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert m, "no CSRF token on the page"
    return m.group(1)


def upload_parts(folder: Path, main: str, **replace: bytes) -> list[tuple[str, tuple[str, bytes]]]:
    files = scenario_files(folder) | replace
    parts = [("scenario", (main, files.pop(main)))]
    return parts + [("files", (name, content)) for name, content in files.items()]


# --------------------------------------------------------------------------- sign-in
def test_pages_without_a_session_go_to_sign_in(app_client: TestClient) -> None:
    c = TestClient(app_client.app, base_url=BASE)
    r = c.get("/ui/scenarios?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/sign-in?why=none&next=%2Fui%2Fscenarios%3Fx%3D1"
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and "Sign in with your API key." in page.text
    assert '<label for="api_key">API key</label>' in page.text
    r = c.get("/ui/solves/abc/progress.json")
    assert r.status_code == 401 and r.json()["sign_in"] == "/ui/sign-in"


def test_bad_and_empty_keys_are_refused_with_a_message(app_client: TestClient) -> None:
    c = TestClient(app_client.app, base_url=BASE)
    r = c.post("/ui/sign-in", data={"api_key": "not-a-key-at-all"})
    assert (
        r.status_code == 401
        and "unknown API key" in r.text
        and COOKIE not in r.headers.get("set-cookie", "")
    )
    r = c.post("/ui/sign-in", data={"api_key": ""})
    assert r.status_code == 401 and "enter your API key" in r.text


def test_sign_in_goes_back_only_to_this_site(app_client: TestClient) -> None:
    c = TestClient(app_client.app, base_url=BASE)
    for target, expected in (
        ("/ui/leave", "/ui/leave"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ):
        r = c.post(
            "/ui/sign-in",
            data={"api_key": KEYS["hr"], "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == expected


def test_plain_http_off_this_machine_is_refused_with_the_reason(app_client: TestClient) -> None:
    c = TestClient(app_client.app, base_url="http://wfm.example")
    r = c.post("/ui/sign-in", data={"api_key": KEYS["planner"]}, follow_redirects=False)
    assert r.status_code == 400 and "only sent over HTTPS" in r.text


@pytest.mark.parametrize(
    ("cookie", "why"),
    [
        ("expired", "expired"),
        ("tampered", "invalid"),
        ("garbage", "invalid"),
        ("revoked", "gone"),
    ],
)
def test_bad_sessions_go_back_to_sign_in_with_the_reason(
    app_client: TestClient, data: Path, cookie: str, why: str
) -> None:
    secret = secret_of(data.resolve())
    values = {
        "expired": make_cookie(secret, KEYS["planner"], now=time.time() - SESSION_S - 5),
        "tampered": make_cookie(secret, KEYS["planner"])[:-3] + "AAA",
        "garbage": "v1.x.y",
        "revoked": make_cookie(secret, "a-key-no-longer-configured"),
    }
    c = TestClient(app_client.app, base_url=BASE, cookies={COOKIE: values[cookie]})
    r = c.get("/ui/scenarios", follow_redirects=False)
    assert r.status_code == 303 and f"why={why}" in r.headers["location"]
    assert c.get(r.headers["location"]).status_code == 200


def test_sign_out_clears_the_cookie(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    assert c.get("/ui/scenarios").status_code == 200
    r = c.post("/ui/sign-out", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in?why=signed-out"
    assert 'wfm_session=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert c.get("/ui/scenarios", follow_redirects=False).status_code == 303


# --------------------------------------------------------------------------- roles
def test_allows_is_the_api_role_check() -> None:
    """The pages show an action exactly when the API's own check lets the caller through."""
    sets = [(Role.hr,), (Role.planner,), (Role.planner, Role.supervisor), tuple(Role)]
    for roles in [*sets, (Role.supervisor,), (Role.admin,), (Role.hr, Role.supervisor)]:
        caller = Caller(frozenset(roles))
        for allowed in sets:

            async def check(caller: Caller = caller, allowed: tuple[Role, ...] = allowed) -> bool:
                try:
                    await require(*allowed)(caller)
                except PermissionDeniedError:
                    return False
                return True

            assert anyio.run(check) == allows(caller, *allowed)


# page, the API request needing the same roles
PAGES = [
    ("/ui/scenarios", ("GET", "/scenarios")),
    ("/ui/solves", ("GET", "/solves")),
    ("/ui/roster", ("GET", "/solves")),
    ("/ui/coverage", ("GET", "/solves")),
    ("/ui/leave", ("GET", "/leave")),
    ("/ui/what-ifs", ("POST", "/compare")),
]


@pytest.mark.parametrize("role", ["hr", "planner", "supervisor", "admin"])
def test_every_page_allows_exactly_the_roles_the_api_does(
    app_client: TestClient, role: str
) -> None:
    c = signed_in(app_client, role)
    home = c.get("/").text
    for page, (method, path) in PAGES:
        api = app_client.request(method, path, headers={"X-API-Key": KEYS[role]}, json={})
        r = c.get(page, follow_redirects=False)
        forbidden = api.status_code == 403
        assert (r.status_code == 403) == forbidden, (role, page, r.status_code, api.status_code)
        # the top bar links to exactly the pages the role may open
        assert (f'href="{page}"' in home) == (not forbidden), (role, page)
        if forbidden:
            assert "Not allowed" in r.text and "this operation needs the role" in r.text
            assert "Traceback" not in r.text


def test_actions_a_role_may_not_do_are_not_shown(app_client: TestClient) -> None:
    planner = signed_in(app_client, "planner").get("/ui/scenarios").text
    supervisor = signed_in(app_client, "supervisor").get("/ui/scenarios").text
    hr_leave = signed_in(app_client, "hr").get("/ui/leave").text
    sup_leave = signed_in(app_client, "supervisor").get("/ui/leave").text
    assert 'type="file"' in planner and "Upload a new scenario" in planner
    assert 'type="file"' not in supervisor and "Upload" not in supervisor
    assert "Import the HR export" in hr_leave and "Import the HR export" not in sup_leave


def test_a_forbidden_post_is_refused_and_stores_nothing(app_client: TestClient) -> None:
    c = signed_in(app_client, "supervisor")
    token = csrf(c, "/ui/leave")
    before = app_client.get("/scenarios", headers=ADMIN).json()["total"]
    r = c.post("/ui/scenarios", data={"csrf": token}, files=upload_parts(SMALL, "small.yaml"))
    assert r.status_code == 403 and "needs the role planner" in r.text
    assert app_client.get("/scenarios", headers=ADMIN).json()["total"] == before


def test_posts_need_the_session_csrf_token(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    r = c.post("/ui/scenarios", files=upload_parts(SMALL, "small.yaml"))
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/ui/scenarios", data={"csrf": "x" * 32}, files=upload_parts(SMALL, "small.yaml"))
    assert r.status_code == 403


# --------------------------------------------------------------------------- bad input
def test_a_bad_upload_lists_every_problem_at_its_file_and_line(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    agents = (
        (SMALL / "agents.csv")
        .read_bytes()
        .replace(b"A05,Eli Novak,red,full_time", b"A05,Eli Novak,red,full_tme")
    )
    before = app_client.get("/scenarios", headers=ADMIN).json()["total"]
    r = c.post(
        "/ui/scenarios",
        data={"csrf": csrf(c)},
        files=upload_parts(SMALL, "small.yaml", **{"agents.csv": agents}),
    )
    assert r.status_code == 422
    assert "nothing was stored" in r.text
    assert "<td>agents.csv</td><td>6</td>" in r.text and "did you mean" in r.text
    # a file the scenario names is missing, and no scenario file at all
    parts = [p for p in upload_parts(SMALL, "small.yaml") if p[1][0] != "phone.csv"]
    r = c.post("/ui/scenarios", data={"csrf": csrf(c)}, files=parts)
    assert r.status_code == 422 and "phone.csv" in r.text and "not a file of this upload" in r.text
    r = c.post(
        "/ui/scenarios",
        data={"csrf": csrf(c)},
        files=[("scenario", ("", b"")), ("files", ("", b""))],
    )
    assert r.status_code == 422 and "choose the scenario" in r.text
    assert app_client.get("/scenarios", headers=ADMIN).json()["total"] == before


def test_upload_revisions_and_diff(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    r = c.post(
        "/ui/scenarios",
        data={"csrf": csrf(c)},
        files=upload_parts(SMALL, "small.yaml"),
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = r.headers["location"].split("?")[0]
    changed = (SMALL / "small.yaml").read_bytes().replace(b"under_cover: 10", b"under_cover: 12")
    r = c.post(
        f"{page}/revisions",
        data={"csrf": csrf(c), "comment": "costlier under cover"},
        files=upload_parts(SMALL, "small.yaml", **{"small.yaml": changed}),
    )
    assert r.status_code == 200 and "Stored as revision 2" in r.text
    assert "costlier under cover" in r.text
    diff = c.get(f"{page}/diff?from_revision=1&to_revision=2")
    assert diff.status_code == 200
    assert '<span class="da">+  under_cover: 12</span>' in diff.text
    assert '<span class="dr">-  under_cover: 10</span>' in diff.text
    assert c.get(f"{page}/diff?from_revision=1&to_revision=9").status_code == 404


def test_unknown_ids_are_404_pages(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    for url in ("/ui/scenarios/999", "/ui/solves/nope", "/ui/solves/nope/roster"):
        r = c.get(url)
        assert r.status_code == 404 and "Not found" in r.text and "Traceback" not in r.text
    r = c.get("/ui/scenarios/abc")
    assert r.status_code == 422 and "Invalid input" in r.text
    assert c.get("/ui/solves/nope/progress.json").json()["error"] == "Not found"


def test_a_bad_solve_request_is_explained(app_client: TestClient) -> None:
    c = signed_in(app_client, "supervisor")
    token = csrf(c, "/ui/leave")
    r = c.post("/ui/solves", data={"csrf": token, "scenario_id": "1", "time_limit_s": "soon"})
    assert r.status_code == 422 and "time_limit_s" in r.text and "expected a number" in r.text
    r = c.post("/ui/solves", data={"csrf": token, "scenario_id": "999", "time_limit_s": "5"})
    assert r.status_code == 404


def test_a_leave_import_with_a_bad_row_stores_nothing(app_client: TestClient) -> None:
    c = signed_in(app_client, "hr")
    token = csrf(c, "/ui/leave")
    bad = (
        "agent_id,start,end,kind,status\n"
        "A01,2026-12-07,2026-12-07,annual,approved\n"
        "A02,2026-12-09,2026-12-08,holiday,requested\n"
    )
    r = c.post("/ui/leave/import", data={"csrf": token, "text": bad})
    assert r.status_code == 422 and "nothing was stored" in r.text
    assert "<td>leave.csv</td><td>3</td>" in r.text
    assert app_client.get("/leave", headers=HR).json()["total"] == 0
    r = c.post("/ui/leave/import", data={"csrf": token, "text": ""})
    assert r.status_code == 422 and "choose the HR export" in r.text
    good = "agent_id,start,end,kind,status\nA01,2026-12-07,2026-12-07,annual,requested\n"
    r = c.post("/ui/leave/import", data={"csrf": token, "text": good}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/leave?imported=1"
    records = app_client.get("/leave", headers=HR).json()["items"]
    assert [x["agent_id"] for x in records] == ["A01"]
    r = c.post(f"/ui/leave/{records[0]['id']}/status", data={"csrf": token, "status": "approved"})
    assert r.status_code == 200 and "approved" in r.text
    assert app_client.get("/leave", headers=HR).json()["items"][0]["status"] == "approved"
    r = c.post("/ui/leave/impact", data={"csrf": token})
    assert r.status_code == 422 and "choose at least one leave record" in r.text
    # the impact needs a finished roster: a clear 409 page without one
    r = c.post("/ui/leave/impact", data={"csrf": token, "leave_id": str(records[0]["id"])})
    assert r.status_code == 409 and "no finished roster" in r.text
    r = c.post(f"/ui/leave/{records[0]['id']}/withdraw", data={"csrf": token})
    assert r.status_code == 200
    assert app_client.get("/leave", headers=HR).json()["total"] == 0
    planner = signed_in(app_client, "planner")
    r = planner.post("/ui/leave/import", data={"csrf": csrf(planner), "text": good})
    assert r.status_code == 403


def test_what_if_problems_are_listed(app_client: TestClient) -> None:
    c = signed_in(app_client, "planner")
    sid = app_client.get("/scenarios", headers=PLANNER).json()["items"][0]["id"]
    token = csrf(c, "/ui/what-ifs")
    r = c.post(
        "/ui/what-ifs",
        data={
            "csrf": token,
            "scenario_id": str(sid),
            "name_0": "more calls",
            "volume_0": "lots",
            "channel_1": "fax",
            "target_1": "90",
            "name_1": "fax",
            "overrides_2": "shrinkage: [",
            "name_2": "broken",
        },
    )
    assert r.status_code == 422
    assert "expected a number of percent" in r.text and "unknown channel" in r.text
    assert "not valid YAML" in r.text
    assert 'value="more calls"' in r.text  # the form keeps what was typed
    r = c.post("/ui/what-ifs", data={"csrf": token, "scenario_id": str(sid)})
    assert r.status_code == 422 and "at least one variant" in r.text
    # head count: a number, a contract, one the scenario has (the API's check, at the field)
    for fields, says in [
        ({"headcount_contract_0": "full_time", "headcount_0": "two"}, "expected a whole number"),
        ({"headcount_0": "+2"}, "name the contract whose agents change"),
        (
            {"headcount_contract_0": "nobody", "headcount_0": "-1"},
            "no agent has contract &#39;nobody&#39;",
        ),
    ]:
        r = c.post(
            "/ui/what-ifs",
            data={"csrf": token, "scenario_id": str(sid), "name_0": "hc", **fields},
        )
        assert r.status_code == 422 and says in r.text, (fields, r.text[-3000:])
        assert "Traceback" not in r.text
    assert signed_in(app_client, "supervisor").get("/ui/what-ifs").status_code == 403


# --------------------------------------------------------------------------- pin and re-solve
def test_pin_and_resolve_from_the_grid(tmp_path: Path) -> None:
    """The roster grid's pin boxes and the re-plan form: a supervisor pins one shift, marks an
    agent unavailable and re-solves; the new job's page says what changed, the pinned shift
    is as it was. An empty form, a malformed pin and an absence without its agent or times
    are 422 pages naming the field; nothing is queued."""
    with TestClient(create_app(settings(tmp_path)), base_url=BASE) as client:
        sid = upload(client, TINY, "tiny.yaml").json()["id"]
        r = client.post("/solves", json={"scenario_id": sid, "time_limit_s": 5}, headers=ADMIN)
        job = wait(client, r.json()["id"])
        assert job["status"] == "finished", job
        roster = client.get(f"/solves/{job['id']}/roster", headers=ADMIN).json()
        c = signed_in(client, "supervisor")
        page = c.get(f"/ui/solves/{job['id']}/roster").text
        assert 'id="replan-form"' in page and 'name="frozen_until"' in page
        boxes = re.findall(r'name="pin" value="([^"]+)"', page)
        assert len(boxes) == len(roster)  # one box per shift
        keep = roster[0]
        other = next(r["agent_id"] for r in roster if r["agent_id"] != keep["agent_id"])
        token = csrf(c, f"/ui/solves/{job['id']}/roster")
        url = f"/ui/solves/{job['id']}/replan"
        base = {"csrf": token, "frozen_until": "2026-12-07T00:00", "time_limit_s": "3"}
        queued = client.get("/solves", headers=ADMIN).json()["total"]
        for form, where in [
            (base, "tick at least one shift"),
            ({**base, "pin": "Z9"}, "expected AGENT|YYYY-MM-DD"),
            ({**base, "absent_agent": other}, "events[0].absence.from"),
            ({**base, "absent_from": "2026-12-07T12:00"}, "choose the agent who is unavailable"),
        ]:
            r = c.post(url, data=form, follow_redirects=False)
            assert r.status_code == 422 and where in r.text, (form, r.text[-2000:])
            assert "Traceback" not in r.text
        assert client.get("/solves", headers=ADMIN).json()["total"] == queued
        pin = f"{keep['agent_id']}|{keep['date']}"
        assert pin in boxes
        form = {
            **base,
            "pin": pin,
            "absent_agent": other,
            "absent_from": "2026-12-07T00:00",
            "absent_to": "2026-12-09T00:00",
        }
        r = c.post(url, data=form, follow_redirects=False)
        assert r.status_code == 303, r.text[-2000:]
        new_id = r.headers["location"].rsplit("/", 1)[1]
        done = wait(client, new_id)
        assert done["status"] == "finished" and done["result"]["status"] in ("optimal", "feasible")
        after = client.get(f"/solves/{new_id}/roster", headers=ADMIN).json()
        assert keep in after  # the pinned shift exactly as published
        assert other not in {r["agent_id"] for r in after}
        page = c.get(f"/ui/solves/{new_id}").text
        assert "What the re-plan changed" in page and other in page
        assert "what-if-data" not in page  # the what-if charts are a comparison's


def test_a_solve_from_the_command_line_is_published_to_the_workspace(tmp_path: Path) -> None:
    """``make demo``'s step: a scenario solved into a folder (``wfm solve``'s outputs and
    ``result.json``) stored as a finished solve (``api.store.publish``); the workspace opens
    its roster and coverage, the API its roster, the scenario with every file it names. A
    folder without a result is refused by name, and nothing is stored."""
    from api.cli.roster import solve_to_folder
    from api.store.publish import publish_solve

    out = tmp_path / "out"
    outcome, _ = solve_to_folder(TINY / "tiny.yaml", out, 3.0, quiet=True)
    data = tmp_path / "data"
    with pytest.raises(InputError, match="not a solve's outputs"):
        publish_solve(settings(data), TINY / "tiny.yaml", out)
    (out / "result.json").write_text(outcome.result.model_dump_json(), encoding="utf-8")
    job_id = publish_solve(settings(data), TINY / "tiny.yaml", out)
    with TestClient(create_app(settings(data), run_jobs=False), base_url=BASE) as client:
        job = client.get(f"/solves/{job_id}", headers=ADMIN).json()
        assert job["status"] == "finished" and job["result"]["status"] in ("optimal", "feasible")
        scenario = client.get(f"/scenarios/{job['scenario_id']}", headers=ADMIN).json()
        assert scenario["name"] == "tiny-test"
        roster = client.get(f"/solves/{job_id}/roster", headers=ADMIN).json()
        assert len(roster) == len(outcome.result.assignments) > 0
        c = signed_in(client, "supervisor")
        page = c.get(f"/ui/solves/{job_id}/roster")
        assert page.status_code == 200 and "T1" in page.text
        assert c.get(f"/ui/solves/{job_id}/coverage").status_code == 200
        assert client.get("/solves", headers=ADMIN).json()["total"] == 1
