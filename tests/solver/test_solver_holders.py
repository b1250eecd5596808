"""Role holders' weeks from their own exact model (solver.holders)."""

from __future__ import annotations

import pytest
from roster_factory import tiny

from solver.greedy import greedy_breaks, greedy_channels
from solver.holders import holders_roster, holders_week
from solver.options import SolveOptions
from solver.prep import prepare
from solver.refine import state_of
from solver.schema import Agent, RoleRequirement
from solver.solve import solve
from solver.validate import validate

OPTS = SolveOptions(time_limit_s=10, workers=2, seed=0)


def _problem():  # type: ignore[no-untyped-def]
    people = (
        Agent(id="L1", contract="ft", skills=("phone",), roles=("lead",)),
        Agent(id="L2", contract="ft", skills=("phone",), roles=("lead",)),
        *(Agent(id=f"a{i}", contract="ft", skills=("phone",)) for i in range(4)),
    )
    # a lead on duty 07:00-14:00 both days: two early leads, their lunches apart
    morning = tuple(7 <= t % 24 < 14 for t in range(48))
    return tiny(
        days=2,
        agent_list=people,
        roles=(RoleRequirement(role="lead", count=1, slots=morning),),
    )


def test_the_holders_exact_weeks_cover_the_role_the_roster_left_open() -> None:
    problem = _problem()
    inst = prepare(problem)
    # everyone but the leads on the first early shift each day; the leads off
    chosen = {
        a.index: [a.options_by_day[d][0] for d in range(problem.days)]
        for a in inst.agents
        if not a.agent.roles
    }
    breaks = greedy_breaks(inst, chosen)
    state = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})
    assert any(x.rule == "role_coverage" for x in state.validation.violations)
    alt = holders_roster(inst, state, OPTS, 10)
    assert alt is not None
    assert not alt.validation.violations
    for a, opts in chosen.items():  # the others' shifts and breaks as they were
        assert alt.chosen[a] == opts
        for o in opts:
            assert alt.breaks[(a, o)] == breaks[(a, o)]
    # both leads work each morning, lunches apart
    for d in range(problem.days):
        leads = [a.index for a in inst.agents if a.agent.roles]
        assert all(any(inst.options[o].day == d for o in alt.chosen[a]) for a in leads)


def test_no_holders_or_too_many_give_nothing_to_substitute() -> None:
    problem = tiny(days=1, agents=3)
    inst = prepare(problem)
    chosen = {a.index: [a.options_by_day[0][0]] for a in inst.agents}
    breaks = greedy_breaks(inst, chosen)
    state = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})
    assert holders_roster(inst, state, OPTS, 10) is None


def test_the_holders_weeks_planned_first_cover_the_role_on_their_own() -> None:
    problem = _problem()
    inst = prepare(problem)
    week = holders_week(inst, OPTS, 10)
    assert week is not None and week.covered
    leads = {a.index for a in inst.agents if a.agent.roles}
    assert set(week.chosen) == leads
    # with the others on their first early shift: no role slot open, whatever they do
    chosen = {
        a.index: [a.options_by_day[d][0] for d in range(problem.days)]
        for a in inst.agents
        if not a.agent.roles
    }
    chosen.update(week.chosen)
    breaks = greedy_breaks(inst, chosen, fixed=week.breaks)
    state = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), week.grants)
    assert not [x for x in state.validation.violations if x.rule == "role_coverage"]
    for a in leads:  # their breaks as their own model placed them
        for o in week.chosen[a]:
            assert state.breaks[(a, o)] == week.breaks[(a, o)]


def test_the_weekly_masters_plan_everyone_around_the_holders_weeks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import solver.solve as S

    # no rounded plan (as when the LP does not solve in time): the weekly masters' path
    monkeypatch.setattr(S, "rounded_plan", lambda *a, **k: None)
    problem = _problem()
    options = SolveOptions(time_limit_s=20, workers=2, seed=0, exact_max_agents=0)
    messages: list[str] = []
    result = solve(problem, options, lambda p: messages.append(p.message or ""))
    assert result.status.value == "feasible", result.message
    assert "2 role holders' weeks, exactly" in messages
    check = validate(problem, list(result.assignments))
    assert not check.violations
