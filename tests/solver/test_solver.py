"""The solver end to end: exact model vs pipeline, the validator as the spec, options,
explanations of impossible problems, deferred work, training, multi-skilling."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from roster_factory import annual_leave, flat_requirement, shift_type, tiny

from common.enums import ChannelKind, LeaveKind, LeaveStatus
from solver.model import build_aggregate, solve_cp
from solver.options import SolveOptions, apply_options
from solver.prep import prepare
from solver.schema import (
    DAY,
    Agent,
    BreakRule,
    BreakTime,
    Channel,
    Contract,
    DeferredWork,
    Leave,
    Pinned,
    RoleRequirement,
    RosterProblem,
    ShiftAssignment,
    SolveStatus,
    Weights,
    WorkSegment,
)
from solver.solve import bound_time, exact_portfolio, solve
from solver.units import WORK_UNITS, edf_overdue, work_units
from solver.validate import validate

EXACT = SolveOptions(time_limit_s=10, workers=2, seed=0, exact_max_agents=100)
PIPELINE = SolveOptions(time_limit_s=10, workers=2, seed=0, exact_max_agents=0)


def _checked(problem: RosterProblem, options: SolveOptions) -> tuple[float, object]:
    r = solve(problem, options)
    assert r.status in (SolveStatus.optimal, SolveStatus.feasible), r.message
    val = validate(problem, list(r.assignments))
    assert val.violations == [], val.violations[:5]
    assert r.objective == pytest.approx(val.objective)
    assert r.best_bound is None or r.best_bound <= r.objective + 1e-6
    return r.objective, r


# --------------------------------------------------------------------------- options
def test_options_reach_cp_sat_parameters() -> None:
    params = cp_model.CpSolver().parameters
    apply_options(
        params,
        SolveOptions(time_limit_s=12.5, workers=3, seed=7, relative_gap=0.01, log=True),
        use_lns_only=True,
        subsolvers=["max_lp", "core"],
    )
    assert list(params.subsolvers) == ["max_lp", "core"]  # a repeated field, replaced whole
    assert params.max_time_in_seconds == 12.5
    assert params.num_workers == 3
    assert params.random_seed == 7
    assert params.relative_gap_limit == pytest.approx(0.01)
    assert params.log_search_progress is True
    assert params.use_lns_only is True


def test_exact_model_runs_the_lp_portfolio() -> None:
    # CP-SAT's own portfolio has no max_lp worker below 8 workers; the exact model asks for it
    assert exact_portfolio(2) == ["max_lp", "core"]
    assert exact_portfolio(1) == ["max_lp"]
    assert exact_portfolio(0) == ["max_lp"]
    assert len(exact_portfolio(64)) >= 4


def test_bound_gets_a_tenth_of_the_limit_within_5_to_30_s() -> None:
    assert bound_time(60.0) == pytest.approx(6.0)
    assert bound_time(30.0) == pytest.approx(5.0)
    assert bound_time(900.0) == pytest.approx(30.0)
    assert bound_time(4.0) == pytest.approx(2.0)


def test_a_large_lp_gets_more_time_only_when_it_is_expected_to_solve_in_it() -> None:
    from solver.bound import lp_expected, lp_expected_vertex, lp_time

    month = 110_438  # the independent month's LP: 48 s with crossover, 39-41 s without
    assert 35.0 < lp_expected(month) < lp_expected_vertex(month) < 60.0
    # crossover (a vertex, which rounds better) when expected to solve with it in ``most``
    assert lp_time(month, 30.0, 200.0) == (200.0, True)  # all of its most: it stops when solved
    # else the interior point, when that is expected to solve in ``most``
    assert lp_time(month, 30.0, 45.0) == (45.0, False)
    assert lp_time(month, 12.0, 30.0) == (12.0, False)  # would not solve in 30 s: the tenth only
    assert lp_time(1_000, 5.0, 75.0) == (75.0, True)
    # a large LP expected in more than half its most with crossover goes without when its
    # interior point will be rounded (the 1,000-agent week: 98 s with, 36 s without)
    thousand = 109_272
    assert lp_time(thousand, 30.0, 90.0) == (pytest.approx(2.0 * lp_expected(thousand)), False)
    assert lp_time(thousand, 30.0, 200.0) == (200.0, True)
    # time grows faster than the size: 4 s for 27,547 columns, 73-75 s for 198,128
    assert 3.0 < lp_expected(27_547) < 8.0 and lp_expected(198_128) > 80.0
    assert lp_time(198_128, 12.0, 36.0) == (12.0, False)


def test_an_interior_point_is_rounded_only_when_the_lp_is_expected_to_leave_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without crossover the LP still gives its bound; its interior point goes to the plan only
    when the LP is expected to take at most half its most (by size, so every run decides the
    same way)."""
    import solver.bound as B

    inst = prepare(tiny(days=2, agents=4))
    options = SolveOptions(time_limit_s=10, workers=2, seed=0)
    columns = len(build_aggregate(inst, elastic=False).model.Proto().variables)
    monkeypatch.setattr(B, "lp_time", lambda columns, limit, most: (5.0, False))
    tight = B.aggregate_bound(inst, options, 5.0, 1.5 * B.lp_expected(columns))
    roomy = B.aggregate_bound(inst, options, 5.0, 10.0)
    assert tight.value is not None and tight.lp is None  # the bound alone
    assert roomy.lp is not None and roomy.value == pytest.approx(tight.value)


