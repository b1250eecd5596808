"""Each rule on its own: build the exact model with just that rule, fix a pattern, check the
outcome (feasible, infeasible, or the exact penalty)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pytest
from conftest import ROOT
from ortools.sat.python import cp_model
from roster_factory import (
    MONDAY,
    annual_leave,
    flat_requirement,
    requested_leave,
    shift_type,
    tiny,
)

from common.enums import ChannelKind, LeaveKind, LeaveStatus
from solver.constraints import AGENT, AGGREGATE, CORE, Rule
from solver.model import build_exact, set_objective, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance, prepare
from solver.rule_ids import BY_OPTIONS, HARD_RULES, INTERNAL_COSTS, SOFT_RULES
from solver.schema import (
    DAY,
    Agent,
    BreakRule,
    BreakTime,
    Channel,
    Contract,
    DeferredWork,
    KeptShift,
    Leave,
    Pinned,
    RequestKind,
    RoleRequirement,
    RosterProblem,
    Rules,
    ShiftAssignment,
    ShiftCover,
    ShiftRequest,
    Weights,
    WorkSegment,
)
from solver.units import OBJECTIVE_SCALE
from solver.validate import validate
from solver.variables import Vars

OPTS = SolveOptions(time_limit_s=10, workers=2, seed=0)
FEASIBLE = (cp_model.OPTIMAL, cp_model.FEASIBLE)

TESTED: set[str] = set()
"""Rule ids with a test of their own here (``covers``); a registered rule without one fails
``test_every_registered_rule_has_a_test_of_its_own``."""


def covers(*rule_ids: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Mark a test as the one (or one of those) for these rules of the registry."""

    def mark(test: Callable[[], None]) -> Callable[[], None]:
        TESTED.update(rule_ids)
        return test

    return mark


@dataclass
class Outcome:
    status: int
    objective: float | None
    by_rule: dict[str, float]


def run(
    problem: RosterProblem,
    rule_ids: Iterable[str],
    fix: dict[str, Sequence[tuple[int, str, int]]] | None = None,
    core: bool = False,
) -> Outcome:
    """Build the exact model with only the named rules (plus the core when asked), fix the
    given agents' shifts as (day, type, start minute) and solve."""
    inst = prepare(problem)
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst)
    v.free_agents = set(range(len(inst.agents)))
    for prep in inst.agents:
        for opts in prep.options_by_day.values():
            for o in opts:
                v.x_[(prep.index, o)] = model.new_bool_var("x")
        for li in prep.requests:
            v.grant_[li] = model.new_bool_var("g")
    wanted = set(rule_ids)
    rules: list[Rule] = [r for r in AGENT if r.id in wanted]
    if core:
        rules += [
            r for r in CORE if r.id in wanted or r.id in {"counts", "breaks", "pools", "skills"}
        ]
    for r in rules:
        r.add(v)
    for agent_id, shifts in (fix or {}).items():
        a = inst.agent(agent_id).index
        chosen = {_option(inst, d, t, s) for d, t, s in shifts}
        for (aa, o), var in v.x_.items():
            if aa == a and not isinstance(var, int):
                model.add(var == int(o in chosen))
    set_objective(v)
    out = solve_cp(v, OPTS, OPTS.time_limit_s)
    by_rule: dict[str, float] = {}
    if out.has_solution:
        for pen in v.penalties:
            val = pen.var if isinstance(pen.var, int) else out.solver.value(pen.var)
            by_rule[pen.rule_id] = by_rule.get(pen.rule_id, 0.0) + val * pen.weight
    return Outcome(out.status, out.objective, by_rule)


def _option(inst: Instance, day: int, type_id: str, start: int) -> int:
    for o in inst.options:
        if o.day == day and o.type_id == type_id and o.start == day * DAY + start:
            return o.index
    raise AssertionError(f"no option {type_id} at {start} on day {day}")


