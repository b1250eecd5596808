"""Long horizons a week at a time (solver.rolling): the cuts, what each week carries in from the
weeks before it, the shares of the horizon's rules, and a fortnight solved end to end."""

from __future__ import annotations

import itertools

import pytest
from roster_factory import annual_leave, requested_leave, shift_type, tiny

from common.enums import ChannelKind
from solver import rolling
from solver.options import SolveOptions
from solver.prep import month_days_off, prepare
from solver.schema import (
    DAY,
    BreakRule,
    Channel,
    Contract,
    Leave,
    LeaveKind,
    LeaveStatus,
    RosterResult,
    SolveStatus,
    Weights,
)
from solver.solve import _week_at_a_time, solve
from solver.validate import validate

BRK = (BreakRule(name="break", minutes=60, earliest=180, latest=360, paid=False),)


def _night_fortnight(agents: int = 4, **kw: object) -> object:
    types = (
        shift_type("day", 480, 540, 540, BRK),
        shift_type("night", 1320, 1320, 480),
    )
    return tiny(
        days=14,
        agents=agents,
        required={range(0, 6): 1, range(8, 18): 2, range(22, 24): 1},
        shift_types=types,
        **kw,
    )


@pytest.mark.parametrize(
    ("days", "cyclic", "expected"),
    [
        (7, False, [(0, 7)]),
        (13, False, [(0, 13)]),
        (14, False, [(0, 7), (7, 14)]),
        (20, False, [(0, 7), (7, 20)]),
        (28, False, [(0, 7), (7, 14), (14, 21), (21, 28)]),
        (14, True, [(0, 14)]),
    ],
)
def test_spans_are_whole_weeks_from_the_first_day(days: int, cyclic: bool, expected: list) -> None:
    assert rolling.spans(tiny(days=days, cyclic=cyclic)) == expected


@pytest.mark.parametrize("total", [0, 1, 5, 6, 17, 600, 2401])
@pytest.mark.parametrize("days", [14, 20, 28, 31])
def test_shares_add_up_to_the_total(total: int, days: int) -> None:
    cuts = rolling.spans(tiny(days=days))
    for up in (False, True):
        parts = [rolling._share(total, a, b, days, up) for a, b in cuts]
        assert sum(parts) == total
        assert all(x >= 0 for x in parts)


def test_days_off_per_month_are_shared_out_over_the_weeks() -> None:
    c = Contract(id="office", hours_min=0, hours_max=60, days_off_per_month=6)
    p = tiny(days=28, contracts=(c,), shift_types=(shift_type("day", 480, 540, 540, BRK),))
    inst = prepare(p)
    need = month_days_off(c, 28)  # 5 over 28 days
    got = []
    lifted = rolling.Lifted()
    for a, b in rolling.spans(p):
        sub = rolling.piece(inst, a, b, lifted).problem
        contract = next(x for x in sub.contracts if x.id == sub.agents[0].contract)
        share = month_days_off(contract, sub.days)
        got.append(share)
        # the agent works every day of the week but its share
        lifted.chosen[0] += [_option(inst, "day", d) for d in range(a, b - share)]
    assert sum(got) == need
    assert max(got) - min(got) <= 1


def _option(inst: object, type_id: str, day: int) -> int:
    return next(o.index for o in inst.options if o.type_id == type_id and o.day == day)  # type: ignore[attr-defined]


def test_a_week_carries_rest_days_in_a_row_and_the_cover_of_the_night_before() -> None:
    p = _night_fortnight(leave=(annual_leave("a1", range(5, 9)),))
    inst = prepare(p)
    lifted = rolling.Lifted()
    # a0: days 2-5 on days, a night on day 6 (the week's last) reaching 06:00 on day 7
    for d in range(2, 6):
        lifted.chosen[0].append(_option(inst, "day", d))
    night = _option(inst, "night", 6)
    lifted.chosen[0].append(night)
    lifted.breaks[(0, night)] = []
    per_day = DAY // p.slot_minutes
    for t in inst.options[night].slots:
        lifted.channels[(0, 0, t)] += 1
    pc = rolling.piece(inst, 7, 14, lifted)
    sub = pc.problem
    a0 = sub.agents[0]
    assert a0.prior_shift_end == 6 * 60  # 06:00 on the week's first day
    assert a0.prior_consecutive_days == 5
    assert sub.agents[2].prior_consecutive_days == 0
    assert sub.horizon_start.toordinal() == p.horizon_start.toordinal() + 7
    # 00:00-06:00 of day 7 needs 1 and the night covers it: nothing left to cover there
    assert sub.channels[0].required[:6] == (0,) * 6
    assert (
        sub.channels[0].required[8:18] == p.channels[0].required[7 * per_day + 8 : 7 * per_day + 18]
    )
    # the leave is cut to the week, its index kept
    (lv,) = sub.leave
    assert (lv.start, lv.end) == (0, 2 * DAY)
    assert pc.leave == (0,)
    # the week is a problem of its own: its options start on its own first day
    sub_inst = prepare(sub)
    assert all(o.day < 7 for o in sub_inst.options)
    rest = p.rules.min_rest_minutes
    first_day = [o for o in sub_inst.agents[0].options_by_day.get(0, [])]
    assert all(sub_inst.options[o].start >= 360 + rest for o in first_day)