@pytest.mark.parametrize("cyclic", [False, True])
def test_chained_pools_give_the_same_optimum(cyclic: bool) -> None:
    """Agents on shift counted from the slot before (starts - ends) is the same model as the
    plain sum over covering shifts: the aggregate reaches the same optimum either way."""
    p = tiny(days=2, agents=4, required={range(6, 22): 2}).model_copy(update={"cyclic": cyclic})
    inst = prepare(p)
    objectives = []
    for chain in (False, True):
        v = build_aggregate(inst, elastic=False, chain=chain)
        out = solve_cp(v, SolveOptions(time_limit_s=20, workers=2, seed=0), 20)
        assert out.optimal
        objectives.append(out.objective)
    assert objectives[0] == pytest.approx(objectives[1])


# --------------------------------------------------------------------------- exact vs pipeline
@pytest.mark.parametrize(("days", "agents"), [(1, 3), (2, 5)])
def test_pipeline_reaches_the_exact_optimum_on_small_cases(days: int, agents: int) -> None:
    p = tiny(days=days, agents=agents)
    exact, r_exact = _checked(p, EXACT)
    assert r_exact.status is SolveStatus.optimal  # type: ignore[attr-defined]
    pipeline, _ = _checked(p, PIPELINE)
    assert pipeline == pytest.approx(exact)


def test_result_carries_provenance() -> None:
    r = solve(tiny(), SolveOptions(time_limit_s=10))
    assert r.solver_version.startswith("ortools ")
    assert len(r.problem_sha256) == 64
    assert r.wall_time_s > 0 and r.gap == 0.0
    assert set(r.phases) >= {"prepare"}


def test_progress_is_reported() -> None:
    seen = []
    solve(tiny(), SolveOptions(time_limit_s=10), progress=seen.append)
    assert seen[0].phase == "prepare" and seen[-1].phase == "done"
    assert seen[-1].objective is not None


# --------------------------------------------------------------------------- features
def test_multi_skilled_agents_cover_one_channel_per_slot() -> None:
    both = tuple(Agent(id=f"a{i}", contract="ft", skills=("phone", "chat")) for i in range(2))
    chans = (
        Channel(id="phone", required=flat_requirement(1, 60, {range(8, 12): 1})),
        Channel(id="chat", required=flat_requirement(1, 60, {range(8, 12): 1})),
    )
    st_ = shift_type("s", 480, 480, 240)
    p = tiny(days=1, agent_list=both, shift_types=(st_,), channels=chans)
    _, r = _checked(p, EXACT)
    channels = {seg.channel for a in r.assignments for seg in a.work}  # type: ignore[attr-defined]
    assert channels == {"phone", "chat"}
    assert r.objective == 0  # type: ignore[attr-defined]


