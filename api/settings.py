"""Service settings from the environment (``WFM_`` prefix), read once per app by pydantic-settings.

Every setting is documented in docs/service.md. API keys and their roles are given as JSON:
``WFM_API_KEYS='{"hr-key-1": "hr", "plan-key": ["planner", "supervisor"]}'``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ROLE_HELP", "Role", "Settings"]


class Role(StrEnum):
    """What an API key may do (see ``ROLE_HELP``); ``admin`` may do everything."""

    hr = "hr"
    planner = "planner"
    supervisor = "supervisor"
    admin = "admin"


ROLE_HELP = {
    Role.hr: "imports and manages leave, sees the impact of leave requests",
    Role.planner: "uploads scenarios, runs solves and what-if comparisons",
    Role.supervisor: "requests solves and reads rosters and reports",
    Role.admin: "everything",
}


def _roles(value: object) -> object:
    """``{"key": "hr"}`` or ``{"key": ["hr", "planner"]}`` -> key: list of roles."""
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for key, roles in value.items():
        if isinstance(roles, str):
            roles = [r.strip() for r in roles.replace(";", ",").split(",") if r.strip()]
        out[key] = roles
    return out


class Settings(BaseSettings):
    """The service's settings; environment variables are the field names in capitals with the
    ``WFM_`` prefix (``WFM_DATABASE_URL``, ``WFM_MAX_CONCURRENT_SOLVES`` ...)."""

    model_config = SettingsConfigDict(env_prefix="WFM_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        Path("wfm-data"),
        description="Folder for the embedded SQLite database and the solvers' working files",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default: SQLite file DATA_DIR/wfm.sqlite3. PostgreSQL: "
        "postgresql://user:password@host:5432/dbname",
    )
    api_keys: Annotated[dict[str, list[Role]], BeforeValidator(_roles)] = Field(
        default_factory=dict,
        description='API key -> roles, JSON: {"KEY": "hr", "KEY2": ["planner", "supervisor"]}',
    )
    max_concurrent_solves: int = Field(
        1, ge=1, le=64, description="Solves running at once, each in its own worker process"
    )
    queue_size: int = Field(
        20, ge=0, le=10_000, description="Solves waiting at most; beyond it POST answers 429"
    )
    max_request_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)"
    )
    default_time_limit_s: float | None = Field(
        None,
        gt=0,
        description="Solver time limit when a request gives none; default: the scenario's "
        "solver.time_limit_seconds",
    )
    max_time_limit_s: float = Field(
        900.0, gt=0, description="Largest solver time limit a request may ask for"
    )
    solver_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="CP-SAT threads of each solve; default: the scenario's solver.workers",
    )
    job_grace_s: float = Field(
        120.0,
        gt=0,
        description="Time a worker gets beyond the solver time limit (forecasting, reports) "
        "before it is killed and the job marked failed",
    )
    max_attempts: int = Field(
        2,
        ge=1,
        le=10,
        description="Times a solve is started at most: a solve interrupted by a server crash "
        "is queued again until it has been started this often, then marked failed",
    )
    poll_interval_s: float = Field(
        0.2, gt=0, le=5, description="How often the job runner looks at its workers"
    )
    ray_address: str | None = Field(
        None,
        description="Ray cluster that POST /sweeps runs its variants on (e.g. 10.0.0.5:6379); "
        "unset: a local Ray started for each sweep, with the machine's cores",
    )
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Scheduling niceness added to each solve's worker process (0: the API's "
        "priority): requests are served first while the solver threads take the rest of the CPU",
    )

    @field_validator("api_keys")
    @classmethod
    def _keys(cls, v: dict[str, list[Role]]) -> dict[str, list[Role]]:
        for key, roles in v.items():
            if len(key) < 8:
                raise ValueError("every API key must be at least 8 characters long")
            if not roles:
                raise ValueError(f"API key {key[:3]}...: give at least one role")
        return v

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        if self.default_time_limit_s is not None and (
            self.default_time_limit_s > self.max_time_limit_s
        ):
            raise ValueError("default_time_limit_s is above max_time_limit_s")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, with PostgreSQL URLs pointed at the psycopg 3 driver."""
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'wfm.sqlite3').resolve()}"
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