def test_a_request_cut_in_two_is_granted_only_when_both_parts_are() -> None:
    req = requested_leave("a0", range(5, 9))
    p = _night_fortnight(leave=(req,))
    inst = prepare(p)
    lifted = rolling.Lifted()
    for first, end, granted in ((0, 7, True), (7, 14, False)):
        pc = rolling.piece(inst, first, end, lifted)
        sub = prepare(pc.problem)
        rolling.lift(inst, sub, pc, {}, {}, {}, {0: granted}, lifted)
    assert lifted.grants == {0: False}


def test_a_week_keeps_its_own_public_holidays() -> None:
    """Holidays on days 3 and 9 of a fortnight: the second week holds day 9 as its day 2."""
    inst = prepare(_night_fortnight(holidays=(3, 9)))
    assert rolling.piece(inst, 0, 7, rolling.Lifted()).problem.holidays == (3,)
    assert rolling.piece(inst, 7, 14, rolling.Lifted()).problem.holidays == (2,)


def test_a_weeks_shifts_are_lifted_to_the_whole_horizon() -> None:
    p = _night_fortnight()
    inst = prepare(p)
    pc = rolling.piece(inst, 7, 14, rolling.Lifted())
    sub = prepare(pc.problem)
    o = _option(sub, "day", 2)
    start = sub.options[o].first_slot + 4
    lifted = rolling.Lifted()
    k = sub.agents[1].class_index
    rolling.lift(inst, sub, pc, {1: [o]}, {(1, o): [start]}, {(k, 0, start - 1): 1}, {}, lifted)
    (full,) = lifted.chosen[1]
    per_day = DAY // p.slot_minutes
    assert inst.options[full].day == 9
    assert inst.options[full].start == sub.options[o].start + 7 * DAY
    assert lifted.breaks[(1, full)] == [start + 7 * per_day]
    assert lifted.channels == {(inst.agents[1].class_index, 0, start - 1 + 7 * per_day): 1}
    assert lifted.missing == 0


def test_the_week_before_is_repeated_where_each_agents_options_still_hold_it() -> None:
    """a0 worked days on days 1-3 and a night on day 5; a1 days on days 0 and 2 but is on
    leave on days 7-8 (its day 7 shift is dropped, its day 9 one kept), a2 worked nothing.
    Week 2's start repeats each weekday's shifts; the first week has none to repeat."""
    p = _night_fortnight(leave=(annual_leave("a1", range(7, 9)),))
    inst = prepare(p)
    lifted = rolling.Lifted()
    lifted.chosen[0] += [_option(inst, "day", d) for d in (1, 2, 3)] + [_option(inst, "night", 5)]
    lifted.chosen[1] += [_option(inst, "day", d) for d in (0, 2)]
    assert rolling.repeated(inst, inst, rolling.piece(inst, 0, 7, rolling.Lifted()), lifted) == {}
    pc = rolling.piece(inst, 7, 14, lifted)
    sub = prepare(pc.problem)
    start = rolling.repeated(inst, sub, pc, lifted)
    got = {
        a: sorted((sub.options[o].type_id, sub.options[o].day) for o in opts)
        for a, opts in start.items()
    }
    assert got == {0: [("day", 1), ("day", 2), ("day", 3), ("night", 5)], 1: [("day", 2)]}
    for a, opts in start.items():
        for o in opts:
            full = inst.options[
                next(x for x in lifted.chosen[a] if inst.options[x].day == sub.options[o].day)
            ]
            assert sub.options[o].start == full.start  # same time of day, a week later
            assert o in sub.agents[a].options_by_day[sub.options[o].day]


