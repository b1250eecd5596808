"""A re-plan's events turned into the problem: absences, the trainings they cancel, pins."""

from __future__ import annotations

from conftest import TESTS

from api.pipeline.prepare import prepare_scenario
from api.pipeline.replan import check_events, field_path, replan_prepared
from common.enums import LeaveKind
from solver.schema import DAY

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