def test_training_keeps_the_agent_on_shift_but_off_the_phone() -> None:
    training = (
        Leave(
            agent_id="a0",
            kind=LeaveKind.training,
            status=LeaveStatus.approved,
            start=600,
            end=660,
            whole_days=False,
        ),
    )
    brk = (BreakRule(name="b", minutes=60, earliest=60, latest=180, paid=True),)
    st_ = shift_type("s", 480, 480, 300, brk)
    p = tiny(
        days=1,
        agents=1,
        shift_types=(st_,),
        leave=training,
        channels=(Channel(id="phone", required=flat_requirement(1, 60, {range(8, 13): 1})),),
    )
    _, r = _checked(p, EXACT)
    shift = r.assignments[0]  # type: ignore[attr-defined]
    assert not any(seg.start < 660 and seg.end > 600 for seg in shift.work)
    assert not any(b.start < 660 and b.start + b.minutes > 600 for b in shift.breaks)


def test_pinned_shift_is_kept() -> None:
    p = tiny(days=2, agents=2, pinned=(Pinned(agent_id="a1", day=1, shift_type="late", start=840),))
    _, r = _checked(p, EXACT)
    assert any(a.agent_id == "a1" and a.day == 1 and a.start == DAY + 840 for a in r.assignments)  # type: ignore[attr-defined]


def test_requested_leave_is_decided_and_explained() -> None:
    req = (
        Leave(agent_id="a0", kind=LeaveKind.annual, status=LeaveStatus.requested, start=0, end=DAY),
    )
    # the only agent: granting the day off would leave the phone short all day (90 > 20)
    p = tiny(days=1, agents=1, leave=req)
    _, r = _checked(p, EXACT)
    [d] = r.leave_decisions  # type: ignore[attr-defined]
    assert d.granted is False and d.reason.startswith("refused: phone would be short")