def _training(agent_id: str, day: int) -> Leave:
    """An hour of training (10:00-11:00) on one day: the agent must work a shift holding it."""
    return Leave(
        agent_id=agent_id,
        kind=LeaveKind.training,
        status=LeaveStatus.approved,
        start=day * DAY + 600,
        end=day * DAY + 660,
        whole_days=False,
    )


def test_the_repeated_week_is_topped_up_to_hours_and_training_days() -> None:
    """a1 was on leave all of week 1, so the copy gives it nothing: its usual-less week is
    topped up to the contract's 24 h (three 8-h shifts, rest kept). a2 worked days 0-1 and has
    a training on day 10 (day 3 of week 2), which the copy leaves outside any shift: a shift
    holding it is added, and nothing else beyond its hours."""
    c = Contract(id="ft", hours_min=24, hours_max=40)
    training = _training("a2", 10)
    p = _night_fortnight(contracts=(c,), leave=(annual_leave("a1", range(0, 7)), training))
    inst = prepare(p)
    lifted = rolling.Lifted()
    lifted.chosen[0] += [_option(inst, "day", d) for d in range(3)]
    lifted.chosen[2] += [_option(inst, "day", d) for d in (0, 1, 2)]
    pc = rolling.piece(inst, 7, 14, lifted)
    sub = prepare(pc.problem)
    start = rolling.repeated(inst, sub, pc, lifted)
    week = set(range(7))
    for a in (0, 1, 2):
        opts = sorted(start[a], key=lambda o: sub.options[o].day)
        assert sum(sub.options[o].paid_minutes for o in opts) >= 24 * 60
        assert all(o in sub.agents[a].options_by_day[sub.options[o].day] for o in opts)
        assert (
            len({sub.options[o].day for o in opts}) == len(opts)
            and {sub.options[o].day for o in opts} <= week
        )
        for x, y in itertools.pairwise(opts):
            if sub.options[y].day == sub.options[x].day + 1:
                assert sub.options[x].end + sub.agents[a].min_rest <= sub.options[y].start
    assert len(start[1]) == 3
    assert 3 in {sub.options[o].day for o in start[2]}
    assert len(start[2]) == 4


def test_a_training_day_over_the_weeks_cap_takes_the_place_of_a_copied_day() -> None:
    """a0 worked days 0-4 (five days, the cap with two days off) and has a training on day 12
    (day 5 of week 2): the copy's last day goes so that the training day is worked."""
    c = Contract(id="ft", hours_min=0, hours_max=40, days_off_per_week=2)
    training = _training("a0", 12)
    p = _night_fortnight(contracts=(c,), leave=(training,))
    inst = prepare(p)
    lifted = rolling.Lifted()
    lifted.chosen[0] += [_option(inst, "day", d) for d in range(5)]
    pc = rolling.piece(inst, 7, 14, lifted)
    sub = prepare(pc.problem)
    start = rolling.repeated(inst, sub, pc, lifted)
    assert sorted(sub.options[o].day for o in start[0]) == [0, 1, 2, 3, 5]


def test_a_fortnight_is_solved_a_week_at_a_time_and_validated_whole() -> None:
    p = _night_fortnight(agents=14)
    opts = SolveOptions(time_limit_s=20, workers=2, seed=0, rolling=True)
    r = solve(p, opts)
    assert r.status in (SolveStatus.feasible, SolveStatus.optimal)
    assert "weeks" in r.phases
    assert validate(p, list(r.assignments)).ok
    days = {a.day for a in r.assignments}
    assert days & set(range(7)) and days & set(range(7, 14))
    for choice in (False, None):  # never; or automatic: 5 s is too short for a week at a time
        whole = solve(p, opts.model_copy(update={"rolling": choice, "time_limit_s": 5}))
        assert "weeks" not in whole.phases


def test_a_week_before_the_end_looks_a_day_ahead_as_far_as_its_nights_reach() -> None:
    p = _night_fortnight()
    inst = prepare(p)
    pc = rolling.piece(inst, 0, 7, rolling.Lifted())
    sub = pc.problem
    per_day = DAY // p.slot_minutes
    assert sub.days == 8
    # every agent is off on the look-ahead day: no shift starts there
    ahead = [lv for lv in sub.leave if lv.start == 7 * DAY]
    assert {lv.agent_id for lv in ahead} == {a.id for a in p.agents}
    assert pc.leave == ()
    sub_inst = prepare(sub)
    assert not any(sub_inst.agents[a].options_by_day.get(7) for a in range(len(p.agents)))
    # the night from day 6 reaches 06:00 on day 7: needs up to there, none after
    req = sub.channels[0].required[7 * per_day :]
    assert req[:6] == p.channels[0].required[7 * per_day : 7 * per_day + 6]
    assert req[6:] == (0,) * (per_day - 6)


