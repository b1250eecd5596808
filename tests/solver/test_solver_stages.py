"""Pipeline stages on their own: naming agents from group counts, re-placing broken breaks."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from roster_factory import flat_requirement, shift_type, tiny

from common.enums import ChannelKind
from solver.channels import best_channels
from solver.disaggregate import disaggregate
from solver.greedy import greedy_channels
from solver.options import SolveOptions
from solver.prep import prepare
from solver.refine import state_of, with_best_channels
from solver.schema import Agent, BreakRule, Channel, DeferredWork, RoleRequirement
from solver.solve import _replace_breaks

OPTIONS = SolveOptions(time_limit_s=5, workers=2, seed=0)


def _option(inst, type_id: str) -> int:  # type: ignore[no-untyped-def]
    return next(o.index for o in inst.options if o.type_id == type_id)


def test_a_group_short_of_members_keeps_the_shift_a_floor_depends_on() -> None:
    """One agent, two shifts wanted on the same day: the early one holds the morning floor
    (nobody else is planned then), the late one is longer. Counts alone would keep the late
    shift (a missing one costs its slots); the floor keeps the early one."""
    req = flat_requirement(1, 60, {range(6, 24): 1})
    floor = flat_requirement(1, 60, {range(6, 14): 1})
    p = tiny(
        days=1,
        agents=1,
        shift_types=(shift_type("early", 360, length=480), shift_type("late", 780, length=600)),
        channels=(Channel(id="phone", kind=ChannelKind.voice, required=req, min_staff=floor),),
    )
    inst = prepare(p)
    early, late = _option(inst, "early"), _option(inst, "late")
    target = {(0, early): 1, (0, late): 1}
    assert disaggregate(inst, target, {}, {}, OPTIONS, 2.0) == {0: [early]}
    # two others already named on the morning (floor and a spare for breaks): the longer
    # late shift is the one kept
    people = (
        Agent(id="a0", contract="ft", skills=("phone",)),
        Agent(id="l1", contract="ft", skills=("phone",), roles=("lead",)),
        Agent(id="l2", contract="ft", skills=("phone",), roles=("lead",)),
    )
    p2 = tiny(
        days=1,
        agent_list=people,
        shift_types=p.shift_types,
        channels=p.channels,
    )
    inst2 = prepare(p2)
    leads = inst2.agents[1].group_index
    assert inst2.agents[0].group_index != leads == inst2.agents[2].group_index
    g = inst2.agents[0].group_index
    out = disaggregate(
        inst2,
        {(g, early): 1, (g, late): 1},
        {},
        {},
        OPTIONS,
        2.0,
        skip={leads},
        named={1: [early], 2: [early]},
    )
    assert out == {0: [late]}


def test_breaks_that_empty_a_floor_are_placed_again() -> None:
    """Two agents on the same shift, both lunches put at 09:00: the floor of one is broken
    there until one lunch moves."""
    lunch = BreakRule(name="lunch", minutes=60, earliest=120, latest=300, paid=False, lunch=True)
    req = flat_requirement(1, 60, {range(6, 15): 2})
    floor = flat_requirement(1, 60, {range(6, 15): 1})
    p = tiny(
        days=1,
        agents=2,
        shift_types=(shift_type("early", 360, length=540, breaks=(lunch,)),),
        channels=(Channel(id="phone", kind=ChannelKind.voice, required=req, min_staff=floor),),
    )
    inst = prepare(p)
    o = _option(inst, "early")
    chosen = {0: [o], 1: [o]}
    nine = 9  # 09:00 on 60-minute slots
    breaks = {(0, o): [nine], (1, o): [nine]}
    state = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})
    assert [x.rule for x in state.validation.violations] == ["min_staff"]
    fixed = _replace_breaks(inst, state)
    assert fixed.validation.ok
    assert sorted(starts[0] for starts in fixed.breaks.values()) != [nine, nine]


def test_a_lead_keeps_the_shift_the_role_cover_depends_on() -> None:
    """The same with a role instead of a floor: the lead's early shift holds the morning's
    team-lead cover, so it is kept over the longer late one."""
    req = flat_requirement(1, 60, {range(6, 24): 1})
    morning = tuple(bool(v) for v in flat_requirement(1, 60, {range(6, 14): 1}))
    p = tiny(
        days=1,
        agent_list=(Agent(id="l0", contract="ft", skills=("phone",), roles=("lead",)),),
        shift_types=(shift_type("early", 360, length=480), shift_type("late", 780, length=600)),
        channels=(Channel(id="phone", kind=ChannelKind.voice, required=req),),
        roles=(RoleRequirement(role="lead", count=1, slots=morning),),
    )
    inst = prepare(p)
    early, late = _option(inst, "early"), _option(inst, "late")
    assert disaggregate(inst, {(0, early): 1, (0, late): 1}, {}, {}, OPTIONS, 2.0) == {0: [early]}


def _two_channel_day(agents: int, phone: dict[range, int], work_by: tuple[int, int, float]):  # type: ignore[no-untyped-def]
    """One day of hourly slots, agents skilled for phone and messages on a 06:00-14:00 shift
    (no breaks); ``work_by`` = (arrival hour, due hour, agent-slots): message work arriving
    at the end of one hour and due by the end of another."""
    arrive, due, work = work_by
    arrived = tuple(work if t >= arrive else 0.0 for t in range(24))
    due_curve = tuple(work if t >= due else 0.0 for t in range(24))
    people = tuple(
        Agent(id=f"a{i}", contract="ft", skills=("phone", "messages")) for i in range(agents)
    )
    return tiny(
        days=1,
        agent_list=people,
        shift_types=(shift_type("early", 360, length=480),),
        channels=(
            Channel(id="phone", kind=ChannelKind.voice, required=flat_requirement(1, 60, phone)),
            Channel(
                id="messages",
                kind=ChannelKind.deferred,
                required=tuple(0 for _ in range(24)),
                deferred=DeferredWork(arrived=(arrived,), due=(due_curve,)),
            ),
        ),
    )


def test_the_channel_split_is_optimal_for_the_backlog() -> None:
    """Shifts fixed, every split of two agents over phone and messages, hour by hour,
    enumerated: the LP split (``solver.channels``) costs what the best of them costs. The
    greedy split, deciding hour by hour against the level-loaded requirement, leaves message
    work late: phone wants both agents until noon, the three agent-hours of messages that
    arrive at 07:00 are due by 10:00."""
    p = _two_channel_day(2, {range(6, 12): 2, range(12, 14): 1}, (7, 9, 3.0))
    inst = prepare(p)
    o = _option(inst, "early")
    chosen = {0: [o], 1: [o]}
    breaks: dict[tuple[int, int], list[int]] = {(0, o): [], (1, o): []}
    k = inst.agents[0].class_index
    phone, messages = inst.channel_index["phone"], inst.channel_index["messages"]
    best = None
    for split in itertools.product(range(3), repeat=8):  # agents on messages, 06:00-14:00
        channels = {}
        for i, m in enumerate(split):
            t = 6 + i
            if m:
                channels[(k, messages, t)] = m
            if 2 - m:
                channels[(k, phone, t)] = 2 - m
        cost = state_of(inst, chosen, breaks, channels, {}).validation.objective
        best = cost if best is None else min(best, cost)
    lp = best_channels(inst, chosen, breaks)
    assert lp is not None
    found = state_of(inst, chosen, breaks, lp, {})
    assert found.validation.ok
    assert found.validation.objective == pytest.approx(best)
    greedy = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})
    assert greedy.validation.objective > best
    # kept by with_best_channels only when better: never worse than the roster it is given
    assert with_best_channels(inst, greedy).validation.objective == pytest.approx(best)


def test_the_search_draws_its_days_by_where_the_roster_loses() -> None:
    """``_day_costs`` charges each cover and deferred-work penalty to the day of its slot (they
    add up to those penalties); ``_random_targets`` with those costs draws the costly day
    about half the time and any day otherwise, from the same seed the same draws."""
    import random

    from solver.refine import _day_costs, _random_targets

    p = _two_channel_day(2, {range(6, 12): 2, range(12, 14): 1}, (7, 9, 3.0))
    inst = prepare(p)
    o = _option(inst, "early")
    chosen = {0: [o], 1: [o]}
    breaks: dict[tuple[int, int], list[int]] = {(0, o): [], (1, o): []}
    state = state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})
    costs = _day_costs(inst, state)
    charged = sum(
        x.cost
        for x in state.validation.penalties
        if x.rule_id.startswith(("coverage.", "deferred."))
    )
    assert charged > 0 and sum(costs) == pytest.approx(charged)
    week = prepare(tiny(days=3, agents=4))
    fake = [0.0, 0.0, 1.0]  # all the loss on the last day
    draws = [_random_targets(week, random.Random(s), 2, 1, fake)[1] for s in range(200)]
    last = sum(1 for d in draws if d.start == 2)
    assert 110 < last < 160  # 1/2 + 1/2 x 1/3 of the draws: two thirds
    assert {d.start for d in draws} == {0, 1, 2}  # every day still drawn
    assert draws == [_random_targets(week, random.Random(s), 2, 1, fake)[1] for s in range(200)]


def test_the_channel_split_keeps_a_floor_and_every_agent_on_a_channel() -> None:
    """Three agents, a phone floor of two all morning and message work due early: the split
    keeps two on phone and the third on messages, each agent on one channel every slot."""
    floor = flat_requirement(1, 60, {range(6, 14): 2})
    p = _two_channel_day(3, {range(6, 14): 1}, (6, 8, 6.0))
    p = p.model_copy(
        update={"channels": (p.channels[0].model_copy(update={"min_staff": floor}), p.channels[1])}
    )
    inst = prepare(p)
    o = _option(inst, "early")
    chosen = {a: [o] for a in range(3)}
    breaks: dict[tuple[int, int], list[int]] = {(a, o): [] for a in range(3)}
    lp = best_channels(inst, chosen, breaks)
    assert lp is not None
    k = inst.agents[0].class_index
    phone = inst.channel_index["phone"]
    for t in range(6, 14):
        assert sum(n for (kk, _c, tt), n in lp.items() if kk == k and tt == t) == 3
        assert lp.get((k, phone, t), 0) >= 2
    assert state_of(inst, chosen, breaks, lp, {}).validation.ok


def test_a_large_group_is_given_its_counts_a_part_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eleven agents in parts of three (three parts of 3-4): every count wanted is placed (a
    part's shares are rounded up and what it leaves goes on to the next), nobody twice."""
    import solver.disaggregate as D

    monkeypatch.setattr(D, "PART", 3)
    problem = tiny(days=3, agents=11, required={range(6, 14): 5, range(14, 22): 4})
    inst = prepare(problem)
    assert len(inst.group_members) == 1
    per_day = {0: (5, 4), 1: (4, 4), 2: (5, 3)}
    target: dict[tuple[int, int], int] = {}
    for d, (n_early, n_late) in per_day.items():
        opts = inst.agents[0].options_by_day[d]
        early = min(opts, key=lambda o: inst.options[o].start)
        late = max(opts, key=lambda o: inst.options[o].start)
        target[(0, early)] = n_early
        target[(0, late)] = n_late
    out = disaggregate(inst, target, {}, {}, OPTIONS, 5.0)
    worked = Counter(o for opts in out.values() for o in opts)
    assert worked == Counter({o: n for (_, o), n in target.items()})
    assert all(len({inst.options[o].day for o in opts}) == len(opts) for opts in out.values())


