"""Scenario files -> typed scenario: extends and deep merge, paths, CSV inputs, windows, and how
a scenario maps onto the solver's problem (requirement, deferred work, floors, roles, leave)."""

from __future__ import annotations

import itertools
import textwrap
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import TESTS

from api.errors import InputError
from api.pipeline.outcome import options_for
from api.pipeline.prepare import prepare_scenario
from api.scenario.loader import load_scenario
from api.scenario.timewin import WindowError, parse_clock, parse_window
from api.scenario.yamlsrc import load_tree
from common.enums import ChannelKind, LeaveKind, LeaveStatus
from forecast.staffing import plan_arrays
from solver.schema import DAY

HERE = TESTS
SMALL = HERE / "scenarios" / "small" / "small.yaml"
SCENARIOS = HERE.parent / "scenarios"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        prepare_scenario(path)
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- every example
@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_scenario_loads_and_validates(path: Path) -> None:
    prepared = prepare_scenario(path)
    assert prepared.problem.agents
    assert prepared.problem.n_slots == prepared.scenario.n_slots


def test_what_ifs_change_what_they_say() -> None:
    base = prepare_scenario(SCENARIOS / "base.yaml")
    up = prepare_scenario(SCENARIOS / "what-if-volume-up.yaml")
    for ch in ("phone", "chat", "messages"):
        assert up.demand[ch].total_volume == pytest.approx(1.15 * base.demand[ch].total_volume)
    sl = prepare_scenario(SCENARIOS / "what-if-higher-service-level.yaml")
    assert sl.demand["phone"].targets.service_level == 0.9
    assert sl.demand["phone"].targets.answer_seconds == 20  # merged, not replaced
    assert sl.scenario.channel("phone").max_occupancy == 0.88
    assert sum(sl.problem.channels[0].required) > sum(base.problem.channels[0].required)
    fewer = prepare_scenario(SCENARIOS / "what-if-fewer-agents.yaml")
    assert len(fewer.problem.agents) == len(base.problem.agents) - 5
    nights = prepare_scenario(SCENARIOS / "what-if-no-part-time-nights.yaml")
    pt = next(c for c in nights.problem.contracts if c.id == "part_time")
    assert pt.night_shifts is False and pt.shift_types == ("short", "evening")
    ft = next(c for c in nights.problem.contracts if c.id == "full_time")
    assert ft.hours_min == 37.5  # other contracts untouched
    assert base.sha256 != up.sha256


def test_base_week_shape() -> None:
    s = load_scenario(SCENARIOS / "base.yaml").scenario
    assert 55 <= len(s.agents) <= 65
    roles = {r for a in s.agents for r in a.roles}
    assert {"team_lead", "complaints"} <= roles
    chat = s.channel("chat")
    assert chat.concurrency == 3
    msg = s.channel("messages")
    assert msg.deadline_minutes == 60 and msg.overnight_deadline == "10:00"
    office = next(t for t in s.shift_types if t.id == "office")
    lunch = next(b for b in office.breaks if b.name == "lunch")
    assert lunch.latest - lunch.earliest == 90 and not lunch.paid
    assert all(t.briefing_minutes == 10 for t in s.shift_types)
    assert {lv.status.value for lv in s.leave} == {"approved", "requested"}
    assert next(c for c in s.contracts if c.id == "office").days_off.per_month == 6


# --------------------------------------------------------------------------- extends
def test_extends_merges_by_id_and_resolves_paths_against_each_file(tmp_path: Path) -> None:
    sub = tmp_path / "whatif"
    sub.mkdir()
    write(sub / "phone2.csv", (HERE / "scenarios/small/phone.csv").read_text(encoding="utf-8"))
    f = write(
        sub / "w.yaml",
        f"""\
        extends: {SMALL}
        name: what if
        channels:
          - {{id: phone, demand: {{forecast_file: phone2.csv, volume_scale: 2}}}}
          - {{id: messages, remove: true}}
        agents: {HERE / "scenarios/small/agents.csv"}
        objective: {{over_cover: 2}}
        """,
    )
    tree = load_tree(f).root.plain()
    assert [c["id"] for c in tree["channels"]] == ["phone", "chat"]
    phone = tree["channels"][0]
    assert phone["demand"] == {"forecast_file": "phone2.csv", "volume_scale": 2}
    assert phone["service_level"] == {"target": 0.8, "answer_seconds": 20}  # inherited
    assert tree["objective"] == {"under_cover": 10, "over_cover": 2}
    assert tree["name"] == "what if" and tree["horizon"]["days"] == 2
    # agents with messages as a skill now point at a removed channel: located in agents.csv
    found = problems(f)
    assert found and all("agents.csv" in p and "unknown channel 'messages'" in p for p in found)
    # without the removal, paths resolve against the file that names them
    write(f, f.read_text(encoding="utf-8").replace("  - {id: messages, remove: true}\n", ""))
    s = load_scenario(f).scenario
    assert s.channel("phone").demand.forecast_file == sub / "phone2.csv"
    assert s.channel("chat").demand.forecast_file == SMALL.parent / "chat.csv"
    assert s.objective.over_cover == 2 and s.objective.under_cover == 10