def test_days_off_per_month_follow_each_agents_leave_and_the_days_off_already_given() -> None:
    """An agent on leave for most of the second week needs its days off in the first: a
    contract-wide share asked two in the second week, where it had two days left and needed a
    shift for its hours."""
    c = Contract(id="pm", hours_min=32, hours_max=40, days_off_per_month=8)
    p = _night_fortnight(contracts=(c,), leave=(annual_leave("a0", range(9, 14)),))
    inst = prepare(p)
    assert month_days_off(c, 14) == 3

    def share(pc: rolling.Piece, agent: int) -> int:
        sub = pc.problem
        contract = next(x for x in sub.contracts if x.id == sub.agents[agent].contract)
        return month_days_off(contract, sub.days)

    first = rolling.piece(inst, 0, 7, rolling.Lifted())
    assert share(first, 0) == 2  # 3 over its 9 days not on leave, 7 of them in this week
    assert share(first, 1) == 2  # no leave: 3 x 7 / 14, rounded
    lifted = rolling.Lifted()
    for d in range(5):  # days 5 and 6 off: two of the three given
        lifted.chosen[0].append(_option(inst, "day", d))
    second = rolling.piece(inst, 7, 14, lifted)
    assert share(second, 0) == 1
    assert share(second, 1) == 0  # a whole week off before gave all three


def test_a_week_at_a_time_is_chosen_when_each_week_gets_its_time() -> None:
    inst = prepare(tiny(days=28))
    auto = SolveOptions(workers=2)
    assert _week_at_a_time(inst, auto, 300.0)  # 4 weeks of 56 s
    assert not _week_at_a_time(inst, auto, 120.0)  # 4 weeks of 22 s: one plan
    assert not _week_at_a_time(prepare(tiny(days=13)), auto, 600.0)  # under two weeks
    assert _week_at_a_time(inst, auto.model_copy(update={"rolling": True}), 10.0)
    assert not _week_at_a_time(inst, auto.model_copy(update={"rolling": False}), 900.0)


def test_a_fairness_ledger_shares_weekends_over_four_weeks() -> None:
    """Four identical weeks in a row, one agent on shift on Saturday and on Sunday (two weekend
    shifts a week, four agents). Solved independently, each week is the same roster, so the same
    agents get the weekends every time: their totals spread by four or more. With each week
    given the earlier weeks' weekend shifts (``Agent.prior_fairness``, the ledger's window),
    the weekends go round: every agent ends with two."""
    req = tuple(1 if (t // 24) in (5, 6) and 8 <= t % 24 < 16 else 0 for t in range(7 * 24))
    base = tiny(
        days=7,
        agents=4,
        shift_types=(shift_type("day", 480, length=480),),
        channels=(Channel(id="phone", kind=ChannelKind.voice, required=req),),
        weights=Weights(under_cover=50, fairness=5),
    )
    options = SolveOptions(time_limit_s=10, workers=1, seed=0, deterministic=True)

    def weekends(result: RosterResult) -> dict[str, int]:
        out = dict.fromkeys((a.id for a in base.agents), 0)
        for sh in result.assignments:
            out[sh.agent_id] += int(base.weekday(sh.day) >= 5)
        return out

    independent = dict.fromkeys((a.id for a in base.agents), 0)
    ledger: list[dict[str, int]] = []
    for _week in range(4):
        for a, n in weekends(solve(base, options)).items():
            independent[a] += n
        window = ledger[-3:]  # the three weeks before this one
        agents = tuple(
            a.model_copy(update={"prior_fairness": {"weekend": sum(w[a.id] for w in window)}})
            for a in base.agents
        )
        result = solve(base.model_copy(update={"agents": agents}), options)
        assert result.status in (SolveStatus.optimal, SolveStatus.feasible)
        ledger.append(weekends(result))
    rolled = {a.id: sum(w[a.id] for w in ledger) for a in base.agents}
    assert sum(rolled.values()) == sum(independent.values()) == 8
    assert max(independent.values()) - min(independent.values()) >= 4
    assert max(rolled.values()) - min(rolled.values()) == 0