def week(agents: int = 1, **kw: object) -> RosterProblem:
    return tiny(days=7, agents=agents, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- agent rules
@covers("one_shift_per_day")
def test_one_shift_per_day() -> None:
    out = run(tiny(agents=1), ["one_shift_per_day"], {"a0": [(0, "early", 360), (0, "late", 780)]})
    assert out.status == cp_model.INFEASIBLE
    assert run(tiny(agents=1), ["one_shift_per_day"], {"a0": [(0, "early", 360)]}).status in (
        cp_model.OPTIMAL,
        cp_model.FEASIBLE,
    )


@covers("rest")
def test_min_rest_between_days() -> None:
    p = tiny(days=2, agents=1)  # late ends 13:00+9h = 22:00; early starts 06:00: 8 h rest
    out = run(p, ["rest"], {"a0": [(0, "late", 780), (1, "early", 360)]})
    assert out.status == cp_model.INFEASIBLE
    p8 = tiny(days=2, agents=1, rules=Rules(min_rest_minutes=480))
    assert (
        run(p8, ["rest"], {"a0": [(0, "late", 780), (1, "early", 360)]}).status == cp_model.OPTIMAL
    )


def test_min_rest_with_the_shift_before_the_horizon() -> None:
    agent = Agent(id="a0", contract="ft", skills=("phone",), prior_shift_end=-60)  # 23:00
    p = tiny(days=1, agent_list=(agent,))
    inst = prepare(p)
    starts = {inst.options[o].start for o in inst.agents[0].options_by_day[0]}
    assert starts == {780, 840}  # the 06:00/07:00 earlies are within 11 h of 23:00


@covers("max_consecutive")
def test_max_consecutive_days_counts_days_before() -> None:
    shifts = [(d, "early", 360) for d in range(7)]
    assert run(week(), ["max_consecutive"], {"a0": shifts}).status == cp_model.INFEASIBLE
    assert run(week(), ["max_consecutive"], {"a0": shifts[:6]}).status == cp_model.OPTIMAL
    tired = Agent(id="a0", contract="ft", skills=("phone",), prior_consecutive_days=4)
    p = week(agent_list=(tired,))
    assert run(p, ["max_consecutive"], {"a0": shifts[:3]}).status == cp_model.INFEASIBLE


@covers("contract")
def test_days_off_and_hours_per_week() -> None:
    contract = Contract(id="ft", hours_min=32, hours_max=40, days_off_per_week=2)
    p = week(contracts=(contract,))
    # early = 9 h with a 1 h unpaid lunch: 8 h paid
    five = [(d, "early", 360) for d in range(5)]
    assert run(p, ["contract"], {"a0": five}).status == cp_model.OPTIMAL
    assert (
        run(p, ["contract"], {"a0": [*five, (5, "early", 360)]}).status == cp_model.INFEASIBLE
    )  # six days: one day off only, 48 h
    assert run(p, ["contract"], {"a0": five[:3]}).status == cp_model.INFEASIBLE  # 24 h < 32 h


def test_days_off_per_month_prorated() -> None:
    contract = Contract(id="m", hours_min=0, hours_max=80, days_off_per_month=6)
    p = tiny(days=10, agents=1, contracts=(contract,))  # 6 x 10 / 30 = 2 days off
    eight = [(d, "early", 360) for d in (0, 1, 2, 3, 5, 6, 7, 8)]
    assert run(p, ["contract"], {"a0": eight}).status == cp_model.OPTIMAL
    assert run(p, ["contract"], {"a0": [*eight, (9, "early", 360)]}).status == cp_model.INFEASIBLE


def test_approved_leave_credits_hours() -> None:
    contract = Contract(id="ft", hours_min=38, hours_max=40, days_off_per_week=2)
    leave = (annual_leave("a0", range(2, 3)),)
    p = week(contracts=(contract,), leave=leave)
    inst = prepare(p)
    assert inst.agents[0].options_by_day[2] == []  # no shift on the leave day
    four = [(d, "early", 360) for d in (0, 1, 3, 4)]  # 32 h = 38 h - 1/5 x 38 h (+ rounding)
    assert run(p, ["contract"], {"a0": four}).status == cp_model.OPTIMAL


@covers("must_work")
def test_pinned_and_training_days_must_be_worked() -> None:
    p = tiny(days=2, agents=1, pinned=(Pinned(agent_id="a0", day=1, shift_type="late"),))
    assert run(p, ["must_work"], {"a0": []}).status == cp_model.INFEASIBLE
    assert run(p, ["must_work"], {"a0": [(1, "late", 840)]}).status == cp_model.OPTIMAL
    training = (
        Leave(
            agent_id="a0",
            kind=LeaveKind.training,
            status=LeaveStatus.approved,
            start=15 * 60,
            end=16 * 60,
            whole_days=False,
        ),
    )
    inst = prepare(tiny(days=1, agents=1, leave=training))
    # only shifts containing 15:00-16:00 are allowed: earlies end 15:00/16:00, lates start 13:00+
    allowed = {
        (inst.options[o].type_id, inst.options[o].start) for o in inst.agents[0].options_by_day[0]
    }
    assert allowed == {("early", 420), ("late", 780), ("late", 840)}


@covers("leave.request_denied")
def test_requested_leave_costs_its_weight_per_day_when_refused() -> None:
    req = (requested_leave("a0", range(1, 3), LeaveKind.day_off_request, weight=2.0),)
    p = tiny(days=3, agents=1, leave=req, weights=Weights(leave_request_denied=5))
    out = run(p, ["leave.request_denied"], {"a0": [(1, "early", 360)]})
    assert out.by_rule["leave.request_denied"] == pytest.approx(5 * 2 * 2)
    out = run(p, ["leave.request_denied"], {"a0": [(0, "early", 360)]})
    assert out.by_rule.get("leave.request_denied", 0) == 0


def test_refused_leave_means_rostered_into_it() -> None:
    """In the exact model a refused request holds a shift (stricter than the validator, which
    also refuses a request not worked when its credit would break the week's days off: see
    the test below), so every roster the model finds reads the same in the validator."""
    req = (requested_leave("a0", range(1, 2), LeaveKind.day_off_request),)
    inst = prepare(tiny(days=3, agents=1, leave=req))
    for works_day_1, refused_possible in ((False, False), (True, True)):
        v = build_exact(inst)
        grant = v.grant_[0]
        v.model.add(grant == 0)
        v.model.add(v.works(0, 1) == int(works_day_1))
        out = solve_cp(v, OPTS, OPTS.time_limit_s)
        assert out.has_solution is refused_possible


@covers("preference.shift_type", "days_off.consecutive")
def test_preference_and_isolated_day_off_penalties() -> None:
    fussy = Agent(id="a0", contract="ft", skills=("phone",), preferred_shift_types=("late",))
    p = tiny(days=3, agent_list=(fussy,), weights=Weights(preference=3))
    out = run(p, ["preference.shift_type"], {"a0": [(0, "early", 360), (1, "late", 780)]})
    assert out.by_rule["preference.shift_type"] == 3
    together = Contract(id="ft", hours_max=60, consecutive_days_off_preferred=True)
    p = tiny(days=3, agents=1, contracts=(together,), weights=Weights(consecutive_days_off=4))
    out = run(p, ["days_off.consecutive"], {"a0": [(0, "early", 360), (2, "early", 360)]})
    assert out.by_rule["days_off.consecutive"] == 4


@covers("fairness")
def test_fairness_is_the_spread_not_the_sum() -> None:
    p = week(agents=3, weights=Weights(fairness=2))
    out = run(
        p,
        ["fairness"],
        {"a0": [(5, "early", 360), (6, "early", 360)], "a1": [(5, "late", 780)], "a2": []},
    )
    # weekend shifts 2, 1, 0: spread 2; lates 0, 1, 0: spread 1
    assert out.by_rule["fairness.weekend"] == 4
    assert out.by_rule["fairness.late"] == 2


def _assignments(
    p: RosterProblem, shifts: dict[str, list[tuple[int, str, int]]]
) -> list[ShiftAssignment]:
    """``tiny``'s 9-hour shifts as worked: on phone, the lunch four hours in."""
    out = []
    for agent_id, days in shifts.items():
        for d, type_id, start in days:
            t0 = d * DAY + start
            out.append(
                ShiftAssignment(
                    agent_id=agent_id,
                    day=d,
                    shift_type=type_id,
                    start=t0,
                    length=540,
                    paid_minutes=480,
                    breaks=(BreakTime(name="lunch", start=t0 + 240, minutes=60, paid=False),),
                    work=(
                        WorkSegment(start=t0, end=t0 + 240, channel="phone"),
                        WorkSegment(start=t0 + 300, end=t0 + 540, channel="phone"),
                    ),
                )
            )
    return out


@covers("fairness")
def test_shifts_on_public_holidays_are_spread_like_weekends() -> None:
    """Wednesday and Thursday are holidays: a0 works both, a1 one, a2 none: a spread of 2
    (the weekday shifts count for nothing), in the model and in the validator alike."""
    p = week(agents=3, weights=Weights(fairness=2), holidays=(2, 3))
    shifts = {
        "a0": [(2, "early", 360), (3, "early", 360)],
        "a1": [(3, "early", 360), (4, "early", 360)],
        "a2": [(0, "early", 360)],
    }
    out = run(p, ["fairness"], shifts)
    assert out.by_rule["fairness.holiday"] == 4
    val = validate(p, _assignments(p, shifts))
    assert sum(x.cost for x in val.penalties if x.rule_id == "fairness.holiday") == 4
    # switched off like any soft rule
    off = p.model_copy(update={"disabled_rules": ("fairness.holiday",)})
    assert "fairness.holiday" not in run(off, ["fairness"], shifts).by_rule


@covers("replan.change")
def test_a_re_plan_pays_for_each_published_shift_or_day_off_it_changes() -> None:
    """a0 was published early on Tuesday and off on Wednesday: kept as published nothing is
    paid; moved to the late shift, and worked on Wednesday, each change costs its weight."""
    kept = (
        KeptShift(agent_id="a0", day=1, shift_type="early", start=360, length=540),
        KeptShift(agent_id="a0", day=2, weight=2.0),
    )
    p = week(weights=Weights(change=10), kept=kept)
    same = run(p, ["replan.change"], {"a0": [(1, "early", 360)]})
    assert same.by_rule.get("replan.change", 0) == 0
    moved = run(p, ["replan.change"], {"a0": [(1, "late", 780), (2, "early", 360)]})
    assert moved.by_rule["replan.change"] == 10 + 20
    val = validate(p, _assignments(p, {"a0": [(1, "late", 780), (2, "early", 360)]}))
    assert sum(x.cost for x in val.penalties if x.rule_id == "replan.change") == 30


def test_sick_days_count_as_days_off() -> None:
    """Two days off a week; the agent worked Monday and Tuesday, then fell ill for the rest of
    the week: the five sick days are rest enough (annual leave is not: days off come on top)."""
    contract = Contract(id="ft", hours_max=60, days_off_per_week=2)
    sick = Leave(
        agent_id="a0",
        kind=LeaveKind.sick,
        status=LeaveStatus.approved,
        start=2 * DAY,
        end=7 * DAY,
    )
    p = week(contracts=(contract,), leave=(sick,))
    shifts = {"a0": [(0, "early", 360), (1, "early", 360)]}
    assert validate(p, _assignments(p, shifts)).ok
    annual = p.model_copy(update={"leave": (annual_leave("a0", range(2, 7)),)})
    assert [x.rule for x in validate(annual, _assignments(annual, shifts)).violations] == [
        "days_off"
    ]


def test_holidays_outside_the_horizon_are_refused() -> None:
    with pytest.raises(ValueError, match="holidays: day 7 is outside the horizon"):
        week(holidays=(7,))


# --------------------------------------------------------------------------- work patterns
def _status(problem: RosterProblem, rule: str, shifts: Sequence[tuple[int, str, int]]) -> int:
    return run(problem, [rule], {"a0": shifts}).status


@covers("succession")
def test_a_forbidden_next_day_type_is_refused() -> None:
    brk = (BreakRule(name="lunch", minutes=60, earliest=180, latest=360, paid=False, lunch=True),)
    early = shift_type("early", 360, 420, 540, brk)
    late = shift_type("late", 780, 840, 540, brk, forbidden_next=("early",))
    p = tiny(days=3, agents=1, shift_types=(early, late))
    assert _status(p, "succession", [(0, "late", 780), (1, "early", 360)]) == cp_model.INFEASIBLE
    assert _status(p, "succession", [(0, "late", 780), (1, "late", 780)]) in FEASIBLE
    assert _status(p, "succession", [(0, "early", 360), (1, "late", 780)]) in FEASIBLE
    # not the day after: a day between lifts it
    assert _status(p, "succession", [(0, "late", 780), (2, "early", 360)]) in FEASIBLE


@covers("max_shifts_per_type")
def test_shifts_of_a_type_are_capped_per_contract() -> None:
    contract = Contract(id="ft", hours_max=60, max_shifts_per_type={"late": 1})
    p = week(contracts=(contract,))
    one = [(0, "late", 780), (1, "early", 360), (2, "early", 360)]
    assert _status(p, "max_shifts_per_type", one) in FEASIBLE
    assert _status(p, "max_shifts_per_type", [*one, (4, "late", 840)]) == cp_model.INFEASIBLE


@covers("horizon_minutes")
def test_paid_minutes_over_the_horizon_stay_within_the_contract() -> None:
    # an early is 9 h with a 1-hour unpaid lunch: 480 paid minutes
    contract = Contract(id="ft", hours_max=60, horizon_minutes_min=960, horizon_minutes_max=960)
    p = tiny(days=3, agents=1, contracts=(contract,))
    two = [(0, "early", 360), (2, "early", 420)]
    assert _status(p, "horizon_minutes", two) in FEASIBLE
    assert _status(p, "horizon_minutes", two[:1]) == cp_model.INFEASIBLE
    assert _status(p, "horizon_minutes", [*two, (1, "late", 780)]) == cp_model.INFEASIBLE


@covers("min_consecutive")
def test_a_run_of_working_days_is_long_enough_unless_it_touches_the_edge() -> None:
    p = week(contracts=(Contract(id="ft", hours_max=60, min_consecutive_days=2),))
    assert _status(p, "min_consecutive", [(2, "early", 360)]) == cp_model.INFEASIBLE
    assert _status(p, "min_consecutive", [(2, "early", 360), (3, "early", 360)]) in FEASIBLE
    # runs touching the start or the end may continue outside the horizon
    assert _status(p, "min_consecutive", [(0, "early", 360), (6, "early", 360)]) in FEASIBLE


@covers("min_consecutive_off")
def test_a_run_of_days_off_is_long_enough_and_leave_counts_as_off() -> None:
    contract = Contract(id="ft", hours_max=60, min_consecutive_days_off=2)
    p = week(contracts=(contract,))
    assert (
        _status(p, "min_consecutive_off", [(1, "early", 360), (3, "early", 360)])
        == cp_model.INFEASIBLE
    )
    assert _status(p, "min_consecutive_off", [(1, "early", 360), (4, "early", 360)]) in FEASIBLE
    assert _status(p, "min_consecutive_off", [(1, "early", 360)]) in FEASIBLE  # to the edges
    leave = (annual_leave("a0", range(3, 4)),)
    p = week(contracts=(contract,), leave=leave)
    # off on day 2, leave on day 3: two days off in a row
    assert _status(p, "min_consecutive_off", [(1, "early", 360), (4, "early", 360)]) in FEASIBLE


@covers("max_weekends")
def test_working_weekends_are_capped() -> None:
    assert MONDAY.weekday() == 0  # days 5-6 and 12-13 are the weekends
    p = tiny(
        days=14, agents=1, contracts=(Contract(id="ft", hours_max=60, max_working_weekends=1),)
    )
    assert _status(p, "max_weekends", [(5, "early", 360), (6, "early", 360)]) in FEASIBLE
    assert _status(p, "max_weekends", [(5, "early", 360), (13, "late", 780)]) == cp_model.INFEASIBLE


@covers("request")
def test_shift_on_and_off_requests_cost_their_weight_when_not_met() -> None:
    requests = (
        ShiftRequest(agent_id="a0", day=0, shift_type="late", kind=RequestKind.on, weight=2),
        ShiftRequest(agent_id="a0", day=1, kind=RequestKind.off),
    )
    p = tiny(days=2, agents=1, shift_requests=requests, weights=Weights(shift_request=5))
    met = run(p, ["request"], {"a0": [(0, "late", 780)]})
    assert met.by_rule == {"request.shift_on": 0, "request.shift_off": 0}
    missed = run(p, ["request"], {"a0": [(0, "early", 360), (1, "early", 360)]})
    assert missed.by_rule == {"request.shift_on": 10, "request.shift_off": 5}


# --------------------------------------------------------------------------- core rules
def _one_slot_problem(required: int, agents: int, **kw: object) -> RosterProblem:
    """One hour of demand at 08:00 on a 60-min grid, 3-hour shifts without breaks."""
    req = tuple(required if t == 8 else 0 for t in range(24))
    st = shift_type("s", 420, 480, 180)
    kw.setdefault("channels", (Channel(id="phone", required=req),))
    return tiny(days=1, agents=agents, shift_types=(st,), **kw)  # type: ignore[arg-type]


@covers("coverage", "counts", "pools")
def test_coverage_under_and_over_are_weighted() -> None:
    p = _one_slot_problem(2, 3, weights=Weights(under_cover=10, over_cover=1))
    fix = {"a0": [(0, "s", 420)], "a1": [], "a2": []}
    out = run(p, ["coverage"], fix, core=True)
    # a0 07:00-10:00 covers 08:00 (1 short: 10) and is over at 07:00 and 09:00 (2 x 1)
    assert out.by_rule["coverage.under"] == 10
    assert out.by_rule["coverage.over"] == 2


@covers("min_staff")
def test_min_staff_floor_is_hard() -> None:
    p = _one_slot_problem(
        0,
        1,
        channels=(
            Channel(
                id="phone",
                required=(0,) * 24,
                min_staff=tuple(2 if t == 8 else 0 for t in range(24)),
            ),
        ),
    )
    out = run(p, ["min_staff"], {"a0": [(0, "s", 420)]}, core=True)
    assert out.by_rule.get("hard.min_staff", 0) > 0  # elastic: short by one, heavily penalised


@covers("role_coverage")
def test_role_cover_needs_someone_on_duty() -> None:
    lead = Agent(id="a0", contract="ft", skills=("phone",), roles=("team_lead",))
    roles = (
        RoleRequirement(role="team_lead", count=1, slots=tuple(8 <= t < 10 for t in range(24))),
    )
    p = _one_slot_problem(0, 1, agent_list=(lead,), roles=roles)
    assert (
        run(p, ["role_coverage"], {"a0": [(0, "s", 420)]}, core=True).by_rule.get(
            "hard.role_coverage", 0
        )
        == 0
    )
    assert (
        run(p, ["role_coverage"], {"a0": [(0, "s", 480)]}, core=True).by_rule.get(
            "hard.role_coverage", 0
        )
        == 0
    )
    out = run(p, ["role_coverage"], {"a0": []}, core=True)
    assert out.by_rule["hard.role_coverage"] > 0


@covers("breaks", "break_share")
def test_breaks_stay_in_their_window_and_under_the_cap() -> None:
    brk = (BreakRule(name="b", minutes=60, earliest=60, latest=180, paid=True),)
    st = shift_type("s", 420, 420, 240, brk)
    p = tiny(
        days=1,
        agents=2,
        shift_types=(st,),
        slot=60,
        channels=(Channel(id="phone", required=flat_requirement(1, 60, {range(7, 11): 2})),),
        rules=Rules(max_on_break_share=0.5),
    )
    out = run(
        p, ["coverage", "break_share"], {"a0": [(0, "s", 420)], "a1": [(0, "s", 420)]}, core=True
    )
    assert out.by_rule.get("hard.break_share", 0) == 0
    # two agents, breaks 08:00-10:00 window, cap ceil(0.5 x 2) = 1: staggered, 2 short hours
    assert out.by_rule["coverage.under"] == 20


@covers("skills")
def test_skills_limit_channels() -> None:
    chat = Agent(id="a0", contract="ft", skills=("chat",))
    st = shift_type("s", 420, 420, 180)
    chans = (
        Channel(id="phone", required=tuple(1 if t == 8 else 0 for t in range(24))),
        Channel(id="chat", required=(0,) * 24),
    )
    p = tiny(days=1, agent_list=(chat,), shift_types=(st,), channels=chans)
    out = run(p, ["coverage"], {"a0": [(0, "s", 420)]}, core=True)
    assert out.by_rule["coverage.under"] == 10  # a chat agent cannot answer the phone


def test_disabled_soft_rule_costs_nothing() -> None:
    fussy = Agent(id="a0", contract="ft", skills=("phone",), preferred_shift_types=("late",))
    p = tiny(days=1, agent_list=(fussy,), disabled_rules=("preference.shift_type",))
    out = run(p, ["preference.shift_type"], {"a0": [(0, "early", 360)]})
    assert "preference.shift_type" not in out.by_rule


def test_objective_keeps_weights_to_the_hundredth() -> None:
    """Weights are scaled to integers by OBJECTIVE_SCALE (hundredths): a cost of 0.37 per agent
    short and 0.01 per agent over comes back exactly, not rounded to whole units."""
    assert OBJECTIVE_SCALE == 100
    p = _one_slot_problem(2, 2, weights=Weights(under_cover=0.37, over_cover=0.01))
    out = run(p, ["coverage"], {"a0": [(0, "s", 420)], "a1": []}, core=True)
    # one short at 08:00 (0.37); over at 07:00 and 09:00 (2 x 0.01)
    assert out.by_rule["coverage.under"] == pytest.approx(0.37)
    assert out.by_rule["coverage.over"] == pytest.approx(0.02)
    assert out.objective == pytest.approx(0.39)


@covers("shift_cover")
def test_shift_cover_counts_agents_per_type_and_day() -> None:
    cover = (
        ShiftCover(day=0, shift_type="early", required=2),
        ShiftCover(day=0, shift_type="late", required=0, over_weight=7),
    )
    p = tiny(days=1, agents=3, shift_cover=cover, weights=Weights(shift_cover_under=4))
    fix = {"a0": [(0, "early", 360)], "a1": [(0, "late", 780)], "a2": []}
    out = run(p, ["shift_cover"], fix, core=True)
    assert out.by_rule["shift_cover.under"] == 4  # one early short
    assert out.by_rule["shift_cover.over"] == 7  # one late above none
    fix = {"a0": [(0, "early", 360)], "a1": [(0, "early", 420)], "a2": []}
    out = run(p, ["shift_cover"], fix, core=True)
    assert out.by_rule["shift_cover.under"] == out.by_rule["shift_cover.over"] == 0


@covers("shifts.distinct")
def test_each_distinct_shift_costs_once() -> None:
    p = tiny(days=2, agents=2, weights=Weights(distinct_shift=5))
    same = {"a0": [(0, "early", 360), (1, "early", 360)], "a1": [(0, "early", 360)]}
    assert run(p, ["shifts.distinct"], same, core=True).by_rule["shifts.distinct"] == 5
    other = {"a0": [(0, "early", 360)], "a1": [(1, "early", 420)]}
    assert run(p, ["shifts.distinct"], other, core=True).by_rule["shifts.distinct"] == 10


@covers("deferred.late")
def test_deferred_work_done_after_its_deadline_costs() -> None:
    """Two agent-slots of messages arrive by 08:00, due by 10:00 (cumulative per slot)."""
    arrived = tuple(0.0 if t < 8 else 2.0 for t in range(24))
    due = tuple(0.0 if t < 10 else 2.0 for t in range(24))
    messages = Channel(
        id="messages",
        kind=ChannelKind.deferred,
        required=(0,) * 24,
        deferred=DeferredWork(arrived=(arrived,), due=(due,)),
    )
    st = shift_type("s", 480, 600, 180)
    agent = Agent(id="a0", contract="ft", skills=("messages",))
    p = tiny(days=1, agent_list=(agent,), shift_types=(st,), channels=(messages,))
    on_time = run(p, ["deferred.late"], {"a0": [(0, "s", 480)]}, core=True)
    assert on_time.status in FEASIBLE and on_time.by_rule.get("deferred.late", 0) == 0
    late = run(p, ["deferred.late"], {"a0": [(0, "s", 600)]}, core=True)
    # 10:00-13:00 does the work after its 10:00 deadline: overdue in slot 10 at least
    assert late.by_rule["deferred.late"] > 0


def test_every_registered_rule_has_a_test_of_its_own() -> None:
    registered = {r.id for r in (*AGENT, *CORE)}
    missing = sorted(registered - TESTED)
    assert not missing, f"rules without a test of their own in this module: {missing}"
    assert not TESTED - registered, f"tests name unknown rules: {sorted(TESTED - registered)}"


# --------------------------------------------------------------------------- one vocabulary
def _literal_ids(method: str) -> dict[str, set[str]]:
    """Rule ids passed as a string literal first argument to ``<obj>.<method>(...)`` in the
    solver's source -> the files that pass them."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "solver").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, set()).add(path.name)
    return found


def test_registry_costs_and_breaks_use_one_vocabulary() -> None:
    """Every soft id is added by a registered rule and every hard id is reported by a
    registered rule or held by the shift options; the solver, the validator and explanations
    report nothing outside ``solver.rule_ids``."""
    soft = {pen for r in CORE + AGENT if not r.hard for pen in r.reported}
    assert soft == set(SOFT_RULES)
    for layer in (AGENT, AGGREGATE, CORE):
        for r in layer:
            assert set(r.reported) <= set(HARD_RULES if r.hard else SOFT_RULES), r.id
    hard = {i for r in AGENT + AGGREGATE + CORE if r.hard for i in r.reported}
    assert hard | BY_OPTIONS == set(HARD_RULES)
    costs = {**_literal_ids("penalize"), **_literal_ids("penalty")}
    unknown = {i: f for i, f in costs.items() if i not in SOFT_RULES and i not in INTERNAL_COSTS}
    assert not unknown, f"costs outside solver.rule_ids.SOFT_RULES: {unknown}"
    breaks = {**_literal_ids("bad"), **_literal_ids("enforce"), **_literal_ids("at_least")}
    unknown = {i: f for i, f in breaks.items() if i not in HARD_RULES}
    assert not unknown, f"hard rules outside solver.rule_ids.HARD_RULES: {unknown}"
    assert "hard.min_staff" not in breaks and "break_share" in breaks  # the scan sees calls


def test_a_request_not_worked_is_refused_when_its_credit_would_break_the_days_off() -> None:
    """Granting a request credits its days, which lowers the working days allowed too: an
    agent off on the requested days who works the rest of the week up to the contract has the
    request refused (at its penalty) by the validator, not a broken days-off rule."""
    c = Contract(id="ft", hours_min=0, hours_max=60, days_off_per_week=2)
    req = requested_leave("a0", range(1, 3))
    p = tiny(
        days=7, agents=1, leave=(req,), contracts=(c,), weights=Weights(leave_request_denied=5)
    )

    def week(days: tuple[int, ...]) -> list[ShiftAssignment]:
        return [
            ShiftAssignment(
                agent_id="a0",
                day=d,
                shift_type="early",
                start=d * DAY + 360,
                length=540,
                paid_minutes=480,
                breaks=(BreakTime(name="lunch", start=d * DAY + 600, minutes=60, paid=False),),
                work=(
                    WorkSegment(start=d * DAY + 360, end=d * DAY + 600, channel="phone"),
                    WorkSegment(start=d * DAY + 660, end=d * DAY + 900, channel="phone"),
                ),
            )
            for d in days
        ]

    five = validate(p, week((0, 3, 4, 5, 6)))
    assert five.ok, five.violations
    assert five.granted == {0: False}
    assert sum(x.cost for x in five.penalties if x.rule_id == "leave.request_denied") == 5 * 2
    three = validate(p, week((0, 3, 4)))
    assert three.ok and three.granted == {0: True}
    assert not [x for x in three.penalties if x.rule_id == "leave.request_denied"]
    six = validate(p, week((0, 1, 3, 4, 5, 6)))  # worked into it: refused, and six days
    assert [x.rule for x in six.violations] == ["days_off"]