def test_the_parts_are_dealt_the_shifts_their_members_need(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thirteen agents who must each work at least three 8-hour shifts (24-40 h), in parts of
    three: the plan's 39 shifts are placed without one extra. Rounding each part's share of
    every count up gave the first parts four shifts a member and left the last ones short of
    their minimum hours, which they made up with shifts the plan did not have."""
    import solver.disaggregate as D
    from solver.schema import Contract

    monkeypatch.setattr(D, "PART", 3)
    contract = (Contract(id="ft", hours_min=24, hours_max=40),)
    problem = tiny(days=7, agents=13, contracts=contract)
    inst = prepare(problem)
    assert len(inst.group_members) == 1
    target: dict[tuple[int, int], int] = {}
    for d in range(7):
        opts = sorted(inst.agents[0].options_by_day[d], key=lambda o: inst.options[o].start)
        target[(0, opts[0])] = 3
        target[(0, opts[-1])] = 3 if d < 4 else 2
    assert sum(target.values()) == 3 * 13
    out = disaggregate(inst, target, {}, {}, OPTIONS, 10.0)
    assert sorted(len(opts) for opts in out.values()) == [3] * 13
    worked = Counter(o for opts in out.values() for o in opts)
    assert worked == Counter({o: n for (_, o), n in target.items()})


def test_dealing_keeps_every_part_within_one_of_its_share() -> None:
    import solver.disaggregate as D

    inst = prepare(tiny(days=5, agents=4))
    opts = [o for d in range(5) for o in inst.agents[0].options_by_day[d]]
    counts = {(0, o): 1 + i % 4 for i, o in enumerate(opts)}
    sizes = [12, 12, 13]
    dealt = D._deal(inst, counts, sizes)
    for key, n in counts.items():
        assert sum(d.get(key, 0) for d in dealt) == n
    total = sum(counts.values())
    for d, size in zip(dealt, sizes, strict=True):
        assert abs(sum(d.values()) - total * size / sum(sizes)) < 1


def _noon_lunches(cap: float):  # type: ignore[no-untyped-def]
    """Two days on which three agents start at 08:00 with a lunch fixed four hours in (all
    three at lunch at noon), under a break cap of ``cap``: the instance and that roster."""
    from solver.greedy import greedy_breaks
    from solver.schema import Rules

    lunch = BreakRule(name="lunch", minutes=60, earliest=240, latest=300, paid=False, lunch=True)
    p = tiny(
        days=2,
        agents=3,
        required={range(8, 20): 2},
        shift_types=(shift_type("day", 480, latest=600, length=540, breaks=(lunch,)),),
        rules=Rules(max_on_break_share=cap),
    )
    inst = prepare(p)
    eight = [
        next(o.index for o in inst.options if o.day == d and o.start == d * 1440 + 480)
        for d in range(2)
    ]
    chosen = {a: list(eight) for a in range(3)}
    breaks = greedy_breaks(inst, chosen)
    return inst, state_of(inst, chosen, breaks, greedy_channels(inst, chosen, breaks), {})


def test_a_break_cap_the_breaks_cannot_keep_is_repaired_by_moving_the_days_shifts() -> None:
    """Three agents start at 08:00 with a lunch fixed four hours in: all three at lunch at
    noon, where a cap of 30 % lets one go. No placement of the breaks repairs that; moving
    two of the day's starts (everyone free on the broken day, ``_day_moves``) does, on each
    day, with every agent still working it."""
    from solver.refine import _day_moves, _try_breaks

    inst, state = _noon_lunches(0.3)
    broken = {(x.rule, x.slot) for x in state.validation.violations}
    assert broken == {("break_share", 12), ("break_share", 36)}
    slots = [12, 36]
    assert _try_breaks(
        inst, state, range(2), OPTIONS, lambda: 10.0, None, slots
    ).validation.violations
    fixed = _day_moves(inst, state, OPTIONS, lambda: 10.0, None)
    assert fixed.validation.ok
    for d in range(2):
        starts = sorted(
            inst.options[o].start - d * 1440
            for a in range(3)
            for o in fixed.chosen[a]
            if inst.options[o].day == d
        )
        assert len(starts) == 3 and len(set(starts)) >= 2  # every agent still works each day


def test_whole_days_of_breaks_are_placed_again_only_where_a_rule_was_broken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refinement re-places a whole day's breaks with the cover costs (``_try_breaks``
    without ``around``, 8 s a day) only on days that had a broken rule; a valid roster's time
    goes to the moves (that pass took all of a 30-s week's refinement for a few units)."""
    import time

    from solver import refine as refine_mod

    whole: list[int] = []
    real = refine_mod._try_breaks

    def spy(inst, state, days, options, time_left, report, around=None):  # type: ignore[no-untyped-def]
        if around is None:
            whole.append(days.start)
        return real(inst, state, days, options, time_left, report, around)

    monkeypatch.setattr(refine_mod, "_try_breaks", spy)
    for cap, broken_days in ((1.0, set()), (0.3, {0, 1})):
        inst, state = _noon_lunches(cap)
        assert bool(state.validation.violations) == bool(broken_days)
        whole.clear()
        end = time.perf_counter() + 4.0
        out = refine_mod._moves(inst, state, OPTIONS, lambda end=end: end - time.perf_counter())
        assert set(whole) <= broken_days
        assert out.score <= state.score
