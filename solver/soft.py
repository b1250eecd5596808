"""Named penalties: every soft rule adds terms with a rule id, a subject and a weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SOFT_RULES", "Penalty"]

SOFT_RULES = {
    "coverage.under": "Agent-slots short of the requirement",
    "coverage.over": "Agent-slots above the requirement (including idle paid time)",
    "deferred.late": "Deferred work overdue (agent-slots of work, per slot overdue)",
    "leave.request_denied": "Requested leave days refused",
    "preference.shift_type": "Shifts worked that are not of a preferred type",
    "days_off.consecutive": "Isolated single days off for agents who prefer them together",
    "fairness.weekend": "Spread of weekend shifts across agents of a contract",
    "fairness.night": "Spread of night shifts across agents of a contract",
    "fairness.late": "Spread of late shifts across agents of a contract",
    "request.shift_on": "Shift-on requests not met (the agent does not work that shift)",
    "request.shift_off": "Shift-off requests not met (the agent works that shift)",
    "shift_cover.under": "Agents short of a per-day shift cover",
    "shift_cover.over": "Agents above a per-day shift cover",
    "shifts.distinct": "Distinct shifts (start time of day, length) used in the horizon",
}


@dataclass(frozen=True)
class Penalty:
    """One term of the objective: ``weight x var`` (var: a CP-SAT expression, or a number)."""

    rule_id: str
    subject: str
    var: Any
    weight: float
    label: str = ""
