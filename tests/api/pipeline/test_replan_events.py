"""A re-plan's events turned into the problem: absences, the trainings they cancel, pins."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TESTS

from api.errors import InputError
from api.pipeline.prepare import prepare_scenario
from api.pipeline.replan import check_events, field_path, replan_prepared
from common.enums import LeaveKind
from solver.schema import DAY, ShiftAssignment

SMALL = TESTS / "scenarios" / "small" / "small.yaml"


def test_an_absence_cancels_the_training_it_overlaps_and_frees_the_agent() -> None:
    """A06 has a training on Monday 13:00-14:00 (which makes them work that day); absent from
    12:00, the training goes with the absence (sick), so nothing forces a shift."""
    prepared = prepare_scenario(SMALL)
    events = check_events(
        {
            "frozen_until": "2026-12-07T06:00",
            "events": [
                {"absence": {"agent": "A06", "from": "2026-12-07T12:00", "to": "2026-12-08T00:00"}}
            ],
        },
        field_path,
    )
    out = replan_prepared(prepared, events, [], "events.yaml")
    mine = [lv for lv in out.problem.leave if lv.agent_id == "A06"]
    assert not [lv for lv in mine if lv.on_shift and lv.start < DAY]
    assert [lv.kind for lv in mine].count(LeaveKind.sick) == 2  # the absence and the training
    assert out.problem.frozen_until == 6 * 60
    assert len(out.problem.leave) == len(prepared.problem.leave) + 1  # indices kept


def _shift(agent: str, day: int, start: int) -> ShiftAssignment:
    return ShiftAssignment(
        agent_id=agent,
        day=day,
        shift_type="early",
        start=day * DAY + start,
        length=480,
        paid_minutes=450,
    )


def test_a_pinned_shift_is_kept_exactly_and_a_bad_pin_is_named() -> None:
    """A pin keeps the agent's published shift of that day as a hard pin (like a frozen one);
    a pin of an unknown agent, a day outside the horizon, a day off or a shift the same
    re-plan's absence overlaps is refused, each at its field."""
    prepared = prepare_scenario(SMALL)
    published = [_shift("A01", 1, 420), _shift("A02", 0, 420)]

    def events(*pins: dict[str, str], absence: dict[str, str] | None = None) -> Any:
        body = [{"pin": p} for p in pins] + ([{"absence": absence}] if absence else [])
        return check_events({"frozen_until": "2026-12-07T06:00", "events": body}, field_path)

    out = replan_prepared(prepared, events({"agent": "A01", "date": "2026-12-08"}), published, "e")
    pins = [p for p in out.problem.pinned if p.agent_id == "A01"]
    assert [(p.day, p.shift_type, p.start, p.length) for p in pins] == [(1, "early", 420, 480)]
    kept = {(k.agent_id, k.day) for k in out.problem.kept if k.shift_type}
    assert ("A02", 0) in kept and ("A01", 1) not in kept  # the other shift only kept at a cost
    assert any("1 pinned" in n for n in out.notes)
    bad = events(
        {"agent": "Z99", "date": "2026-12-08"},
        {"agent": "A01", "date": "2027-01-08"},
        {"agent": "A01", "date": "2026-12-07"},
        {"agent": "A02", "date": "2026-12-07"},
        absence={"agent": "A02", "from": "2026-12-07T06:00", "to": "2026-12-07T12:00"},
    )
    with pytest.raises(InputError) as exc:
        replan_prepared(prepared, bad, published, "e")
    found = {p.where: p.message for p in exc.value.problems}
    assert "unknown agent 'Z99'" in found["e events[0].pin.agent"]
    assert "outside the horizon" in found["e events[1].pin.date"]
    assert "no published shift on Mon 07 Dec" in found["e events[2].pin"]
    assert "overlaps their absence" in found["e events[3].pin"]
    with pytest.raises(InputError) as exc:
        check_events(
            {"frozen_until": "2026-12-07T06:00", "events": [{"pin": {"agent": "A01"}}]}, field_path
        )
    assert [p.where for p in exc.value.problems] == ["events[0].pin.date"]
