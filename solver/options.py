"""Solve options, and the only code that touches CP-SAT's ``solver.parameters``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SolveOptions", "apply_options"]


class SolveOptions(BaseModel):
    """How long and how to search. Defaults suit the 2-core machines this runs on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit_s: float = Field(60.0, gt=0, description="Wall-clock limit for the whole solve")
    workers: int = Field(2, ge=1, le=64, description="CP-SAT search workers (num_workers)")
    seed: int = Field(0, ge=0, description="Random seed (pinned for reproducible runs)")
    relative_gap: float = Field(0.0, ge=0, le=1, description="Stop when within this gap")
    log: bool = Field(False, description="Print CP-SAT's search log")
    deterministic: bool = Field(
        False,
        description="Deterministic search (CP-SAT interleaved, limits in deterministic time): "
        "the same problem and seed give the same roster, at some cost in roster quality within "
        "short limits (docs/solver.md)",
    )
    exact_max_agents: int = Field(
        12, ge=0, description="Solve the exact per-agent model directly up to this many agents"
    )
    rolling: bool | None = Field(
        None,
        description="Solve horizons of two weeks or more a week at a time, then refine the "
        "whole horizon (solver.rolling): True always, False never, None (default) when each "
        "week gets 40 s or more of the limit",
    )


def apply_options(
    parameters: Any, options: SolveOptions, time_limit_s: float | None = None, **extra: Any
) -> None:
    """Set CP-SAT parameters from options (plus phase-specific extras such as use_lns_only)."""
    parameters.max_time_in_seconds = float(
        options.time_limit_s if time_limit_s is None else max(0.05, time_limit_s)
    )
    parameters.num_workers = options.workers
    parameters.random_seed = options.seed
    parameters.relative_gap_limit = options.relative_gap
    parameters.log_search_progress = options.log
    for key, value in extra.items():
        if isinstance(value, list | tuple):  # a repeated field, e.g. subsolvers
            field = getattr(parameters, key)
            field.clear()
            field.extend(value)
        else:
            setattr(parameters, key, value)
