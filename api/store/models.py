"""The records of the job store as they travel over HTTP: solve and comparison requests, jobs
with their state, progress and result, scenario revision diffs and located input problems. The
store builds them; the service (``api.service``) serves them and adds its own request and
response models in ``api.service.schemas``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.sweep.spec import RangeSpec
from solver.schema import SolveStatus

MAX_ID = 2**31 - 1
"""The largest database id a request may name."""


class InputModel(BaseModel):
    """A request body: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class ProblemOut(BaseModel):
    """One thing wrong with the input: where (file, line, key path or field) and what."""

    where: str = Field(description="File:line and key path, CSV column, or request field")
    message: str = Field(description="What is wrong and what was expected")
    file: str | None = Field(None, description="The file, when the problem is in a file")
    line: int | None = Field(None, description="The line in that file (1-based)")
    path: str | None = Field(None, description="Key path (YAML) or column (CSV) or field")


class FileChange(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"
    unchanged = "unchanged"


class FileDiff(BaseModel):
    path: str
    change: FileChange
    diff: str = Field("", description="Unified diff of the text (empty when unchanged)")


class ScenarioDiff(BaseModel):
    scenario_id: int
    from_revision: int
    to_revision: int
    files: list[FileDiff]


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    finished = "finished"
    failed = "failed"
    cancelled = "cancelled"


class JobKind(StrEnum):
    solve = "solve"
    compare = "compare"
    sweep = "sweep"


class SolveRequest(InputModel):
    """Solve one revision of a scenario."""

    scenario_id: int = Field(ge=1, le=MAX_ID, description="Scenario id")
    revision: int | None = Field(
        None, ge=1, le=MAX_ID, description="Revision number (default: latest)"
    )
    time_limit_s: float | None = Field(
        None, gt=0, description="Solver time limit (default: the service's or the scenario's)"
    )
    workers: int | None = Field(None, ge=1, le=64, description="CP-SAT threads")
    include_stored_leave: bool = Field(
        True,
        description="Add the leave records imported through /leave (for the scenario's agents) "
        "to the scenario's own leave",
    )
    previous_solve_id: str | None = Field(
        None,
        max_length=32,
        description="A finished solve of the horizon before this one: its agents' last shifts "
        "(rest), days worked in a row and fairness ledger are carried in (like `wfm solve "
        "--previous`)",
    )


class ReplanRequest(InputModel):
    """Re-plan a finished solve's roster after absences and demand changes (the events of
    ``wfm replan``'s file, without its ``scenario``: the solve's own revision is used)."""

    frozen_until: datetime = Field(description="Nothing starts or changes before this")
    notice_minutes: int = Field(120, ge=0, le=7 * 24 * 60)
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=1000,
        description='Each one of {"absence": {agent, from, to}}, {"volume": {channel, factor, '
        'from, to}}, {"handle_time": {channel, factor, from, to}}, {"pin": {agent, date}} (that '
        "published shift is kept exactly)",
    )
    time_limit_s: float | None = Field(None, gt=0, description="Solver time limit (default 10)")
    workers: int | None = Field(None, ge=1, le=64, description="CP-SAT threads")


class Variant(InputModel):
    """A what-if: overrides deep-merged onto the base scenario like an ``extends:`` file."""

    name: str = Field(min_length=1, max_length=100, description="Label in the comparison")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description='Keys of a scenario file, e.g. {"channels": [{"id": "phone", "demand": '
        '{"volume_scale": 1.15}}]}',
    )
    headcount: dict[str, Annotated[int, Field(ge=-1000, le=1000)]] = Field(
        default_factory=dict,
        max_length=20,
        description="Agents added (positive) or dropped (negative) per contract, e.g. "
        "{'part_time': -2}: the contract's last agents are dropped with their leave and "
        "pinned shifts; an added agent copies the skills, team and preferences of the "
        "contract's agents in turn (as a sweep's headcount[CONTRACT] axis)",
    )


