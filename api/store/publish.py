"""A solve that ran outside the service (``make demo``, ``wfm solve``) stored in the service's
database as a finished solve, so the workspace opens its roster, coverage and reports.

``publish_solve`` stores the scenario (its YAML and every file it names, as an upload would) as
a new scenario and the output folder as the outputs of a finished solve of its revision 1, with
the result (``result.json``) the pages rebuild the roster from. The database is migrated first,
as ``wfm serve`` does on startup.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import yaml

from api.errors import InputError
from api.settings import Settings
from api.store.db import (
    JobRow,
    append_history,
    make_engine,
    make_sessionmaker,
    migrate,
    session_scope,
    utcnow,
)
from api.store.jobs import new_id
from api.store.models import JobKind, JobStatus
from api.store.scenarios import create_scenario, file_refs, validate_files
from api.store.worker import artifacts_of
from solver.schema import RosterResult

__all__ = ["publish_solve", "scenario_files"]


def scenario_files(main: Path) -> dict[str, bytes]:
    """The scenario file and every file it names (``extends``, CSVs, forecast files), keyed by
    their paths relative to its folder, as a multi-file upload sends them."""
    root = main.parent
    files: dict[str, bytes] = {}
    todo = [main]
    while todo:
        path = todo.pop()
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else None
        if name is None:
            raise InputError.one(str(path), f"outside the scenario's folder {root}")
        if name in files:
            continue
        if not path.is_file():
            raise InputError.one(name, "file not found")
        files[name] = path.read_bytes()
        if path.suffix in (".yaml", ".yml"):
            doc = yaml.safe_load(files[name])
            for _key, ref in file_refs(doc):
                todo.append((path.parent / PurePosixPath(ref)).resolve())
    return files


def publish_solve(settings: Settings, main: Path, out: Path, role: str = "admin") -> str:
    """Store ``main`` (a scenario) and ``out`` (its solve's output folder, with
    ``result.json``) as a finished solve; returns the solve's id."""
    if not (out / "result.json").is_file() or not (out / "summary.json").is_file():
        raise InputError.one(str(out), "no result.json and summary.json: not a solve's outputs")
    result = RosterResult.model_validate_json((out / "result.json").read_bytes())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    main = main.resolve()
    files = scenario_files(main)
    prepared = validate_files(main.name, files, settings.data_dir)
    engine = make_engine(settings.effective_database_url, pooled=False)
    try:
        migrate(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            scenario = create_scenario(session, main.name, files, prepared, "published", role)
            revision = scenario.revisions[0]
            job = JobRow(
                id=new_id(),
                kind=JobKind.solve.value,
                status=JobStatus.finished.value,
                scenario_id=scenario.id,
                revision_id=revision.id,
                options={},
                created_by=role,
                phase="finished",
                history=[],
                finished_at=utcnow(),
                summary=summary,
                result_status=result.status.value,
                best_objective=result.objective,
                best_bound=result.best_bound,
                solver_elapsed_s=result.wall_time_s,
            )
            append_history(job, f"published from {out} (solved outside the service)")
            session.add(job)
            session.flush()
            for artifact in artifacts_of(out):
                artifact.job_id = job.id
                session.add(artifact)
            return job.id
    finally:
        engine.dispose()
