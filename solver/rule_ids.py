"""The one vocabulary of rule ids: every cost and every broken hard rule is reported under an
id from here (the registry, ``solver.constraints``, says which rule adds which; a scenario's
``disabled_rules`` names soft ids; the validator, explanations, reports and docs use the same).
"""

from __future__ import annotations

__all__ = ["BY_OPTIONS", "HARD_RULES", "INTERNAL_COSTS", "SOFT_RULES"]

SOFT_RULES: dict[str, str] = {
    "coverage.under": "Agent-slots short of the requirement",
    "coverage.over": "Agent-slots above the requirement (including idle paid time)",
    "deferred.late": "Deferred work overdue (agent-slots of work, per slot overdue)",
    "leave.request_denied": "Requested leave days refused",
    "preference.shift_type": "Shifts worked that are not of a preferred type",
    "days_off.consecutive": "Isolated single days off for agents who prefer them together",
    "fairness.weekend": "Spread of weekend shifts across agents of a contract",
    "fairness.night": "Spread of night shifts across agents of a contract",
    "fairness.late": "Spread of late shifts across agents of a contract",
    "fairness.holiday": "Spread of shifts on public holidays across agents of a contract",
    "request.shift_on": "Shift-on requests not met (the agent does not work that shift)",
    "request.shift_off": "Shift-off requests not met (the agent works that shift)",
    "shift_cover.under": "Agents short of a per-day shift cover",
    "shift_cover.over": "Agents above a per-day shift cover",
    "shifts.distinct": "Distinct shifts (start time of day, length) used in the horizon",
    "replan.change": "Published shifts and days off a re-plan changes",
}
"""Soft costs: id -> what one unit of it is."""

HARD_RULES: dict[str, str] = {
    "one_shift_per_day": "At most one shift a day",
    "must_work": "Pinned shifts and training days are worked",
    "rest": "Minimum rest between shifts",
    "max_consecutive": "Maximum working days in a row",
    "contract": "Shift types the contract allows",
    "days_off": "Days off per week (or per month)",
    "hours": "Paid hours per week within the contract",
    "hours_min": "At least the contract's paid hours in a week",
    "hours_max": "At most the contract's paid hours in a week",
    "succession": "Forbidden shift types on the next day",
    "max_shifts_per_type": "Shifts of a type in the horizon",
    "horizon_minutes": "Paid minutes over the horizon",
    "horizon_minutes_min": "At least the contract's paid minutes over the horizon",
    "horizon_minutes_max": "At most the contract's paid minutes over the horizon",
    "min_consecutive": "Minimum working days in a row",
    "min_consecutive_off": "Minimum days off in a row",
    "max_weekends": "Working weekends",
    "group_counts": "Agents of a group per day within those available",
    "counts": "Agents per class and shift option",
    "breaks": "Breaks inside their windows, in order",
    "pools": "On shift, on break, available, on duty",
    "skills": "Agents work only channels they are skilled for, when open",
    "min_staff": "Minimum staff per channel and interval",
    "role_coverage": "Roles on duty",
    "break_share": "Share of a channel's staff on break at once",
    "shift": "A shift of a known type, start, length and weekday",
    "night": "Night shifts only for agents who may work nights",
    "availability": "No shift on a weekday the agent is unavailable",
    "leave": "No work during approved leave",
    "briefing": "The shift type's briefing at the start of the shift",
    "work": "Work segments inside the shift, one channel at a time, none on a break",
    "frozen": "No shift starts before a re-plan's frozen time but the published ones",
}
"""Hard rules: id -> what it requires. Rosters that break one are reported under its id."""

BY_OPTIONS = frozenset(
    {"shift", "contract", "night", "availability", "leave", "briefing", "work", "frozen"}
)
"""Hard rules no constraint of the registry adds: the shift options themselves hold them (only
allowed shifts are enumerated, breaks and channels are placed inside them); the validator checks
them on every roster."""

INTERNAL_COSTS = frozenset(
    {"disaggregate.extra", "disaggregate.floor", "disaggregate.short", "moves"}
)
"""Costs of the solver's own intermediate models, never part of a roster's objective."""
