"""The integer plan: the aggregate LP's group counts rounded within the group rules, and the
LP's staffing of deferred channels as a per-slot plan."""

from __future__ import annotations

import math
from types import SimpleNamespace

from ortools.sat.python import cp_model
from roster_factory import tiny

from common.enums import ChannelKind
from solver.bound import aggregate_bound
from solver.days import behind_plan, solve_day
from solver.master import MasterPlan, families
from solver.options import SolveOptions
from solver.plan import _deferred_queue, deferred_plan, rounded_plan
from solver.prep import AgentClass, prepare
from solver.schema import Agent, Channel, RoleRequirement, SolveStatus
from solver.solve import solve
from solver.units import scaled_weight
from solver.validate import validate

OPTS = SolveOptions(time_limit_s=10, workers=2, seed=0)


def test_rounded_counts_stay_between_the_floor_and_ceiling_of_the_lp() -> None:
    problem = tiny(days=3, agents=7, required={range(6, 14): 3, range(14, 22): 2})
    inst = prepare(problem)
    agg = aggregate_bound(inst, OPTS, 10)
    assert agg.lp is not None and agg.value is not None
    plan = rounded_plan(inst, agg, OPTS, 5)
    assert plan is not None
    for (g, o), var in agg.model.y_.items():
        if isinstance(var, int):
            continue
        lp = float(agg.lp[var.index])
        got = plan.counts.get((g, o), 0)
        assert math.floor(lp + 1e-6) <= got <= math.ceil(lp - 1e-6) or got == round(lp)
    # never more shifts on a day than the group has members
    for g, members in enumerate(inst.group_members):
        for d in range(problem.days):
            day = sum(
                n for (gg, o), n in plan.counts.items() if gg == g and inst.options[o].day == d
            )
            assert day <= len(members)


