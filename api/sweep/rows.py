"""A sweep's rows (one per variant) and the measures compared across them: cost (paid hours),
service level (volume-weighted over the channels with a target) and fairness spread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["OBJECTIVES", "Row", "measures", "service_level"]

OBJECTIVES = {"cost": -1, "service_level": +1, "fairness": -1}
"""The trade-off's measures and their sense: +1 higher is better, -1 lower is better."""


@dataclass
class Row:
    """One variant's line of ``sweep.csv``."""

    variant: str
    values: dict[str, Any]
    status: str
    """The solver's status (optimal, feasible, infeasible, timeout_no_solution), ``failed``
    (an error or a worker lost), or ``pending`` before it ran."""
    reason: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False
    pareto: bool = False
    overhead_s: float | None = None
    """On Ray: the time from submitting the task to its files written, less the task's own."""

    @property
    def solved(self) -> bool:
        return self.status in ("optimal", "feasible")


def service_level(summary: dict[str, Any]) -> float | None:
    """The projected service level over the voice and chat channels, weighted by volume."""
    levels = summary.get("service_level") or {}
    targets = summary.get("service_level_target") or {}
    volume = summary.get("volume") or {}
    num = den = 0.0
    for ch, target in targets.items():
        sl = levels.get(ch)
        if target is None or sl is None:
            continue
        w = float(volume.get(ch) or 0.0)
        num += w * float(sl)
        den += w
    return round(num / den, 4) if den > 0 else None


def measures(row: Row) -> dict[str, float | None]:
    """cost (paid hours), service_level and fairness (spread) of a solved row, else Nones."""
    s = row.summary
    if not row.solved:
        return dict.fromkeys(OBJECTIVES)
    paid = s.get("paid_hours")
    spread = s.get("fairness_spread")
    return {
        "cost": None if paid is None else float(paid),
        "service_level": service_level(s),
        "fairness": None if spread is None else float(spread),
    }
