"""Rule families and the ordered registry of rules (hard rules first within each layer).

Each rule is one ``add_<rule>(v) -> None`` function that adds its constraints to ``v``'s
model. Soft rules add named penalties to ``v.penalties``; a scenario switches a soft rule off by
listing its id in ``RosterProblem.disabled_rules`` or reweighs it through
``RosterProblem.weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solver.constraints import agents, aggregate, core, cover, group_patterns, patterns, requests
from solver.shifts import FAIRNESS_CATEGORIES
from solver.variables import Vars

__all__ = ["AGENT", "AGGREGATE", "CONSTRAINTS", "CORE", "Rule"]


@dataclass(frozen=True)
class Rule:
    id: str
    add: Callable[[Vars], None]
    hard: bool
    description: str
    ids: tuple[str, ...] = ()
    """The ids (``solver.rule_ids``) its costs (soft) or breaks (hard) are reported under, when
    not its own id alone: what a scenario's ``disabled_rules`` names, what the validator,
    explanations and reports itemise."""

    @property
    def reported(self) -> tuple[str, ...]:
        return self.ids or (self.id,)


FAIRNESS = tuple(f"fairness.{c}" for c in FAIRNESS_CATEGORIES)
CONTRACT = ("days_off", "hours", "hours_min", "hours_max")
HORIZON_MINUTES = ("horizon_minutes", "horizon_minutes_min", "horizon_minutes_max")

AGENT = (
    Rule("one_shift_per_day", agents.add_one_shift_per_day, True, "At most one shift a day"),
    Rule("must_work", agents.add_must_work, True, "Pinned shifts and training days are worked"),
    Rule("rest", agents.add_min_rest, True, "Minimum rest between shifts"),
    Rule("max_consecutive", agents.add_max_consecutive_days, True, "Maximum days in a row"),
    Rule(
        "contract",
        agents.add_contract_blocks,
        True,
        "Days off and paid hours per week",
        CONTRACT,
    ),
    Rule("succession", patterns.add_forbidden_successions, True, "Forbidden next-day types"),
    Rule("max_shifts_per_type", patterns.add_max_shifts_per_type, True, "Shifts per type"),
    Rule(
        "horizon_minutes",
        patterns.add_horizon_minutes,
        True,
        "Paid minutes in the horizon",
        HORIZON_MINUTES,
    ),
    Rule("min_consecutive", patterns.add_min_consecutive_days, True, "Minimum days in a row"),
    Rule("min_consecutive_off", patterns.add_min_consecutive_days_off, True, "Days off in a row"),
    Rule("max_weekends", patterns.add_max_weekends, True, "Working weekends"),
    Rule(
        "leave.request_denied",
        agents.add_requested_leave,
        False,
        "Requested leave",
        ("leave.request_denied",),
    ),
    Rule(
        "preference.shift_type",
        agents.add_preferences,
        False,
        "Preferred shift types",
        ("preference.shift_type",),
    ),
    Rule(
        "days_off.consecutive",
        agents.add_isolated_days_off,
        False,
        "Days off together",
        ("days_off.consecutive",),
    ),
    Rule(
        "fairness",
        agents.add_fairness,
        False,
        "Weekends, nights, lates spread fairly",
        FAIRNESS,
    ),
    Rule(
        "request",
        requests.add_shift_requests,
        False,
        "Shift on/off requests",
        ("request.shift_on", "request.shift_off"),
    ),
    Rule(
        "replan.change",
        requests.add_kept_shifts,
        False,
        "Published shifts kept by a re-plan",
        ("replan.change",),
    ),
)

AGGREGATE = (
    Rule("group_counts", aggregate.add_group_counts, True, "Group counts within availability"),
    Rule("one_shift_per_day", agents.add_one_shift_per_day, True, "At most one shift a day"),
    Rule("must_work", agents.add_must_work, True, "Pinned shifts and training days are worked"),
    Rule(
        "contract",
        aggregate.add_group_blocks,
        True,
        "Group days off and paid hours",
        CONTRACT,
    ),
    Rule("rest", aggregate.add_group_rest_cuts, True, "Group rest cuts"),
    Rule("max_consecutive", aggregate.add_group_consecutive_cuts, True, "Group window cuts"),
    Rule("succession", group_patterns.add_group_successions, True, "Group succession cuts"),
    Rule("max_shifts_per_type", group_patterns.add_group_type_limits, True, "Group type limits"),
    Rule(
        "horizon_minutes",
        group_patterns.add_group_horizon_minutes,
        True,
        "Group minutes",
        HORIZON_MINUTES,
    ),
    Rule("max_weekends", group_patterns.add_group_weekends, True, "Group weekends"),
    Rule(
        "leave.request_denied",
        aggregate.add_group_requests,
        False,
        "Requested leave",
        ("leave.request_denied",),
    ),
    Rule(
        "fairness",
        aggregate.add_group_fairness_bounds,
        False,
        "Fairness lower bound",
        FAIRNESS,
    ),
)

CORE = (
    Rule("counts", core.add_counts, True, "Agents per class and shift option"),
    Rule("breaks", core.add_breaks, True, "Breaks inside their windows, in order"),
    Rule("pools", core.add_pools, True, "On shift, on break, available, on duty"),
    Rule("skills", core.add_channel_split, True, "One skilled, open channel per agent and slot"),
    Rule("min_staff", core.add_min_staff, True, "Minimum staff per channel and slot"),
    Rule("role_coverage", core.add_roles, True, "Roles on duty"),
    Rule("break_share", core.add_break_share_cap, True, "Share of a channel's staff on break"),
    Rule(
        "coverage",
        core.add_coverage,
        False,
        "Under- and over-cover",
        ("coverage.under", "coverage.over"),
    ),
    Rule(
        "deferred.late",
        core.add_deferred,
        False,
        "Deferred work within its deadline",
        ("deferred.late", "coverage.over"),
    ),
    Rule(
        "shift_cover",
        cover.add_shift_cover,
        False,
        "Per-day cover of shift types",
        ("shift_cover.under", "shift_cover.over"),
    ),
    Rule(
        "shifts.distinct",
        cover.add_distinct_shifts,
        False,
        "Distinct shifts used",
        ("shifts.distinct",),
    ),
)

CONSTRAINTS = AGENT + CORE
