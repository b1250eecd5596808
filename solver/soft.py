"""Named penalties: every soft rule adds terms with a rule id (``solver.rule_ids``), a
subject and a weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Penalty"]


@dataclass(frozen=True)
class Penalty:
    """One term of the objective: ``weight x var`` (var: a CP-SAT expression, or a number)."""

    rule_id: str
    subject: str
    var: Any
    weight: float
    label: str = ""