def test_deferred_work_objective_equals_the_edf_check() -> None:
    n = 24
    arrived = tuple(float(min(t, 8)) for t in range(n))  # one agent-slot per hour to 08:00
    due = tuple(float(max(0, min(t - 2, 8))) for t in range(n))  # due two slots later
    chans = (
        Channel(
            id="mail",
            kind=ChannelKind.deferred,
            required=(0,) * n,
            deferred=DeferredWork(arrived=(arrived,), due=(due,)),
        ),
    )
    agents = (Agent(id="a0", contract="ft", skills=("mail",)),)
    st_ = shift_type("s", 0, 360, 240, start_step=60)
    p = tiny(days=1, agent_list=agents, shift_types=(st_,), channels=chans)
    objective, r = _checked(p, EXACT)
    cap = [0] * n
    for a in r.assignments:  # type: ignore[attr-defined]
        for seg in a.work:
            for t in range(seg.start // 60, seg.end // 60):
                cap[t] += 1
    overdue, _ = edf_overdue([work_units(arrived, due)], [WORK_UNITS * c for c in cap])
    # the roster's late-work cost is what earliest deadline first leaves overdue, slot by slot
    late = sum(x.cost for x in r.penalties if x.rule_id == "deferred.late")  # type: ignore[attr-defined]
    assert sum(overdue) > 0  # one agent of four hours cannot keep up: some work is late
    assert late == pytest.approx(p.weights.deferred_late * sum(overdue) / WORK_UNITS)
    val = validate(p, list(r.assignments))  # type: ignore[attr-defined]
    assert objective == pytest.approx(val.objective)


# --------------------------------------------------------------------------- validator
def test_validator_catches_broken_rosters() -> None:
    p = tiny(days=2, agents=2)
    bad = [
        ShiftAssignment(
            agent_id="a0",
            day=0,
            shift_type="late",
            start=780,
            length=540,
            paid_minutes=480,
            breaks=(BreakTime(name="lunch", start=780 + 180, minutes=60, paid=False),),
            work=(WorkSegment(start=780, end=960, channel="phone"),),
        ),
        ShiftAssignment(
            agent_id="a0",
            day=1,
            shift_type="early",
            start=DAY + 360,
            length=540,
            paid_minutes=480,
            breaks=(BreakTime(name="lunch", start=DAY + 360 + 30, minutes=60, paid=False),),
            work=(),
        ),
        ShiftAssignment(
            agent_id="a1",
            day=0,
            shift_type="early",
            start=400,
            length=540,
            paid_minutes=480,
            breaks=(),
            work=(),
        ),
    ]
    rules = {x.rule for x in validate(p, bad).violations}
    assert {"rest", "breaks", "shift", "work"} <= rules


# --------------------------------------------------------------------------- impossible problems
def test_night_floor_without_night_agents_is_explained() -> None:
    night_floor = tuple(1 if 2 <= t < 4 else 0 for t in range(24))
    p = tiny(
        days=1, agents=2, channels=(Channel(id="phone", required=(0,) * 24, min_staff=night_floor),)
    )
    r = solve(p, SolveOptions(time_limit_s=20))
    assert r.status is SolveStatus.infeasible
    text = " ".join(c.message for c in r.explanation)
    assert "min_staff phone = 1" in text and "02:00" in text
    assert "only 0 agents" in text
    assert r.explanation[0].relaxation


def test_pinned_shift_on_leave_is_explained() -> None:
    leave = (annual_leave("a0", range(1, 2)),)
    p = tiny(
        days=2, agents=1, leave=leave, pinned=(Pinned(agent_id="a0", day=1, shift_type="early"),)
    )
    r = solve(p, SolveOptions(time_limit_s=20))
    assert r.status is SolveStatus.infeasible
    text = " ".join(c.message for c in r.explanation)
    assert "a0" in text and "pinned" in text and "leave" in text


def test_role_cover_beyond_the_leads_is_explained() -> None:
    leads = tuple(
        Agent(id=f"a{i}", contract="ft", skills=("phone",), roles=("team_lead",)) for i in range(2)
    )
    roles = (
        RoleRequirement(role="team_lead", count=3, slots=tuple(9 <= t < 12 for t in range(24))),
    )
    p = tiny(days=1, agent_list=leads, roles=roles)
    r = solve(p, SolveOptions(time_limit_s=20))
    assert r.status is SolveStatus.infeasible
    assert "team_lead" in " ".join(c.message for c in r.explanation)


def test_role_cover_short_on_a_day_of_leave_names_the_day() -> None:
    """Two leads cover 07:00-22:00 with an early and a late shift a day; on Tuesday one is on
    leave, so the lone lead cannot cover the whole day: the explanation says the role, the day
    and the hours, and proposes a relaxation."""
    leads = tuple(
        Agent(id=f"a{i}", contract="ft", skills=("phone",), roles=("team_lead",)) for i in range(2)
    )
    roles = (
        RoleRequirement(
            role="team_lead",
            count=1,
            slots=tuple(7 <= t % 24 < 22 for t in range(3 * 24)),
            label="while the phones are open",
        ),
    )
    leave = (annual_leave("a1", range(1, 2)),)
    p = tiny(days=3, agent_list=leads, roles=roles, leave=leave, required={})
    r = solve(p, SolveOptions(time_limit_s=20, seed=0))
    assert r.status is SolveStatus.infeasible
    text = " ".join(c.message for c in r.explanation)
    assert "role_coverage team_lead (while the phones are open)" in text
    assert "Tue 08 Dec" in text and "Mon 07 Dec" not in text and "Wed 09 Dec" not in text
    relax = " ".join(c.relaxation for c in r.explanation)
    assert "give role team_lead to more agents" in relax and "slots stay short" in relax


def test_generated_centre_gets_a_valid_roster() -> None:
    """Three channels (one deferred), breaks and lunch, team leads, leave, requests, training,
    multi-skilled agents: the pipeline's roster passes the validator."""
    from benchmarks.roster_gen import generate_problem

    p = generate_problem(30, seed=3, days=2)
    _checked(p, SolveOptions(time_limit_s=20, seed=0, exact_max_agents=0))


# --------------------------------------------------------------------------- property
@settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000))
def test_random_feasible_problems_solve_to_valid_rosters(seed: int) -> None:
    """Problems feasible by construction (no floors, wide hours): every roster validates."""
    rng = random.Random(seed)
    days = rng.choice([1, 2, 3])
    n = rng.randint(2, 6)
    hours = {h: rng.randint(0, 3) for h in range(6, 22)}
    req = flat_requirement(days, 60, {range(h, h + 1): v for h, v in hours.items()})
    agents = tuple(
        Agent(
            id=f"a{i}",
            contract="ft",
            skills=("phone",) if rng.random() < 0.7 else ("phone", "chat"),
        )
        for i in range(n)
    )
    chans = (
        Channel(id="phone", required=req),
        Channel(id="chat", required=flat_requirement(days, 60, {range(9, 17): 1})),
    )
    p = tiny(
        days=days,
        agent_list=agents,
        channels=chans,
        contracts=(Contract(id="ft", hours_min=0, hours_max=60),),
    )
    _checked(p, SolveOptions(time_limit_s=8, seed=0, exact_max_agents=rng.choice([0, 100])))


