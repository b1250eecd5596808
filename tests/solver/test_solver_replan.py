"""Re-planning a published roster: start from it, keep the frozen past, pay for changes."""

from __future__ import annotations

from roster_factory import annual_leave, tiny

from solver.options import SolveOptions
from solver.prep import prepare
from solver.refine import state_from
from solver.schema import (
    DAY,
    KeptShift,
    Pinned,
    RosterProblem,
    SolveStatus,
    Weights,
    WorkSegment,
)
from solver.solve import solve
from solver.validate import validate

OPTIONS = SolveOptions(time_limit_s=5, workers=2, seed=0)


def _replan_problem(base: RosterProblem, published: list, absent: str, frozen_day: int):  # type: ignore[no-untyped-def]
    """The base problem with ``absent`` off from ``frozen_day`` on, the shifts before it
    pinned, every later published shift and day off kept (softly)."""
    pins, kept = [], []
    worked = {(sh.agent_id, sh.day): sh for sh in published}
    for a in base.agents:
        for d in range(base.days):
            sh = worked.get((a.id, d))
            if d < frozen_day:
                if sh is not None:
                    pins.append(
                        Pinned(
                            agent_id=a.id,
                            day=d,
                            shift_type=sh.shift_type,
                            start=sh.start - d * DAY,
                            length=sh.length,
                        )
                    )
            elif sh is None:
                kept.append(KeptShift(agent_id=a.id, day=d))
            else:
                kept.append(
                    KeptShift(
                        agent_id=a.id,
                        day=d,
                        shift_type=sh.shift_type,
                        start=sh.start - d * DAY,
                        length=sh.length,
                    )
                )
    return base.model_copy(
        update={
            "leave": (*base.leave, annual_leave(absent, range(frozen_day, base.days))),
            "pinned": tuple(pins),
            "kept": tuple(kept),
            "frozen_until": frozen_day * DAY,
            "weights": base.weights.model_copy(update={"change": 30.0}),
        }
    )


def test_a_re_plan_keeps_the_past_drops_the_absent_and_changes_little() -> None:
    """Six agents over three days; a2 falls ill from day 2. Re-planned from the published
    roster: days 0-1 exactly as published, a2 off from day 2, the roster valid, and fewer
    shifts changed than a fresh solve of the same problem changes."""
    base = tiny(days=3, agents=6, weights=Weights(under_cover=10))
    published = list(solve(base, OPTIONS).assignments)
    assert published
    problem = _replan_problem(base, published, "a2", 2)
    result = solve(problem, OPTIONS, start=published)
    assert result.status in (SolveStatus.optimal, SolveStatus.feasible), result.message
    after = list(result.assignments)
    assert validate(problem, after).ok
    assert not [sh for sh in after if sh.agent_id == "a2" and sh.day >= 2]

    def shifts(roster: list, days: range) -> set:  # type: ignore[type-arg]
        return {(sh.agent_id, sh.day, sh.start, sh.length) for sh in roster if sh.day in days}

    assert shifts(after, range(2)) == shifts(published, range(2))
    fresh = list(solve(problem.model_copy(update={"kept": ()}), OPTIONS).assignments)
    before = shifts(published, range(2, 3))
    changed = len(before ^ shifts(after, range(2, 3)))
    assert changed <= len(before ^ shifts(fresh, range(2, 3)))
    assert changed <= 2  # a2's shift gone, at most one other moved to cover it


def test_no_new_shift_starts_before_the_frozen_time() -> None:
    """Frozen until day 1: an agent not on shift on day 0 stays off it even when cover is
    short there; the validator names a shift that breaks it."""
    base = tiny(days=2, agents=2, required={range(6, 22): 2})
    p = base.model_copy(update={"frozen_until": DAY})
    result = solve(p, OPTIONS, start=[])
    assert not [sh for sh in result.assignments if sh.day == 0]
    free = solve(base, OPTIONS)
    day0 = [sh for sh in free.assignments if sh.day == 0]
    assert day0
    assert [x.rule for x in validate(p, day0).violations if x.rule == "frozen"]


def test_a_published_roster_whose_segments_overlap_its_breaks_still_starts_a_re_plan() -> None:
    """Work segments over the whole shift (its lunch included, as a hand-edited file may
    have them): the start state takes no more agents per channel and slot than are free."""
    base = tiny(days=1, agents=3)
    published = list(solve(base, OPTIONS).assignments)
    assert published
    sh = published[0]
    whole = sh.model_copy(
        update={"work": (WorkSegment(start=sh.start, end=sh.end, channel="phone"),)}
    )
    state = state_from(prepare(base), [whole, *published[1:]])
    assert state.chosen and not [x for x in state.validation.violations if x.rule == "work"]
