"""The cross checks of a validated scenario (references, windows, lengths), each problem located by
file, line and key path."""

from __future__ import annotations

import difflib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from api.errors import Problem
from api.scenario.models import (
    SOFT_RULES,
    WHEN_WORDS,
    AgentSpec,
    BreakSpec,
    ChannelSpec,
    ContractSpec,
    LeaveSpec,
    LoadedScenario,
    MinStaffSpec,
    PinnedSpec,
    RoleCoverageSpec,
    ShiftTypeSpec,
)
from api.scenario.timewin import (
    DAY,
    WEEKDAYS,
    WindowError,
    parse_clock,
    parse_weekdays,
)
from api.scenario.yamlsrc import Tree, display_path
from common.enums import ChannelKind

__all__ = ["check_scenario"]


# --------------------------------------------------------------------------- cross checks
def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listing = ", ".join(known) if len(known) <= 12 else ", ".join(known[:12]) + ", ..."
    return (f"; did you mean {close[0]!r}?" if close else "") + f" (known: {listing})"


def unknown(kind: str, name: str, known: list[str]) -> str:
    """ "unknown contract 'x'; did you mean 'y'? (known: ...)" """
    return f"unknown {kind} {name!r}" + _hint(name, known)


RAW_REFERENCES = (
    ("leave", "agent_id", "agents", "agent"),
    ("pinned", "agent_id", "agents", "agent"),
    ("pinned", "shift_type", "shift_types", "shift type"),
    ("agents", "contract", "contracts", "contract"),
)
"""(rows, their field, the list it names an item of, what that item is): the references checked
on the raw data too."""


def raw_references(tree: Tree, plain: Any) -> list[Problem]:
    """References to an item the scenario does not have (a leave or pinned row's agent, a pinned
    shift type, an agent's contract), found on the raw data: the cross-checks reported alongside
    validation errors (which stop the full check), so that a leave file's unknown agent is not
    hidden by a typo in the YAML. A list whose items do not all read as ids is skipped."""
    if not isinstance(plain, dict):
        return []
    problems: list[Problem] = []
    for rows_key, field, target_key, kind in RAW_REFERENCES:
        targets = plain.get(target_key)
        if not isinstance(targets, list) or not all(
            isinstance(x, dict) and isinstance(x.get("id"), str) for x in targets
        ):
            continue
        ids = [x["id"] for x in targets]
        rows = plain.get(rows_key)
        for i, row in enumerate(rows if isinstance(rows, list) else []):
            name = row.get(field) if isinstance(row, dict) else None
            if isinstance(name, str) and name not in ids:
                problems.append(Problem(tree.where((rows_key, i, field)), unknown(kind, name, ids)))
    return problems