# --------------------------------------------------------------------------- shift design
def test_shift_design_uses_the_demand_steps() -> None:
    """Demand that is two shift-shaped blocks (3 agents 07:00-15:00, 2 more 11:00-19:00) on
    15-minute slots, shift types that may start every 15 minutes for 3 hours with lengths of
    7-9 hours: the design finds the two shifts, with nothing short or over."""
    from solver.design import _change_minutes, design_shifts
    from solver.rule_ids import SOFT_RULES

    slot, days = 15, 2
    per_day = 1440 // slot
    req = tuple(
        (3 if 7 * 60 <= m < 15 * 60 else 0) + (2 if 11 * 60 <= m < 19 * 60 else 0)
        for m in ((t % per_day) * slot for t in range(days * per_day))
    )
    types = (
        shift_type("morning", 6 * 60, 9 * 60, 420, start_step=15, length_max=540, length_step=15),
        shift_type("mid", 10 * 60, 13 * 60, 420, start_step=15, length_max=540, length_step=15),
    )
    p = tiny(
        days=days,
        slot=slot,
        agents=8,
        shift_types=types,
        channels=(Channel(id="phone", required=req),),
        contracts=(Contract(id="ft", hours_min=0, hours_max=60, days_off_per_week=0),),
        weights=Weights(distinct_shift=50.0),
        disabled_rules=tuple(
            r for r in SOFT_RULES if r not in ("coverage.under", "coverage.over", "shifts.distinct")
        ),
    )
    assert _change_minutes(p) == {7 * 60, 11 * 60, 15 * 60, 19 * 60}
    res = design_shifts(p, SolveOptions(time_limit_s=10, workers=2, seed=0))
    used = {(s.start, s.length) for s in res.shifts}
    assert used == {(7 * 60, 480), (11 * 60, 480)}
    assert res.objective == pytest.approx(2 * 50.0)


def test_phases_time_the_step_that_ended_a_solve_early() -> None:
    """A step that returns early (no plan, no day) is still in the phases: ``_solve`` stops it."""
    from solver.solve import _Clock, _Phases

    clock = _Clock(10.0)
    phases = _Phases(clock)
    phases.start("bound")
    phases.stop()
    phases.start("master")  # fails: returns without stopping
    phases.stop()  # what _solve does after the pipeline
    phases.stop()  # nothing open: no-op
    assert set(phases) == {"bound", "master"} and all(v >= 0 for v in phases.values())
    phases.start("refine")
    phases.start("explain")  # starting a step stops the one open
    assert "refine" in phases