def test_extends_chain_and_lists_without_ids_replace(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", f"extends: {SMALL}\nname: a\nmin_staff: []\n")
    b = write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\nshrinkage: 0.2\n")
    s = load_scenario(b).scenario
    assert s.name == "b" and s.shrinkage == 0.2 and s.min_staff == []


def test_times_stay_strings_even_unquoted(tmp_path: Path) -> None:
    f = write(
        tmp_path / "t.yaml",
        f"""\
        extends: {SMALL}
        shift_types:
          - id: early
            start: {{earliest: 07:00, latest: 08:00}}
        """,
    )
    t = load_scenario(f).scenario.shift_types[0]
    assert (t.start.earliest, t.start.latest) == ("07:00", "08:00")


def test_all_problems_at_once(tmp_path: Path) -> None:
    f = write(
        tmp_path / "many.yaml",
        f"""\
        extends: {SMALL}
        objective: {{under_cover: -5, over_cover: -1}}
        solver: {{time_limit_secnds: 5}}
        """,
    )
    found = problems(f)
    assert len(found) == 3
    assert any("did you mean 'time_limit_seconds'" in p for p in found)


# --------------------------------------------------------------------------- windows, csv
def test_windows() -> None:
    assert parse_clock("08:30") == 510
    with pytest.raises(WindowError):
        parse_clock("25:00")
    w = parse_window({"mon-fri": "08:00-22:00", "sat-sun": "closed"})
    mask = w.mask(0, 7, 60)  # Monday start, hourly
    assert mask[8] and mask[21] and not mask[22] and not mask[7]
    assert not any(mask[5 * 24 : 7 * 24])
    night = parse_window("22:00-06:00").mask(0, 2, 60)
    assert night[22] and night[23] and night[24 + 5] and not night[6] and not night[24 + 6]
    assert parse_window("24x7").always
    assert parse_window("mon-fri 09:00-18:00").mask(5, 2, 60) == (False,) * 48  # Sat, Sun
    with pytest.raises(WindowError):
        parse_window({"mon-fri": "08:00-12:00", "fri": "09:00-10:00"})


def test_csv_inputs(tmp_path: Path) -> None:
    s = load_scenario(SMALL).scenario
    a3 = next(a for a in s.agents if a.id == "A03")
    assert a3.skill_ids == ("chat", "messages") and a3.skill_levels == (2, 1)
    training = s.leave[2]
    assert training.kind is LeaveKind.training and not training.whole_days
    assert training.start == datetime(2026, 12, 7, 13, 0)
    assert s.leave[0].start == date(2026, 12, 8) and s.leave[0].whole_days


def test_agents_csv_optional_columns_and_x_columns(tmp_path: Path) -> None:
    src = (HERE / "scenarios/small/agents.csv").read_text(encoding="utf-8").splitlines()
    rows = [src[0] + ",unavailable_days,night_shifts,x_comment"]
    rows += [line + ",sun,false,hello" for line in src[1:]]
    write(tmp_path / "agents.csv", "\n".join(rows) + "\n")
    f = write(tmp_path / "s.yaml", f"extends: {SMALL}\nagents: agents.csv\nleave: []\n")
    p = prepare_scenario(f)
    assert all(a.unavailable_weekdays == (6,) and a.night_shifts is False for a in p.problem.agents)


# --------------------------------------------------------------------------- mapping
def test_requirement_is_the_staffing_plan_after_shrinkage_and_closed_hours() -> None:
    p = prepare_scenario(SMALL)
    s = p.scenario
    phone = p.problem.channels[0]
    d = p.demand["phone"]
    ref = plan_arrays(d.volume, d.aht_seconds, 1800.0, d.targets)
    assert d.targets.shrinkage == 0.1 and d.targets.max_occupancy == 0.9
    open_ = np.asarray(d.work_mask) & np.asarray(p.rosterable)
    assert list(phone.required) == list(np.where(open_, ref.agents_required, 0))
    assert len(phone.open) == s.n_slots and not phone.open[0] and phone.open[16]  # 08:00
    assert phone.min_staff[16] == 1 and phone.min_staff[0] == 0
    chat = p.problem.channels[1]
    assert chat.kind is ChannelKind.chat and len(chat.required) == s.n_slots


def test_deferred_work_classes() -> None:
    p = prepare_scenario(SMALL)
    msg = p.problem.channels[2]
    assert msg.kind is ChannelKind.deferred and msg.deferred is not None
    d = p.demand["messages"]
    slot_s = 1800.0
    total = float((d.volume * d.aht_seconds).sum() / slot_s / ((1 - 0.1) * 1.0))
    arrived = sum(c[-1] for c in msg.deferred.arrived)
    assert arrived <= total + 1e-6
    assert arrived > 0.5 * total  # what is due after the horizon is carried over, not required
    for arr, due in zip(msg.deferred.arrived, msg.deferred.due, strict=True):
        assert all(x <= y + 1e-9 for x, y in zip(due, arr, strict=True))
        assert all(b >= a for a, b in itertools.pairwise(arr))
    assert len(msg.deferred.arrived) == 2  # regular and overnight
    assert msg.open and not msg.open[2]  # work hours 07:00-21:00


def test_roles_leave_and_briefing() -> None:
    p = prepare_scenario(SMALL)
    (role,) = p.problem.roles
    assert role.role == "team_lead" and role.slots[18] and not role.slots[17]  # 09:00-19:00
    lv = p.problem.leave
    assert lv[0].start == 1 * DAY and lv[0].end == 2 * DAY and lv[0].whole_days
    assert lv[1].status is LeaveStatus.requested
    assert (lv[2].start, lv[2].end, lv[2].whole_days) == (13 * 60, 14 * 60, False)
    early = p.problem.shift_types[0]
    assert early.briefing_minutes == 30  # 10 minutes occupy the first 30-minute slot


def test_leave_outside_the_horizon_is_left_out_and_pinned_maps(tmp_path: Path) -> None:
    write(
        tmp_path / "leave.csv",
        """\
        agent_id,start,end,kind,status
        A01,2026-12-01,2026-12-03,annual,approved
        A02,2026-12-06,2026-12-07,annual,approved
        A03,2026-12-08T20:00,2026-12-09T08:00,other,requested
        """,
    )
    write(tmp_path / "pinned.csv", "agent_id,date,shift_type,start\nA04,2026-12-08,late,12:30\n")
    f = write(tmp_path / "s.yaml", f"extends: {SMALL}\nleave: leave.csv\npinned: pinned.csv\n")
    p = prepare_scenario(f)
    assert p.leave_index == (1, 2)
    a, b = p.problem.leave
    assert (a.start, a.end) == (0, DAY)  # clipped to the horizon
    assert (b.start, b.end) == (DAY + 20 * 60, 2 * DAY)
    (pin,) = p.problem.pinned
    assert (pin.agent_id, pin.day, pin.shift_type, pin.start) == ("A04", 1, "late", 750)


def test_pinned_problems(tmp_path: Path) -> None:
    write(
        tmp_path / "pinned.csv",
        "agent_id,date,shift_type,start\n"
        "A04,2026-12-20,late,\nA07,2026-12-07,early,\nA01,2026-12-07,late,12:10\n",
    )
    f = write(tmp_path / "s.yaml", f"extends: {SMALL}\npinned: pinned.csv\n")
    found = problems(f)
    assert any("pinned.csv:2 column date" in p and "outside the horizon" in p for p in found)
    assert any("pinned.csv:3" in p and "does not allow early" in p for p in found)
    assert any("pinned.csv:4 column start" in p and "not an allowed start" in p for p in found)


def test_training_must_fit_a_shift(tmp_path: Path) -> None:
    write(
        tmp_path / "leave.csv",
        "agent_id,start,end,kind,status\nA07,2026-12-07T08:00,2026-12-07T09:00,training,approved\n",
    )
    f = write(tmp_path / "s.yaml", f"extends: {SMALL}\nleave: leave.csv\n")
    (p,) = problems(f)
    assert "leave.csv:2" in p and "fits in no shift" in p and "part_time" in p


def test_demand_must_cover_open_hours(tmp_path: Path) -> None:
    lines = (HERE / "scenarios/small/phone.csv").read_text(encoding="utf-8").splitlines()
    write(tmp_path / "phone.csv", "\n".join(lines[:60]) + "\n")  # ends on the second morning
    f = write(
        tmp_path / "s.yaml",
        f"extends: {SMALL}\nchannels:\n  - {{id: phone, demand: {{forecast_file: phone.csv}}}}\n",
    )
    (p,) = problems(f)
    assert "channels[phone].demand.forecast_file" in p and "no demand for" in p


def test_min_staff_while_closed(tmp_path: Path) -> None:
    f = write(
        tmp_path / "s.yaml",
        f"extends: {SMALL}\nmin_staff:\n  - {{channel: phone, "
        "count: 1, when: always}\nchannels:\n  - {id: phone, open: '08:00-20:00'}\n",
    )
    (p,) = problems(f)
    assert "min_staff[0].when" in p and "closed" in p


def test_kind_specific_keys(tmp_path: Path) -> None:
    f = write(
        tmp_path / "s.yaml",
        f"""\
        extends: {SMALL}
        channels:
          - {{id: phone, concurrency: 2, deadline_minutes: 30}}
          - {{id: messages, service_level: {{target: 0.9}}}}
        """,
    )
    found = problems(f)
    assert any("channels[phone].concurrency" in p for p in found)
    assert any("channels[phone].deadline_minutes" in p for p in found)
    assert any("channels[messages].service_level" in p for p in found)


def test_history_file_is_forecast_first(tmp_path: Path) -> None:
    from forecast_helpers import synthetic, write_history

    rec = synthetic(days=56, start=date(2026, 10, 12), daily=300.0)  # to Sun 2026-12-06
    write_history(tmp_path / "history.csv", rec)
    f = write(
        tmp_path / "s.yaml",
        f"""\
        extends: {SMALL}
        channels:
          - id: phone
            demand: {{history_file: history.csv, method: profile, forecast_file: null}}
        """,
    )
    p = prepare_scenario(f)
    d = p.demand["phone"]
    assert d.source.startswith("history") and "profile" in d.source
    assert d.total_volume > 0 and len(d.volume) == p.scenario.n_slots
    bad = write(
        tmp_path / "bad.yaml",
        f"""\
        extends: {SMALL}
        channels:
          - id: phone
            demand: {{history_file: history.csv, method: nonsense, forecast_file: null}}
        """,
    )
    (msg,) = problems(bad)
    assert "channels[phone].demand.history_file" in msg and "nonsense" in msg


def test_solver_deterministic_reaches_the_solve_options(tmp_path: Path) -> None:
    f = write(tmp_path / "d.yaml", f"extends: {SMALL}\nsolver: {{deterministic: true}}\n")
    s = load_scenario(f).scenario
    assert options_for(s).deterministic is True
    assert options_for(load_scenario(SMALL).scenario).deterministic is False
    write(f, f"extends: {SMALL}\nsolver: {{deterministic: sometimes}}\n")
    found = problems(f)
    assert found and any("deterministic" in p for p in found)


def test_solver_week_at_a_time_reaches_the_solve_options(tmp_path: Path) -> None:
    assert options_for(load_scenario(SMALL).scenario).rolling is None
    for text, want in (("true", True), ("false", False)):
        f = write(tmp_path / "w.yaml", f"extends: {SMALL}\nsolver: {{week_at_a_time: {text}}}\n")
        assert options_for(load_scenario(f).scenario).rolling is want
    write(f, f"extends: {SMALL}\nsolver: {{week_at_a_time: weekly}}\n")
    found = problems(f)
    assert found and any("week_at_a_time" in p for p in found)


def test_public_holidays_become_the_problems_holiday_days(tmp_path: Path) -> None:
    """A country's public holidays and the centre's own dates, as days of the horizon (which
    starts on Monday 7 December for two days); dates outside it are ignored."""
    italy = write(
        tmp_path / "italy.yaml",
        f"""\
        extends: {SMALL}
        horizon:
          public_holidays: {{country: IT}}
        """,
    )
    # 8 December, the Immaculate Conception, is a public holiday in Italy
    assert prepare_scenario(italy).problem.holidays == (1,)
    own = write(
        tmp_path / "own.yaml",
        f"""\
        extends: {SMALL}
        horizon:
          public_holidays: {{dates: [2026-12-07, 2027-01-01]}}
        """,
    )
    assert prepare_scenario(own).problem.holidays == (0,)
    assert prepare_scenario(SMALL).problem.holidays == ()


def test_a_date_that_does_not_exist_is_an_error_at_its_line(tmp_path: Path) -> None:
    """YAML reads 2026-02-30 as a date and fails on it: an error naming the file and line, not
    a traceback."""
    f = write(tmp_path / "bad.yaml", "name: x\nhorizon:\n  start: 2026-02-30\n  days: 7\n")
    with pytest.raises(InputError) as exc:
        load_tree(f)
    [problem] = exc.value.problems
    assert problem.where.endswith("bad.yaml:3")
    assert "'2026-02-30' is not a valid date" in problem.message