class CompareRequest(InputModel):
    """Several what-ifs of one scenario, solved as one job with a comparison table."""

    scenario_id: int = Field(ge=1, le=MAX_ID)
    revision: int | None = Field(None, ge=1, le=MAX_ID, description="Revision (default: latest)")
    variants: list[Variant] = Field(
        min_length=1,
        max_length=10,
        description="The what-ifs; the base scenario itself comes first unless "
        "include_base is false",
    )
    include_base: bool = Field(True, description="Solve the unchanged scenario first, as 'base'")
    time_limit_s: float | None = Field(None, gt=0, description="Time limit of each solve")
    workers: int | None = Field(None, ge=1, le=64)
    include_stored_leave: bool = True

    @model_validator(mode="after")
    def _names(self) -> Self:
        names = [v.name for v in self.variants] + (["base"] if self.include_base else [])
        if len(set(names)) != len(names):
            raise ValueError("variants: every name must be different (and not 'base')")
        if len(names) < 2:
            raise ValueError("variants: a comparison needs at least two scenarios")
        return self


MAX_SWEEP_VARIANTS = 100
"""Variants one POST /sweeps may ask for (a larger sweep: ``wfm sweep`` on a cluster)."""


class SweepRequest(InputModel):
    """A what-if sweep of one scenario revision: the body of a sweep file (docs/sweeps.md)
    without ``base``, the revision being the base."""

    scenario_id: int = Field(ge=1, le=MAX_ID)
    revision: int | None = Field(None, ge=1, le=MAX_ID, description="Revision (default: latest)")
    mode: Literal["cross", "zip"] = Field(
        "cross", description="cross: every combination of the axes; zip: the i-th values together"
    )
    axes: dict[str, list[Any] | RangeSpec] = Field(
        min_length=1,
        max_length=10,
        description='Key path -> values or {"from", "to", "step"}, e.g. '
        '{"channels[phone].service_level.target": [0.8, 0.9], "headcount[part_time]": [-2, 0]}',
    )
    set: dict[str, Any] = Field(
        default_factory=dict, description="Key path -> one value, the same in every variant"
    )
    time_limit_s: float | None = Field(None, gt=0, description="Time limit of each variant")
    workers: int | None = Field(None, ge=1, le=64, description="Solver threads per variant")
    jobs: int | None = Field(None, ge=1, le=1024, description="Variants solved at once")
    include_stored_leave: bool = True


class SweepTable(BaseModel):
    """sweep.csv: one row per variant (docs/sweeps.md)."""

    header: list[str]
    rows: list[list[str]]


class Progress(BaseModel):
    phase: str = Field(description="queued, preparing, the solver's phase, writing outputs ...")
    best_objective: float | None = None
    best_bound: float | None = None
    gap: float | None = Field(None, description="(objective - bound) / objective")
    elapsed_s: float | None = Field(None, description="Seconds since the worker started")
    time_limit_s: float | None = None
    message: str = ""


class ResultInfo(BaseModel):
    status: SolveStatus
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    wall_time_s: float | None = None
    explanation: list[dict[str, Any]] = Field(
        default_factory=list, description="Conflicting rules, when infeasible"
    )


class JobError(BaseModel):
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)


class JobOut(BaseModel):
    """A solve or comparison job."""

    id: str
    kind: JobKind
    status: JobStatus
    scenario_id: int
    revision: int
    variant: str | None = Field(None, description="Name of the what-if (comparison variants)")
    parent_id: str | None = Field(None, description="The comparison this variant belongs to")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempt: int = Field(description="Times a worker has started it")
    queue_position: int | None = Field(None, description="1: next to start (queued jobs)")
    cancel_requested: bool = False
    progress: Progress
    result: ResultInfo | None = None
    error: JobError | None = None
    applied_leave: list[int] = Field(
        default_factory=list, description="Ids of stored leave records the solve included"
    )
    children: list[str] = Field(default_factory=list, description="Variant job ids (compare)")
    history: list[str] = Field(default_factory=list, description="What happened, with times")
    links: dict[str, str] = Field(default_factory=dict, description="Where its outputs are")
