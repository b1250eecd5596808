"""The HTTP service: ``create_app(settings)`` builds the FastAPI app (``wfm serve`` runs it).

On startup the database is migrated to the latest schema, interrupted jobs are recovered and the
job runner starts; on shutdown running solves are stopped and queued again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.service import handlers, openapi
from api.service.deps import Services
from api.service.limits import BodySizeLimit, Guard
from api.service.routes import calculators, health, leave, scenarios, solves, sweeps
from api.settings import Settings
from api.store.db import make_engine, make_sessionmaker, migrate
from api.store.runner import JobRunner

__all__ = ["create_app"]

DESCRIPTION = """
Workforce scheduling for contact centres over HTTP: staffing and forecast calculators, scenarios
with revisions, solves as jobs (rosters, coverage, reports, calendars), what-if comparisons,
leave imports and the impact of leave requests.

Every route except /health needs an API key in the `X-API-Key` header; its roles (hr, planner,
supervisor, admin) decide what it may do. Errors have one body: `{error, message, problems}`.
"""


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The app; ``run_jobs=False`` serves requests without starting solves (tests of the
    schema)."""
    settings = settings if settings is not None else Settings()
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.effective_database_url
        engine = make_engine(url)
        migrate(engine)
        factory = make_sessionmaker(engine)
        runner = JobRunner(settings, factory, url)
        app.state.services = Services(settings, engine, factory, runner)
        if run_jobs:
            runner.start()
        try:
            yield
        finally:
            if run_jobs:
                runner.stop()
            engine.dispose()

    app = FastAPI(
        title="wfm-optimizer service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    handlers.install(app)
    openapi.install(app)
    # Guard inside BodySizeLimit: bodies are bounded in size before their depth is read
    app.add_middleware(Guard)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    for module in (health, calculators, scenarios, solves, sweeps, leave):
        app.include_router(module.router)
    return app
