"""calendars/AGENT_ID.ics: one iCalendar file per agent (shifts with their breaks, and leave)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from api.pipeline.outcome import Outcome
from api.reports import tables


def _event(
    uid: str,
    summary: str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    description: str = "",
    categories: str = "",
    sequence: int = 0,
) -> Event:
    ev = Event()
    ev.add("uid", uid)
    if sequence:
        ev.add("sequence", sequence)
    ev.add("summary", summary)
    ev.add("dtstart", start.replace(tzinfo=tz))
    ev.add("dtend", end.replace(tzinfo=tz))
    ev.add("dtstamp", datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")))
    if description:
        ev.add("description", description)
    if categories:
        ev.add("categories", categories)
    return ev


def published_sequence(folder: Path) -> int:
    """The highest SEQUENCE of the events in a published solve's calendars (0: none)."""
    best = 0
    for path in sorted(folder.glob("*.ics")):
        try:
            cal = Calendar.from_ical(path.read_bytes())
        except ValueError:
            continue
        for ev in cal.walk("VEVENT"):
            best = max(best, int(ev.get("sequence", 0)))
    return best


def write_calendars(folder: Path, o: Outcome, sequence: int = 0) -> list[Path]:
    """Write one calendar per agent (every agent, even one with no shifts); returns the paths.
    ``sequence``: the events' SEQUENCE (a re-plan's is one above the published calendars', with
    the same UIDs, so calendar clients update the events rather than add them again)."""
    s = o.prepared.scenario
    tz = ZoneInfo(s.horizon.timezone)
    folder.mkdir(parents=True, exist_ok=True)
    key = o.prepared.sha256[:12]
    shifts = defaultdict(list)
    for a in o.result.assignments:
        shifts[a.agent_id].append(a)
    leave = defaultdict(list)
    for act in tables.leave_activities(o):
        leave[act.agent_id].append(act)
    paths = []
    briefing_real = {t.id: t.briefing_minutes for t in s.shift_types}
    for agent in s.agents:
        cal = Calendar()
        cal.add("prodid", "-//wfm-optimizer//roster//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", f"Roster {agent.name or agent.id} - {s.name}")
        for a in sorted(shifts[agent.id], key=lambda x: x.start):
            acts = tables.shift_activities(o, a)
            lines = []
            for x in acts:
                text = f"{x.start:%H:%M}-{x.end:%H:%M} {x.activity}"
                if x.channel:
                    text += f" ({x.channel})"
                if x.activity == "briefing" and briefing_real.get(a.shift_type):
                    text += f", {briefing_real[a.shift_type]} min"
                lines.append(text)
            lines.append(f"paid: {a.paid_minutes / 60:g} h")
            start, end = s.minute_time(a.start), s.minute_time(a.end)
            uid = hashlib.sha1(f"{key}-{agent.id}-{a.day}".encode()).hexdigest() + "@wfm"
            cal.add_component(
                _event(
                    uid,
                    f"{a.shift_type} shift {start:%H:%M}-{end:%H:%M}",
                    start,
                    end,
                    tz,
                    "\n".join(lines),
                    "shift",
                    sequence,
                )
            )
        for i, act in enumerate(leave[agent.id]):
            uid = hashlib.sha1(f"{key}-{agent.id}-leave-{i}".encode()).hexdigest() + "@wfm"
            cal.add_component(_event(uid, "leave", act.start, act.end, tz, "", "leave", sequence))
        cal.add_missing_timezones()
        path = folder / f"{agent.id}.ics"
        path.write_bytes(cal.to_ical())
        paths.append(path)
    return paths
