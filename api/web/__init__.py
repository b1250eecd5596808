"""The web workspace (issue 21): pages for planners, supervisors and HR, served by ``wfm serve``
at ``/`` (pages under ``/ui``). Server-rendered Jinja2 with a little plain JavaScript and the
vendored uPlot for charts; no build step, nothing fetched at run time. Every page and action
signs in with an API key, checks the key's roles as the HTTP API does, and calls the API's own
route functions. The workspace sits above the service: ``create_app`` is the service's app with
the pages added (``wfm serve`` runs it)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from api.service.app import create_app as create_service_app
from api.settings import Settings
from api.web import auth, leave_pages, roster_pages, scenario_pages, solve_pages, whatif_pages
from api.web.pages import HERE, PREFIX

__all__ = ["create_app", "install"]


def install(app: FastAPI) -> None:
    """Add the workspace's pages and static files to the service's app."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="web-static")
    for module in (auth, scenario_pages, solve_pages, roster_pages, leave_pages, whatif_pages):
        app.include_router(module.router)


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The HTTP service (``api.service.app.create_app``) with the workspace at ``/``."""
    app = create_service_app(settings, run_jobs=run_jobs)
    install(app)
    return app