def test_an_lp_wanted_for_its_point_alone_is_not_solved_when_it_cannot_give_one(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """A week of a longer horizon wants its LP for the plan only: an LP too large for HiGHS
    in its most, whose PDLP is not expected to reach a point in its share, is not solved at
    all (with its bound wanted, PDLP runs for the bound alone)."""
    import solver.bound as bound_mod

    inst = prepare(tiny(days=3, agents=7, required={range(6, 14): 3, range(14, 22): 2}))
    calls: list[float] = []
    real = bound_mod.pdlp_bound

    def spy(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(args[1])
        return real(*args, **kw)

    monkeypatch.setattr(bound_mod, "pdlp_bound", spy)
    # expected to take more than its most on HiGHS, and more than its share on PDLP
    monkeypatch.setattr(bound_mod, "lp_expected", lambda columns: 100.0)
    monkeypatch.setattr(bound_mod, "pdlp_expected", lambda nonzeros: 100.0)
    alone = aggregate_bound(inst, OPTS, 2.0, 3.0, plan_only=True)
    assert alone.value is None and alone.lp is None and alone.too_large and calls == []
    wanted = aggregate_bound(inst, OPTS, 2.0, 3.0)
    assert len(calls) == 1 and wanted.lp is None and not wanted.too_large  # PDLP's bound


def test_the_pipeline_from_the_rounded_plan_gives_a_valid_roster() -> None:
    problem = tiny(days=3, agents=12, required={range(6, 14): 4, range(14, 22): 3})
    result = solve(problem, SolveOptions(time_limit_s=10, workers=2, seed=0, exact_max_agents=4))
    assert result.status in (SolveStatus.optimal, SolveStatus.feasible)
    assert validate(problem, list(result.assignments)).ok
    assert result.best_bound is not None and result.objective is not None
    assert result.best_bound <= result.objective + 1e-6


def test_deferred_plan_never_falls_behind_the_lp() -> None:
    staffing = [0.0, 0.4, 0.4, 0.4, 1.3, 0.0, 0.7, 0.2]
    inst = SimpleNamespace(
        problem=SimpleNamespace(
            n_slots=len(staffing),
            channels=[
                SimpleNamespace(kind=ChannelKind.voice),
                SimpleNamespace(kind=ChannelKind.deferred),
            ],
        )
    )
    model = SimpleNamespace(coverage=lambda c, t: 0 if c == 0 else staffing[t])
    agg = SimpleNamespace(lp=[], model=model)
    plan = deferred_plan(inst, agg)  # type: ignore[arg-type]
    assert list(plan) == [1]
    running_lp = running_plan = 0.0
    for t, n in enumerate(plan[1]):
        running_lp += staffing[t]
        running_plan += n
        assert running_plan >= running_lp - 1e-9
        assert running_plan < running_lp + 1  # and never a whole agent-slot ahead


def test_a_day_model_names_the_hard_rules_its_counts_leave_short() -> None:
    floor = tuple(2 if 8 <= t < 12 else 0 for t in range(24))
    problem = tiny(
        days=1,
        agents=3,
        channels=(
            Channel(id="phone", kind=ChannelKind.voice, required=(1,) * 24, min_staff=floor),
        ),
    )
    inst = prepare(problem)
    fam = families(inst)
    early = next(o for o in inst.options if o.type_index == 0)  # 06:00-15:00, a 1-hour lunch
    g = inst.agents[0].group_index
    one = MasterPlan(counts={(g, 0, fam.of_option[early.index]): 1})
    res = solve_day(inst, fam, one, 0, [], {}, OPTS, 5)
    assert res is not None
    assert any(x.startswith("min_staff: phone:") for x in res.short)
    two = MasterPlan(counts={(g, 0, fam.of_option[early.index]): 3})
    res = solve_day(inst, fam, two, 0, [], {}, OPTS, 5)
    assert res is not None and res.short == []


def test_rounding_keeps_room_for_the_floor_over_the_breaks() -> None:
    # a floor of one all day with demand of one: one agent per shift meets the demand, but
    # their lunch leaves the floor empty; the rounding must put a second agent on each shift
    base = tiny(days=1, agents=6, required={range(6, 22): 1})
    floor = tuple(1 if 6 <= t < 22 else 0 for t in range(base.n_slots))
    channel = base.channels[0].model_copy(update={"min_staff": floor})
    problem = base.model_copy(update={"channels": (channel,)})
    inst = prepare(problem)
    agg = aggregate_bound(inst, OPTS, 10)
    assert agg.lp is not None
    plan = rounded_plan(inst, agg, OPTS, 5)
    assert plan is not None
    on = [0] * problem.n_slots
    for (_g, o), n in plan.counts.items():
        for t in inst.options[o].slots:
            on[t] += n
    # lunches fall in 09:00-13:00 (early shifts) and 16:00-20:00 (late ones)
    assert all(on[t] >= 2 for t in (*range(9, 13), *range(16, 20))), str(on[6:22])


def test_a_day_model_places_the_breaks_of_decided_shifts_under_role_cover() -> None:
    # two team leads on the same early shift are decided (their own model planned them) and
    # left out of the counts; the day places their lunches apart so a lead is always on duty
    people = (
        Agent(id="L1", contract="ft", skills=("phone",), roles=("lead",)),
        Agent(id="L2", contract="ft", skills=("phone",), roles=("lead",)),
        Agent(id="a0", contract="ft", skills=("phone",)),
    )
    morning = tuple(7 <= t < 14 for t in range(24))
    problem = tiny(
        days=1, agent_list=people, roles=(RoleRequirement(role="lead", count=1, slots=morning),)
    )
    inst = prepare(problem)
    fam = families(inst)
    early = next(o for o in inst.options if o.type_index == 0 and o.day == 0)
    leads = [a.index for a in inst.agents if a.agent.roles]
    # their own model's lunches together, as a start only
    lunch = early.break_windows[0][0]
    res = solve_day(
        inst,
        fam,
        MasterPlan(),
        0,
        [],
        {},
        OPTS,
        5,
        held={a: early.index for a in leads},
        held_breaks={(a, early.index): [lunch] for a in leads},
    )
    assert res is not None and res.short == []
    assert res.special == {}  # decided, not chosen here
    starts = sorted(fs.breaks[0] for fs in res.shifts if fs.option == early.index)
    assert len(starts) == 2 and starts[0] != starts[1]


def test_the_plan_a_day_falls_behind_on_waits_and_is_not_banked() -> None:
    plan = {2: [1, 1, 0, 2, 0, 1]}
    spd = 3  # two "days" of three slots
    results = {
        0: SimpleNamespace(staffed={2: {0: 0, 1: 3, 2: 0}}),  # short, then two above the plan
        1: SimpleNamespace(staffed={2: {3: 1, 4: 0}}),
    }
    # slot 0: 1 behind; slot 1: worked off (the extra agent is not credit); slot 3: 1 behind
    assert behind_plan(results, plan, 3, spd) == {2: 0}  # type: ignore[arg-type]
    assert behind_plan(results, plan, 5, spd) == {2: 1}  # type: ignore[arg-type]
    assert behind_plan({}, plan, 6, spd) == {2: 5}  # nothing staffed: the whole plan waits


def test_the_rounding_queues_deferred_work_its_classes_leave_unstaffed() -> None:
    # the LP staffs mail with 1.5 agents in slots 0-1 from two classes; one agent of the mail
    # class on shift leaves half an agent-slot waiting each slot, until the end (slot 3)
    inst = SimpleNamespace(
        problem=SimpleNamespace(
            n_slots=4,
            channels=[SimpleNamespace(id="mail", kind=ChannelKind.deferred)],
            weights=SimpleNamespace(deferred_late=10.0),
        ),
        classes=[AgentClass(("mail",), ()), AgentClass(("phone",), ()), AgentClass(("mail",), ())],
    )
    model = cp_model.CpModel()
    mail = model.new_int_var(0, 2, "mail")
    phone = model.new_int_var(0, 2, "phone")
    on = {(0, 0): [mail], (0, 1): [mail], (1, 0): [phone], (1, 1): [phone]}
    v = SimpleNamespace(model=model)
    queued = _deferred_queue(inst, v, {0: [150, 150, 0, 0]}, on, {mail: 1, phone: 2}.__getitem__)  # type: ignore[arg-type]
    assert [value for _, _, value in queued] == [50, 100, 100, 100]
    # waiting costs 10 per agent-slot per slot: 105 with no mail agent, 35 with one; at 20 an
    # agent, two (40) is the cheapest
    model.minimize(sum(term for term, _, _ in queued) + 20 * scaled_weight(1.0) * mail)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    assert solver.value(mail) == 2
    assert all(solver.value(var) == 0 for _, var, _ in queued)


def test_a_rounding_that_finds_nothing_in_its_time_is_tried_once_more_longer(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """A rounding with no solution in its time is mostly CP-SAT's first solution late, not a
    conflict: the pipeline tries once more with more time before the weekly masters."""
    import solver.solve as solve_mod

    real = solve_mod.rounded_plan
    limits: list[float] = []

    def first_finds_nothing(inst, agg, options, time_limit):  # type: ignore[no-untyped-def]
        limits.append(time_limit)
        return None if len(limits) == 1 else real(inst, agg, options, time_limit)

    monkeypatch.setattr(solve_mod, "rounded_plan", first_finds_nothing)
    problem = tiny(days=3, agents=12, required={range(6, 14): 4, range(14, 22): 3})
    result = solve(problem, SolveOptions(time_limit_s=10, workers=2, seed=0, exact_max_agents=4))
    assert len(limits) == 2 and limits[1] > limits[0]
    assert result.status in (SolveStatus.optimal, SolveStatus.feasible)
    assert validate(problem, list(result.assignments)).ok
