"""Regenerate the example scenarios' data (deterministic): python -m benchmarks.make_scenarios.

Writes scenarios/data/: demand forecasts for the base week (phone, chat, messages; 15-minute
intervals, a 7x24 retail-bank profile), agents.csv (60 agents), agents-minus-5.csv (the what-if
with five fewer agents) and leave.csv (an HR export with approved and requested leave, some of it
outside the week); for ``scenarios/month.yaml`` each channel's week four times over at volume
x1.00, 1.05, 0.95 and 1.10 (``CHANNEL-month.csv``) and leave-month.csv (leave across the month,
the Christmas and New Year holidays included, some of it beyond the month's edges). Daily volumes
are chosen so that the agent-hours to schedule are about 85 % of what the agents can work after
breaks, briefings and leave.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np

from benchmarks.demand import generate
from common.enums import ChannelKind
from forecast.schema import StaffingTargets
from forecast.staffing import plan_arrays

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scenarios" / "data"
START = datetime(2026, 12, 7)
SLOT = 15
SHRINKAGE = 0.15
TARGETS = {
    "phone": StaffingTargets(
        kind=ChannelKind.voice,
        service_level=0.8,
        answer_seconds=20,
        max_occupancy=0.88,
        shrinkage=SHRINKAGE,
    ),
    "chat": StaffingTargets(
        kind=ChannelKind.chat,
        service_level=0.9,
        answer_seconds=30,
        concurrency=3,
        max_occupancy=0.88,
        shrinkage=SHRINKAGE,
    ),
    "messages": StaffingTargets(
        kind=ChannelKind.deferred,
        service_level=None,
        deadline_minutes=60,
        overnight_deadline=time(10, 0),
        shrinkage=SHRINKAGE,
    ),
}
AHT = {"phone": 300.0, "chat": 480.0, "messages": 240.0}
SEED = {"phone": 11, "chat": 12, "messages": 13}
# agent-hours to schedule per channel in the week (about 85 % of the supply, shared out)
HOURS = {"phone": 900.0, "chat": 460.0, "messages": 260.0}


def _hours(channel: str, daily: float) -> tuple[float, list[datetime], np.ndarray, np.ndarray]:
    starts, vol, aht = generate(START, 7, SLOT, daily, AHT[channel], SEED[channel])
    minutes = np.array([s.hour * 60 + s.minute for s in starts])
    staffed = None
    if channel == "messages":
        staffed = list((minutes >= 7 * 60) & (minutes < 22 * 60))
    plan = plan_arrays(vol, np.where(vol > 0, aht, 0.0), SLOT * 60.0, TARGETS[channel], staffed)
    return float(plan.agents_required.sum() * SLOT / 60), starts, vol, aht


def demand() -> None:
    for channel, target in HOURS.items():
        lo, hi = 10.0, 20000.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if _hours(channel, mid)[0] < target:
                lo = mid
            else:
                hi = mid
        hours, starts, vol, aht = _hours(channel, lo)
        path = DATA / f"{channel}.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["interval_start", "volume", "aht_seconds"])
            for s, v, h in zip(starts, vol, aht, strict=True):
                w.writerow([s.isoformat(timespec="minutes"), int(v), f"{h:g}"])
        print(
            f"wrote {path}: {vol.sum():,.0f} contacts a week, {hours:,.0f} agent-hours to schedule"
        )


FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kofi",
    "Lena",
    "Marco",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Xena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Silva",
    "Okafor",
    "Wei",
    "Levi",
    "Novak",
    "Moreau",
    "Tanaka",
    "Berg",
    "Costa",
    "Park",
    "Mensah",
    "Fischer",
    "Rossi",
    "Ahmed",
    "Haddad",
    "Lund",
    "Reyes",
    "Kowalski",
    "Ito",
    "Nair",
    "Dubois",
    "Sato",
    "Young",
]


def agents() -> list[list[str]]:
    rng = random.Random(7)
    rows: list[list[str]] = []
    plan = (  # contract, count, team leads, complaints desk, skill mix
        ("full_time", 30, 7, 1, ["phone"] * 15 + ["chat"] * 10 + ["messages"] * 5),
        ("nights", 10, 5, 0, ["phone"] * 6 + ["chat"] * 4),
        ("part_time", 12, 0, 0, ["phone"] * 7 + ["chat"] * 5),
        ("office", 8, 0, 4, ["messages"] * 8),
    )
    n = 0
    for contract, count, leads, complaints, mix in plan:
        for i in range(count):
            n += 1
            primary = mix[i % len(mix)]
            skills = [primary]
            if contract == "office":
                skills.append("phone")
            elif rng.random() < 0.4:
                skills.append(
                    rng.choice([c for c in ("phone", "chat", "messages") if c != primary])
                )
            if i < leads and "phone" not in skills:
                skills.append("phone")
            roles = []
            if i < leads:
                roles.append("team_lead")
            if (contract == "office" and i < complaints) or (
                contract == "full_time" and i == count - 1
            ):
                roles.append("complaints")
            team = {
                "full_time": "day",
                "nights": "night",
                "part_time": "flex",
                "office": "back office",
            }[contract]
            if contract == "full_time":
                team = "day-a" if i % 2 else "day-b"
            skills_text = ";".join(
                f"{s}:2" if j == 0 and rng.random() < 0.3 else s for j, s in enumerate(skills)
            )
            prefs = ""
            if contract == "full_time" and i >= leads and rng.random() < 0.3:
                prefs = rng.choice(["early", "day", "late"])
            unavailable = "sun" if contract == "part_time" and i % 4 == 0 else ""
            name = f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]}"
            rows.append(
                [
                    f"A{n:03d}",
                    name,
                    team,
                    contract,
                    skills_text,
                    ";".join(roles),
                    prefs,
                    unavailable,
                ]
            )
    return rows


def write_agents(rows: list[list[str]]) -> None:
    header = [
        "id",
        "name",
        "team",
        "contract",
        "skills",
        "roles",
        "preferred_shift_types",
        "unavailable_days",
    ]
    for name, subset in (
        ("agents.csv", rows),
        ("agents-minus-5.csv", [r for r in rows if r[0] not in MINUS_5]),
    ):
        path = DATA / name
        with path.open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(subset)
        print(f"wrote {path}: {len(subset)} agents")


MINUS_5 = {"A012", "A020", "A027", "A045", "A050"}  # three day agents, two part-timers

LEAVE = [  # agent, start, end, kind, status
    ("A004", "2026-12-07", "2026-12-09", "annual", "approved"),
    ("A015", "2026-12-10", "2026-12-13", "annual", "approved"),
    ("A033", "2026-12-05", "2026-12-08", "annual", "approved"),  # starts before the week
    ("A022", "2026-12-08", "2026-12-08", "sick", "approved"),
    ("A057", "2026-12-11", "2026-12-11", "unpaid", "approved"),
    ("A009", "2026-12-08T14:00", "2026-12-08T16:00", "training", "approved"),
    ("A018", "2026-12-09T10:00", "2026-12-09T11:30", "training", "approved"),
    ("A054", "2026-12-10T11:00", "2026-12-10T12:00", "meeting", "approved"),
    ("A002", "2026-12-12", "2026-12-13", "day_off_request", "requested"),
    ("A011", "2026-12-11", "2026-12-11", "day_off_request", "requested"),
    ("A026", "2026-12-07", "2026-12-07", "day_off_request", "requested"),
    ("A042", "2026-12-13", "2026-12-13", "day_off_request", "requested"),
    ("A036", "2026-12-09", "2026-12-10", "annual", "requested"),
    ("A006", "2026-12-14", "2026-12-18", "annual", "requested"),  # next week: not decided
    ("A041", "2026-12-21", "2026-12-24", "annual", "approved"),  # outside the week
]


def write_leave(name: str = "leave.csv", rows: list[tuple[str, ...]] = LEAVE) -> None:
    """An HR export of ``rows`` (agent, start, end, kind, status) in scenarios/data/."""
    path = DATA / name
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["agent_id", "start", "end", "kind", "status", "x_note"])
        for row in rows:
            w.writerow([*row, ""])
    print(f"wrote {path}: {len(rows)} rows")


MONTH_SCALE = (1.00, 1.05, 0.95, 1.10)
"""Volume of each week of the month against the base week."""

LEAVE_MONTH = [  # the base week's leave, then the rest of the month (to Sun 3 Jan 2027)
    *[row for row in LEAVE if row[0] != "A041"],
    ("A041", "2026-12-21", "2026-12-24", "annual", "approved"),
    ("A012", "2026-12-28", "2027-01-08", "annual", "approved"),  # runs past the month
    ("A003", "2026-12-24", "2026-12-27", "annual", "approved"),
    ("A019", "2026-12-31", "2027-01-01", "annual", "approved"),
    ("A027", "2026-12-14", "2026-12-15", "sick", "approved"),
    ("A048", "2026-12-17", "2026-12-17", "unpaid", "approved"),
    ("A030", "2026-12-22", "2026-12-22", "day_off_request", "approved"),
    ("A014", "2026-12-16T09:00", "2026-12-16T12:00", "training", "approved"),
    ("A024", "2026-12-23T14:00", "2026-12-23T15:00", "meeting", "approved"),
    ("A007", "2026-12-24", "2026-12-24", "day_off_request", "requested"),
    ("A021", "2026-12-25", "2026-12-26", "annual", "requested"),
    ("A044", "2026-12-31", "2026-12-31", "day_off_request", "requested"),
    ("A052", "2027-01-01", "2027-01-01", "day_off_request", "requested"),
    ("A025", "2026-12-19", "2026-12-20", "day_off_request", "requested"),
    ("A010", "2026-12-29", "2026-12-30", "annual", "requested"),
    ("A049", "2027-01-02", "2027-01-05", "annual", "requested"),  # ends after the month
]


def write_month() -> None:
    """Each channel's base week repeated over four weeks at MONTH_SCALE, and the month's leave."""
    for channel in HOURS:
        with (DATA / f"{channel}.csv").open(newline="") as fh:
            week = list(csv.DictReader(fh))
        path = DATA / f"{channel}-month.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["interval_start", "volume", "aht_seconds"])
            for k, scale in enumerate(MONTH_SCALE):
                for row in week:
                    start = datetime.fromisoformat(row["interval_start"]) + timedelta(weeks=k)
                    volume = round(int(row["volume"]) * scale)
                    w.writerow([start.isoformat(timespec="minutes"), volume, row["aht_seconds"]])
        print(f"wrote {path}: 4 weeks at x{', x'.join(f'{x:.2f}' for x in MONTH_SCALE)}")
    write_leave("leave-month.csv", LEAVE_MONTH)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    demand()
    write_agents(agents())
    write_leave()
    write_month()


if __name__ == "__main__":
    main()
