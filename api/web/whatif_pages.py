"""What-ifs: pick a scenario and up to three variants (volume, service-level target, head count
of a contract, or an overrides snippet), run the comparison job (``POST /compare``); the job's
page shows the table of deltas, the variants' charts side by side and each variant's roster and
coverage."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from api.errors import InputError, Problem
from api.scenario.yamlsrc import depth_problem, too_deep
from api.service.deps import RunnerDep, SessionDep, SettingsDep
from api.service.routes import scenarios as scenario_api
from api.service.routes import solves as api
from api.store.models import CompareRequest, Variant
from api.store.scenarios import get_revision
from api.web.pages import PREFIX, CsrfChecked, PlannerUser, WebRoute, problems_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

VARIANTS = 3
MAX_SNIPPET = 20_000


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _percent(text: str, where: str, problems: list[Problem]) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace("%", "").replace(",", ".").strip())
    except ValueError:
        problems.append(Problem(where, f"expected a number of percent, got {text!r}"))
        return None


def _variant(form: Any, i: int, channels: list[str], problems: list[Problem]) -> Variant | None:
    """Variant ``i`` of the form, or None when its row is empty."""
    where = f"variant {i + 1}"
    name = _field(form, f"name_{i}")
    volume = _percent(_field(form, f"volume_{i}"), f"{where} volume change", problems)
    target = _percent(_field(form, f"target_{i}"), f"{where} service-level target", problems)
    channel = _field(form, f"channel_{i}")
    snippet = _field(form, f"overrides_{i}")
    contract = _field(form, f"headcount_contract_{i}")
    change = _field(form, f"headcount_{i}")
    if not (name or volume is not None or target is not None or snippet or contract or change):
        return None
    if not name:
        problems.append(Problem(f"{where} name", "give the variant a name"))
    headcount: dict[str, int] = {}
    if contract or change:
        try:
            n = int(change.replace("+", "").replace("−", "-"))
        except ValueError:
            problems.append(
                Problem(f"{where} head count", f"expected a whole number of agents, got {change!r}")
            )
            return None
        if not contract:
            problems.append(Problem(f"{where} contract", "name the contract whose agents change"))
            return None
        headcount = {contract: n}
    overrides: dict[str, Any] = {}
    if snippet:
        if len(snippet) > MAX_SNIPPET:
            problems.append(Problem(f"{where} overrides", f"at most {MAX_SNIPPET} characters"))
            return None
        line = too_deep(snippet)
        if line is not None:
            problems.append(depth_problem(f"{where} overrides", line))
            return None
        try:
            data = yaml.safe_load(snippet)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f":{mark.line + 1}" if mark is not None else ""
            problems.append(Problem(f"{where} overrides{at}", f"not valid YAML ({exc})"))
            return None
        if not isinstance(data, dict):
            problems.append(Problem(f"{where} overrides", "expected keys of a scenario file"))
            return None
        overrides = data
    if volume is not None or target is not None:
        if channel and channel not in channels:
            problems.append(
                Problem(f"{where} channel", f"unknown channel {channel!r} (known: {channels})")
            )
            return None
        if "channels" in overrides:
            problems.append(
                Problem(
                    f"{where}",
                    "give the channel changes either in the fields or as a "
                    "channels: snippet, not both",
                )
            )
            return None
        items = []
        for ch in [channel] if channel else channels:
            item: dict[str, Any] = {"id": ch}
            if volume is not None:
                item["demand"] = {"volume_scale": round(1 + volume / 100.0, 6)}
            if target is not None:
                item["service_level"] = {"target": round(target / 100.0, 6)}
            items.append(item)
        overrides["channels"] = items
    return Variant(name=name or f"variant {i + 1}", overrides=overrides, headcount=headcount)


@router.get(f"{PREFIX}/what-ifs", name="what_ifs")
def what_ifs_page(request: Request, session: SessionDep, caller: PlannerUser) -> Response:
    scenarios = scenario_api.list_scenarios(session, caller, limit=500, offset=0).items
    return render(
        request,
        "what_ifs.html.j2",
        active="what-ifs",
        scenarios=scenarios,
        problems=[],
        n=VARIANTS,
        form={},
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


@router.post(f"{PREFIX}/what-ifs", name="run_what_ifs")
def run_what_ifs(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: PlannerUser,
    _: CsrfChecked,
    form: Annotated[dict[str, str], Depends(_form)],
) -> Response:
    """Queue the comparison (``POST /compare``) and open its job page."""
    problems: list[Problem] = []
    try:
        sid = _field(form, "scenario_id")
        if not sid.isdigit():
            raise InputError.one("scenario_id", "choose a scenario")
        revision = get_revision(session, int(sid), None)
        channels = [c["id"] for c in revision.overview["channels"]]
        variants = [v for i in range(VARIANTS) if (v := _variant(form, i, channels, problems))]
        limit = _percent(_field(form, "time_limit_s"), "time limit", problems)
        if problems:
            raise InputError(problems)
        if not variants:
            raise InputError.one("variants", "fill in at least one variant")
        try:
            body = CompareRequest(
                scenario_id=int(sid),
                variants=variants,
                time_limit_s=limit,
                include_base=True,
            )
        except ValidationError as exc:
            raise InputError(
                [
                    Problem(
                        ".".join(str(p) for p in e["loc"]) or "form",
                        str(e["msg"]).removeprefix("Value error, "),
                    )
                    for e in exc.errors()
                ]
            ) from None
        job = api.create_comparison(body, session, settings, runner, caller)
    except InputError as exc:
        session.rollback()
        scenarios = scenario_api.list_scenarios(session, caller, limit=500, offset=0).items
        return render(
            request,
            "what_ifs.html.j2",
            422,
            active="what-ifs",
            scenarios=scenarios,
            problems=problems_of(exc),
            n=VARIANTS,
            form=form,
        )
    return RedirectResponse(f"{PREFIX}/solves/{job.id}", status_code=303)