class _Checker:
    def __init__(self, loaded: LoadedScenario) -> None:
        self.s = loaded.scenario
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.slot = self.s.horizon.interval_minutes

    def bad(self, loc: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(self.loaded.tree.where(loc), message))

    def unique(self, key: str, ids: list[str]) -> None:
        seen: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in seen:
                self.bad((key, i, "id"), f"duplicate id {ident!r} (also item {seen[ident] + 1})")
            seen.setdefault(ident, i)

    def run(self) -> list[Problem]:
        s = self.s
        self.unique("channels", [c.id for c in s.channels])
        self.unique("shift_types", [t.id for t in s.shift_types])
        self.unique("contracts", [c.id for c in s.contracts])
        self.unique("agents", [a.id for a in s.agents])
        for i, ch in enumerate(s.channels):
            self.channel(i, ch)
        for i, t in enumerate(s.shift_types):
            self.shift_type(i, t)
        for i, ct in enumerate(s.contracts):
            self.contract(i, ct)
        self.unused_shift_types()
        for i, a in enumerate(s.agents):
            self.agent(i, a)
        self.skills_covered()
        for i, m in enumerate(s.min_staff):
            self.min_staff(i, m)
        for i, r in enumerate(s.role_coverage):
            self.role(i, r)
        for i, lv in enumerate(s.leave):
            self.leave(i, lv)
        for i, p in enumerate(s.pinned):
            self.pinned(i, p)
        for i, rule in enumerate(s.disabled_rules):
            if rule not in SOFT_RULES:
                self.bad(
                    ("disabled_rules", i), f"unknown rule {rule!r}" + _hint(rule, list(SOFT_RULES))
                )
        return self.problems

    # ------------------------------------------------------------------ channels
    def channel(self, i: int, c: ChannelSpec) -> None:
        loc: tuple[str | int, ...] = ("channels", i)
        if c.kind is ChannelKind.deferred:
            if c.deadline_minutes is None:
                self.bad(
                    (*loc, "deadline_minutes"),
                    "required for a deferred channel (each item handled within this many minutes)",
                )
            if c.service_level is not None:
                self.bad(
                    (*loc, "service_level"),
                    "applies to voice and chat; a deferred channel's target is deadline_minutes",
                )
            if c.patience_seconds is not None:
                self.bad((*loc, "patience_seconds"), "applies to voice and chat, not deferred")
        else:
            for key, value in (
                ("deadline_minutes", c.deadline_minutes),
                ("overnight_deadline", c.overnight_deadline),
                ("work_hours", c.work_hours),
            ):
                if value is not None:
                    self.bad(
                        (*loc, key),
                        f"applies to deferred channels only (this channel is {c.kind.value})",
                    )
        if c.concurrency > 1 and c.kind is not ChannelKind.chat:
            self.bad(
                (*loc, "concurrency"),
                f"applies to chat channels only (this channel is {c.kind.value})",
            )
        d = c.demand
        if d.forecast_file is not None:
            for key in ("holidays", "holidays_region"):
                if getattr(d, key) is not None:
                    self.bad((*loc, "demand", key), "applies to history_file (forecasting) only")
            if d.method != "auto":
                self.bad((*loc, "demand", "method"), "applies to history_file only")
        path = d.forecast_file or d.history_file
        key = "forecast_file" if d.forecast_file is not None else "history_file"
        if path is not None and not path.exists():
            self.bad((*loc, "demand", key), f"file not found: {display_path(path)}")

    # ------------------------------------------------------------------ shift types
    def on_grid(self, loc: tuple[str | int, ...], minutes: int, what: str) -> bool:
        if minutes % self.slot:
            self.bad(
                loc,
                f"{what} ({minutes} min) is not a multiple of the {self.slot}-minute "
                "interval (horizon.interval_minutes)",
            )
            return False
        return True

    def shift_type(self, i: int, t: ShiftTypeSpec) -> None:
        loc: tuple[str | int, ...] = ("shift_types", i)
        try:
            days = t.weekdays
            if not days:
                self.bad((*loc, "days"), "expected at least one weekday")
        except WindowError as exc:
            self.bad((*loc, "days"), str(exc))
        earliest = parse_clock(t.start.earliest)
        latest = earliest if t.start.latest is None else parse_clock(t.start.latest)
        self.on_grid((*loc, "start", "earliest"), earliest, f"start {t.start.earliest}")
        self.on_grid((*loc, "start", "step_minutes"), t.start.step_minutes, "start step")
        if latest < earliest:
            self.bad(
                (*loc, "start", "latest"),
                f"{t.start.latest} is before earliest "
                f"{t.start.earliest} (a start window cannot wrap midnight)",
            )
        lo, hi, step = t.length_range
        length_loc = (*loc, "length_minutes")
        if hi < lo:
            self.bad(length_loc, f"max ({hi}) is below min ({lo})")
        if hi > 2 * DAY:
            self.bad(length_loc, f"expected at most {2 * DAY} minutes, got {hi}")
        self.on_grid(length_loc, lo, "length")
        self.on_grid(length_loc, step, "length step")
        if t.briefing_minutes >= lo:
            self.bad(
                (*loc, "briefing_minutes"),
                f"the briefing ({t.briefing_minutes} min) is not shorter than the shift ({lo} min)",
            )
        briefing_end = -(-t.briefing_minutes // self.slot) * self.slot
        prev: BreakSpec | None = None
        for j, b in enumerate(t.breaks):
            bloc = (*loc, "breaks", j)
            ok = all(
                self.on_grid((*bloc, k), getattr(b, k), f"break {b.name} {k}")
                for k in ("minutes", "earliest", "latest")
            )
            if b.latest - b.earliest < b.minutes:
                self.bad(
                    bloc,
                    f"window {b.earliest}-{b.latest} min is shorter than the break "
                    f"({b.minutes} min)",
                )
            elif b.latest > lo:
                self.bad(
                    (*bloc, "latest"),
                    f"break window longer than the shift: it ends "
                    f"{b.latest} min after the start, but the shortest {t.id} shift is "
                    f"{lo} min long",
                )
            if ok and b.earliest < briefing_end:
                self.bad(
                    (*bloc, "earliest"),
                    f"break {b.name} may start at {b.earliest} min, "
                    f"during the briefing (first {briefing_end} min)",
                )
            if prev is not None and b.earliest < prev.latest:
                self.bad(
                    (*bloc, "earliest"),
                    f"the windows of {prev.name} ({prev.earliest}-"
                    f"{prev.latest}) and {b.name} ({b.earliest}-{b.latest}) overlap; each "
                    "break's window must end before the next one's starts",
                )
            prev = b
        names = [b.name for b in t.breaks]
        for name, n in Counter(names).items():
            if n > 1:
                self.bad((*loc, "breaks"), f"break name {name!r} is used {n} times")

    def unused_shift_types(self) -> None:
        allowed: set[str] = set()
        for c in self.s.contracts:
            allowed.update(
                c.shift_types if c.shift_types is not None else [t.id for t in self.s.shift_types]
            )
        for i, t in enumerate(self.s.shift_types):
            if t.id not in allowed:
                self.bad(
                    ("shift_types", i),
                    f"no contract allows shift type {t.id!r}; add it to "
                    "a contract's shift_types or remove it",
                )

    # ------------------------------------------------------------------ contracts, agents
    def contract(self, i: int, c: ContractSpec) -> None:
        types = [t.id for t in self.s.shift_types]
        for j, t in enumerate(c.shift_types or []):
            if t not in types:
                self.bad(
                    ("contracts", i, "shift_types", j),
                    f"unknown shift type {t!r}" + _hint(t, types),
                )
        if c.shift_types is not None and not c.shift_types:
            self.bad(
                ("contracts", i, "shift_types"),
                "expected at least one shift type (leave the key out to allow all)",
            )

    def agent(self, i: int, a: AgentSpec) -> None:
        s = self.s
        contracts = [c.id for c in s.contracts]
        if a.contract not in contracts:
            self.bad(("agents", i, "contract"), unknown("contract", a.contract, contracts))
        channels = [c.id for c in s.channels]
        for j, (skill, raw) in enumerate(zip(a.skill_ids, a.skills, strict=True)):
            if skill not in channels:
                self.bad(
                    ("agents", i, "skills"),
                    f"unknown channel {skill!r} in skills" + _hint(skill, channels),
                )
            level = raw.partition(":")[2].strip()
            if level and (not level.isdigit() or int(level) < 1):
                self.bad(
                    ("agents", i, "skills"),
                    f"skill {raw!r}: the level after ':' must be a whole number >= 1",
                )
            if a.skill_ids.index(skill) != j:
                self.bad(("agents", i, "skills"), f"skill {skill!r} is listed twice")
        types = [t.id for t in s.shift_types]
        for t in a.preferred_shift_types:
            if t not in types:
                self.bad(
                    ("agents", i, "preferred_shift_types"),
                    f"unknown shift type {t!r}" + _hint(t, types),
                )
        for d in a.unavailable_days:
            try:
                parse_weekdays(d)
            except WindowError as exc:
                self.bad(("agents", i, "unavailable_days"), str(exc))

    def skills_covered(self) -> None:
        held = {sk for a in self.s.agents for sk in a.skill_ids}
        for i, c in enumerate(self.s.channels):
            if c.id not in held:
                self.bad(
                    ("channels", i),
                    f"no agent has the skill {c.id!r}; nobody could work this channel",
                )

    def agents_with(self, role: str | None = None, skill: str | None = None) -> int:
        return sum(
            1
            for a in self.s.agents
            if (role is None or role in a.roles) and (skill is None or skill in a.skill_ids)
        )

    # ------------------------------------------------------------------ floors, roles
    def min_staff(self, i: int, m: MinStaffSpec) -> None:
        channels = [c.id for c in self.s.channels]
        if m.channel not in channels:
            self.bad(
                ("min_staff", i, "channel"),
                f"unknown channel {m.channel!r}" + _hint(m.channel, channels),
            )
            return
        self.when(("min_staff", i, "when"), m.when, {"open", "always", "any_channel_open"})
        n = self.agents_with(skill=m.channel)
        if m.count > n:
            self.bad(
                ("min_staff", i, "count"),
                f"{m.count} agents on {m.channel} at once, but only {n} agent(s) have that skill",
            )

    def role(self, i: int, r: RoleCoverageSpec) -> None:
        roles = sorted({x for a in self.s.agents for x in a.roles})
        n = self.agents_with(role=r.role)
        if n == 0:
            self.bad(
                ("role_coverage", i, "role"),
                f"no agent has the role {r.role!r}"
                + (_hint(r.role, roles) if roles else " (no agent has any role)"),
            )
        elif r.count > n:
            self.bad(
                ("role_coverage", i, "count"),
                f"{r.count} on duty at once, but only {n} agent(s) have the role {r.role!r}",
            )
        self.when(("role_coverage", i, "when"), r.when, {"any_channel_open", "always"})

    def when(
        self, loc: tuple[str | int, ...], value: str | dict[str, str], words: set[str]
    ) -> None:
        if isinstance(value, str):
            t = value.strip()
            if t in words:
                return
            if t.startswith("open:"):
                ch = t[5:].strip()
                channels = [c.id for c in self.s.channels]
                if ch not in channels:
                    self.bad(loc, f"unknown channel {ch!r} in {value!r}" + _hint(ch, channels))
                return
            if t in WHEN_WORDS:
                self.bad(
                    loc,
                    f"expected {', '.join(sorted(words))}, open:CHANNEL or a window "
                    f'like "mon-fri 09:00-18:00", got {value!r}',
                )

    # ------------------------------------------------------------------ leave, pinned
    def agent_ref(self, loc: tuple[str | int, ...], agent_id: str) -> bool:
        ids = [a.id for a in self.s.agents]
        if agent_id not in ids:
            self.bad(loc, unknown("agent", agent_id, ids))
            return False
        return True

    def leave(self, i: int, lv: LeaveSpec) -> None:
        self.agent_ref(("leave", i, "agent_id"), lv.agent_id)
        if isinstance(lv.start, datetime) != isinstance(lv.end, datetime):
            self.bad(
                ("leave", i, "end"),
                "start and end must both be dates (whole days) or "
                f"both date-times (part of a day), got {lv.start} and {lv.end}",
            )
            return
        if lv.end < lv.start or (isinstance(lv.start, datetime) and lv.end == lv.start):
            self.bad(
                ("leave", i, "end"), f"the leave ends ({lv.end}) before it starts ({lv.start})"
            )

    def pinned(self, i: int, p: PinnedSpec) -> None:
        s = self.s
        known_agent = self.agent_ref(("pinned", i, "agent_id"), p.agent_id)
        types = {t.id: t for t in s.shift_types}
        t = types.get(p.shift_type)
        if t is None:
            self.bad(("pinned", i, "shift_type"), unknown("shift type", p.shift_type, list(types)))
            return
        day = (p.date - s.horizon.start).days
        if not 0 <= day < s.horizon.days:
            last = s.horizon.start + timedelta(days=s.horizon.days - 1)
            self.bad(
                ("pinned", i, "date"), f"{p.date} is outside the horizon {s.horizon.start}..{last}"
            )
            return
        if p.date.weekday() not in t.weekdays:
            self.bad(
                ("pinned", i, "date"),
                f"shift type {t.id} does not run on {WEEKDAYS[p.date.weekday()]}",
            )
        if p.start is not None:
            lo = parse_clock(t.start.earliest)
            hi = lo if t.start.latest is None else parse_clock(t.start.latest)
            m = parse_clock(p.start)
            if not (lo <= m <= hi and (m - lo) % t.start.step_minutes == 0):
                self.bad(
                    ("pinned", i, "start"),
                    f"{p.start} is not an allowed start of "
                    f"{t.id} ({t.start.earliest}-{t.start.latest or t.start.earliest} every "
                    f"{t.start.step_minutes} min)",
                )
        if p.length_minutes is not None:
            lo_len, hi_len, step = t.length_range
            if not (
                lo_len <= p.length_minutes <= hi_len and (p.length_minutes - lo_len) % step == 0
            ):
                self.bad(
                    ("pinned", i, "length_minutes"),
                    f"{p.length_minutes} is not an allowed length of {t.id}",
                )
        if known_agent:
            agent = next(a for a in s.agents if a.id == p.agent_id)
            contract = next((c for c in s.contracts if c.id == agent.contract), None)
            if (
                contract is not None
                and contract.shift_types is not None
                and t.id not in contract.shift_types
            ):
                self.bad(
                    ("pinned", i, "shift_type"),
                    f"contract {contract.id} of {agent.id} does not allow {t.id}",
                )


def check_scenario(loaded: LoadedScenario) -> list[Problem]:
    """Cross-field checks, each located by file, line and key path."""
    return _Checker(loaded).run()
