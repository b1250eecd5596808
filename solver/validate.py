"""The executable spec: check any roster against the problem and recompute its objective.

Imports no OR-Tools. Every solver result passes through ``validate``; tests compare the
objective recomputed here with the solver's. A requested leave counts as granted when the agent
does not work during it, unless refusing it is what keeps the agent's weekly rules (then it is
refused, at its penalty: ``_blocks``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from solver.prep import month_days_off, week_bounds
from solver.schema import (
    DAY,
    ChannelKind,
    Contract,
    CoverageRow,
    LeaveKind,
    LeaveStatus,
    PenaltyRecord,
    RequestKind,
    RosterProblem,
    ShiftAssignment,
)
from solver.shifts import FAIRNESS_CATEGORIES, classify, day_name, fairness_flags, slot_range_name
from solver.units import WORK_UNITS, edf_overdue, scaled_weight, work_units

__all__ = ["Validation", "Violation", "validate"]


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    message: str
    slot: int | None = None
    """The slot concerned, for per-slot rules (floors, role cover, break cap)."""
    agent: str | None = None
    """The agent concerned, for per-agent rules."""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.message}"


@dataclass
class Validation:
    violations: list[Violation] = field(default_factory=list)
    penalties: list[PenaltyRecord] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)
    granted: dict[int, bool] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """Sum of penalties, with weights rounded as the solver rounds them."""
        return sum(p.cost for p in self.penalties)

    @property
    def ok(self) -> bool:
        return not self.violations


def _cost(weight: float, amount: float) -> float:
    return scaled_weight(weight) * amount / 100.0


class _Checker:
    def __init__(self, problem: RosterProblem, roster: list[ShiftAssignment]) -> None:
        self.p = problem
        self.roster = sorted(roster, key=lambda a: (a.agent_id, a.start))
        self.out = Validation()
        self.agents = {a.id: a for a in problem.agents}
        self.types = {t.id: t for t in problem.shift_types}
        self.contracts = {c.id: c for c in problem.contracts}
        self.by_agent: dict[str, list[ShiftAssignment]] = defaultdict(list)
        for s in self.roster:
            self.by_agent[s.agent_id].append(s)
        self.s = problem.slot_minutes
        self.n = problem.n_slots

    def bad(
        self,
        rule: str,
        subject: str,
        message: str,
        slot: int | None = None,
        agent: str | None = None,
    ) -> None:
        if agent is None and subject.split(" ")[0] in self.agents:
            agent = subject.split(" ")[0]
        self.out.violations.append(Violation(rule, subject, message, slot, agent))

    def penalty(
        self, rule: str, subject: str, weight: float, amount: float, detail: str = ""
    ) -> None:
        if rule in self.p.disabled_rules or amount == 0 or weight == 0:
            return
        self.out.penalties.append(
            PenaltyRecord(rule_id=rule, subject=subject, cost=_cost(weight, amount), detail=detail)
        )

    # ------------------------------------------------------------------ shifts
    def shifts(self) -> None:
        seen: set[tuple[str, int]] = set()
        for sh in self.roster:
            subj = f"{sh.agent_id} {day_name(self.p.horizon_start, sh.day)}"
            agent = self.agents.get(sh.agent_id)
            t = self.types.get(sh.shift_type)
            if agent is None or t is None:
                self.bad("shift", subj, "unknown agent or shift type")
                continue
            if (sh.agent_id, sh.day) in seen:
                self.bad("one_shift_per_day", subj, "two shifts start on the same day")
            seen.add((sh.agent_id, sh.day))
            if sh.start // DAY != sh.day or not 0 <= sh.day < self.p.days:
                self.bad("shift", subj, "shift does not start on its day")
            if sh.start % DAY not in t.starts or sh.length not in t.lengths:
                self.bad("shift", subj, f"start or length not allowed for type {t.id}")
            if self.p.weekday(sh.day) not in t.weekdays:
                self.bad("shift", subj, f"type {t.id} is not allowed on this weekday")
            if sh.paid_minutes != sh.length - t.unpaid_minutes:
                self.bad("shift", subj, "paid minutes do not match length minus unpaid breaks")
            contract = self.contracts[agent.contract]
            if contract.shift_types and t.id not in contract.shift_types:
                self.bad("contract", subj, f"contract {contract.id} does not allow {t.id}")
            night, _, _ = classify(
                sh.start, sh.length, sh.day, self.p.weekday(sh.day), self.p.rules
            )
            night_ok = contract.night_shifts if agent.night_shifts is None else agent.night_shifts
            if night and not night_ok:
                self.bad("night", subj, "night shift for an agent who may not work nights")
            if self.p.weekday(sh.day) in agent.unavailable_weekdays:
                self.bad("availability", subj, "agent is unavailable on this weekday")
            frozen = self.p.frozen_until
            if frozen is not None and sh.start < frozen and not self._pinned(sh):
                self.bad("frozen", subj, "starts before the frozen time and was not published")
            self._breaks(sh, t, subj)

    def _pinned(self, sh: ShiftAssignment) -> bool:
        return any(
            pp.agent_id == sh.agent_id
            and pp.day == sh.day
            and pp.shift_type == sh.shift_type
            and (pp.start is None or sh.start == sh.day * DAY + pp.start)
            and (pp.length is None or sh.length == pp.length)
            for pp in self.p.pinned
        )

    def _breaks(self, sh: ShiftAssignment, t: object, subj: str) -> None:
        from solver.schema import ShiftType

        assert isinstance(t, ShiftType)
        if len(sh.breaks) != len(t.breaks):
            self.bad("breaks", subj, f"expected {len(t.breaks)} breaks, got {len(sh.breaks)}")
            return
        prev_end = sh.start + sh.briefing_minutes
        for rule, b in zip(t.breaks, sh.breaks, strict=True):
            if b.name != rule.name or b.minutes != rule.minutes:
                self.bad("breaks", subj, f"break {b.name} does not match {rule.name}")
            off = b.start - sh.start
            if off < rule.earliest or off + b.minutes > rule.latest:
                self.bad(
                    "breaks", subj, f"{b.name} outside its window {rule.earliest}-{rule.latest} min"
                )
            if b.start < prev_end:
                self.bad("breaks", subj, f"{b.name} overlaps the briefing or the previous break")
            prev_end = b.start + b.minutes
        if sh.briefing_minutes != t.briefing_minutes:
            self.bad("briefing", subj, "briefing length differs from the shift type")

    # ------------------------------------------------------------------ leave, pins, rest
    def leave_and_pins(self) -> None:
        for li, lv in enumerate(self.p.leave):
            shifts = self.by_agent.get(lv.agent_id, [])
            if lv.whole_days:
                hit = [s for s in shifts if s.day in lv.days()]
            elif lv.on_shift:
                hit = [s for s in shifts if s.start < lv.end and lv.start < s.end]
            else:
                hit = [s for s in shifts if s.start < lv.end and lv.start < s.end]
            subj = f"{lv.agent_id} {lv.kind.value}"
            if lv.status is LeaveStatus.requested:
                self.out.granted[li] = not hit
                if hit:
                    days = (
                        len([d for d in lv.days() if 0 <= d < self.p.days]) if lv.whole_days else 1
                    )
                    self.penalty(
                        "leave.request_denied",
                        f"{lv.agent_id}:{li}",
                        self.p.weights.leave_request_denied * lv.weight,
                        max(1, days),
                        f"{lv.kind.value} request refused",
                    )
                continue
            if lv.on_shift and not lv.whole_days:
                if not any(s.start <= lv.start and lv.end <= s.end for s in shifts):
                    self.bad("must_work", subj, "training/meeting not inside a worked shift")
            elif hit:
                self.bad("leave", subj, "works during approved leave")
        for pin in self.p.pinned:
            ok = any(
                s.day == pin.day
                and s.shift_type == pin.shift_type
                and (pin.start is None or s.start == pin.day * DAY + pin.start)
                and (pin.length is None or s.length == pin.length)
                for s in self.by_agent.get(pin.agent_id, [])
            )
            if not ok:
                self.bad(
                    "must_work",
                    pin.agent_id,
                    f"pinned {pin.shift_type} on day {pin.day} is not kept",
                )

    def rest_and_days(self) -> None:
        rules = self.p.rules
        for agent in self.p.agents:
            contract = self.contracts[agent.contract]
            rest = (
                contract.min_rest_minutes
                if contract.min_rest_minutes is not None
                else rules.min_rest_minutes
            )
            shifts = self.by_agent.get(agent.id, [])
            prev_end = agent.prior_shift_end
            for sh in shifts:
                if prev_end is not None and sh.start - prev_end < rest:
                    self.bad(
                        "rest",
                        f"{agent.id} {day_name(self.p.horizon_start, sh.day)}",
                        f"only {(sh.start - prev_end) / 60:g} h rest, need {rest / 60:g}",
                    )
                prev_end = sh.end
            m = contract.max_consecutive_days or rules.max_consecutive_days
            worked = {s.day for s in shifts}
            run = agent.prior_consecutive_days
            for d in range(self.p.days):
                run = run + 1 if d in worked else 0
                if run > m:
                    self.bad(
                        "max_consecutive",
                        agent.id,
                        f"{run} days in a row up to {day_name(self.p.horizon_start, d)} (max {m})",
                    )
                    break
            self._blocks(agent.id, contract, shifts, worked)

    def _blocks(
        self, agent_id: str, contract: object, shifts: list[ShiftAssignment], worked: set[int]
    ) -> None:
        """Days off and hours per week (and days off per month). A requested leave the agent
        does not work during may still have been refused (the solver decides each request):
        granting it credits its days, which lowers both the hours asked and the working days
        allowed, so the cheapest set of refusals that keeps the rules is taken (each refusal
        costs its penalty), as the model's own grant decision would."""
        assert isinstance(contract, Contract)
        approved: set[int] = set()
        sick: set[int] = set()  # approved sick days count as days off too (prep.week_bounds)
        open_: list[int] = []  # requests not worked during: granted unless a rule says no
        for li, lv in enumerate(self.p.leave):
            if lv.agent_id != agent_id or not lv.whole_days or not lv.credited:
                continue
            if lv.status is LeaveStatus.approved:
                approved.update(d for d in lv.days() if 0 <= d < self.p.days)
                if lv.kind is LeaveKind.sick:
                    sick.update(d for d in lv.days() if 0 <= d < self.p.days)
            elif self.out.granted.get(li, False):
                open_.append(li)
        best: tuple[list[tuple[str, str]], tuple[int, ...]] | None = None
        for refused in _refusals(self.p, open_):
            credited = set(approved)
            for li in open_:
                if li not in refused:
                    credited.update(d for d in self.p.leave[li].days() if 0 <= d < self.p.days)
            broken = self._block_checks(contract, shifts, worked, credited, sick)
            if best is None or not broken:
                best = (broken, refused)
            if not broken:
                break
        assert best is not None
        broken, refused = best
        for rule, message in broken:
            self.bad(rule, agent_id, message)
        for li in refused:
            lv = self.p.leave[li]
            self.out.granted[li] = False
            self.penalty(
                "leave.request_denied",
                f"{lv.agent_id}:{li}",
                self.p.weights.leave_request_denied * lv.weight,
                max(1, len([d for d in lv.days() if 0 <= d < self.p.days])),
                f"{lv.kind.value} request refused",
            )

    def _block_checks(
        self,
        contract: Contract,
        shifts: list[ShiftAssignment],
        worked: set[int],
        credited: set[int],
        sick: set[int],
    ) -> list[tuple[str, str]]:
        broken: list[tuple[str, str]] = []
        for bi, first in enumerate(range(0, self.p.days, 7)):
            span = range(first, min(first + 7, self.p.days))
            k = len([d for d in span if d in credited])
            ill = len([d for d in span if d in sick])
            cap, lo, hi, _, _ = week_bounds(contract, len(span), k, ill)
            n_work = len([d for d in span if d in worked])
            if n_work > cap:
                broken.append(
                    ("days_off", f"works {n_work} days in week {bi + 1}, at most {cap} allowed")
                )
            paid = sum(s.paid_minutes for s in shifts if s.day in span)
            # requests granted: the model subtracts their credit rounded per request
            if paid < lo - 1 or paid > hi + 1:
                expected = f"expected {lo / 60:g}-{hi / 60:g} h"
                broken.append(("hours", f"paid {paid / 60:g} h in week {bi + 1}, {expected}"))
        if contract.days_off_per_month is not None:
            off = max(0, month_days_off(contract, self.p.days) - len(sick))
            cap = max(0, self.p.days - off - len(credited))
            if len(worked) > cap:
                broken.append(
                    (
                        "days_off",
                        f"works {len(worked)} days, at most {cap} allowed "
                        f"({contract.days_off_per_month} days off per month)",
                    )
                )
        return broken

    # ------------------------------------------------------------------ coverage
    def coverage(self) -> None:
        p, s, n = self.p, self.s, self.n
        chan_index = {c.id: i for i, c in enumerate(p.channels)}
        cov = [[0] * n for _ in p.channels]
        on_shift: dict[str, list[int]] = defaultdict(lambda: [0] * n)  # by primary channel
        on_break: dict[str, list[int]] = defaultdict(lambda: [0] * n)
        duty: dict[str, list[int]] = defaultdict(lambda: [0] * n)  # by role
        idle = [0] * n
        training: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for lv in p.leave:
            if lv.on_shift and not lv.whole_days and lv.status is LeaveStatus.approved:
                training[lv.agent_id].append((lv.start, lv.end))
        for sh in self.roster:
            agent = self.agents.get(sh.agent_id)
            if agent is None:
                continue
            subj = f"{sh.agent_id} {day_name(p.horizon_start, sh.day)}"
            state = {}  # slot -> "work" | "off"
            for t in range(sh.start // s, sh.end // s):
                state[t] = "work"
            for t in range(sh.start // s, (sh.start + sh.briefing_minutes + s - 1) // s):
                state[t] = "brief"
            for b in sh.breaks:
                for t in range(b.start // s, (b.start + b.minutes) // s):
                    state[t] = "break"
            for lo, hi in training.get(sh.agent_id, []):
                for t in list(state):
                    if t * s < hi and lo < (t + 1) * s and state[t] == "work":
                        state[t] = "train"
            covered: dict[int, str | None] = {}
            for seg in sh.work:
                if seg.start < sh.start or seg.end > sh.end or seg.start % s or seg.end % s:
                    self.bad("work", subj, "work segment outside the shift or off the slot grid")
                    continue
                for t in range(seg.start // s, seg.end // s):
                    if t in covered:
                        self.bad("work", subj, "overlapping work segments")
                    covered[t] = seg.channel
            primary = agent.skills[0] if agent.skills else ""
            for t_abs, st in state.items():
                t_h = p.slot_index(t_abs)  # wrapped on a cyclic horizon
                if t_h is None:
                    continue
                t = t_h
                on_shift[primary][t] += 1
                if st == "break":
                    on_break[primary][t] += 1
                if st in ("work", "brief"):
                    for r in agent.roles:
                        duty[r][t] += 1
                if st != "work":
                    if t_abs in covered:
                        self.bad("work", subj, f"works a channel during {st}")
                    continue
                if t_abs not in covered:
                    self.bad("work", subj, "available slot with no channel or idle segment")
                    continue
                chan = covered[t_abs]
                open_skills = [
                    c
                    for c in agent.skills
                    if not p.channels[chan_index[c]].open or p.channels[chan_index[c]].open[t]
                ]
                if chan is None:
                    if open_skills:
                        self.bad("skills", subj, "idle while a skilled channel is open")
                    idle[t] += 1
                elif chan not in agent.skills:
                    self.bad("skills", subj, f"works {chan} without the skill")
                elif chan not in open_skills:
                    self.bad("skills", subj, f"works {chan} while it is closed")
                else:
                    cov[chan_index[chan]][t] += 1
        w = p.weights
        for c, ch in enumerate(p.channels):
            floors = ch.min_staff
            if ch.kind is ChannelKind.deferred:
                self._deferred(c, cov[c])
            w_under, w_over = p.channel_weights(ch)
            for t in range(n):
                if floors and cov[c][t] < floors[t]:
                    self.bad(
                        "min_staff",
                        ch.id,
                        f"{cov[c][t]} < {floors[t]} on {slot_range_name(p.horizon_start, t, t, s)}",
                        slot=t,
                    )
                if ch.kind is ChannelKind.deferred:
                    continue
                req = ch.required[t]
                under, over = max(0, req - cov[c][t]), max(0, cov[c][t] - req)
                self.out.coverage.append(
                    CoverageRow(
                        channel=ch.id,
                        slot=t,
                        required=req,
                        scheduled=cov[c][t],
                        under=under,
                        over=over,
                    )
                )
                self.penalty("coverage.under", f"{ch.id}:{t}", w_under, under)
                self.penalty("coverage.over", f"{ch.id}:{t}", w_over, over)
        for t in range(n):
            self.penalty("coverage.over", f"idle:{t}", w.over_cover, idle[t])
        for role_req in p.roles:
            for t in range(n):
                if role_req.slots[t] and duty[role_req.role][t] < role_req.count:
                    self.bad(
                        "role_coverage",
                        role_req.role,
                        f"{duty[role_req.role][t]} on duty < {role_req.count} on "
                        f"{slot_range_name(p.horizon_start, t, t, s)}",
                        slot=t,
                    )
        share = p.rules.max_on_break_share
        if share < 1:
            num = round(share * 100)
            for primary, breaks in on_break.items():
                for t in range(n):
                    if 100 * breaks[t] > num * on_shift[primary][t] + 99:
                        self.bad(
                            "break_share",
                            primary,
                            f"{breaks[t]} of {on_shift[primary][t]} "
                            f"on break on {slot_range_name(p.horizon_start, t, t, s)}",
                            slot=t,
                        )

    def _deferred(self, c: int, capacity: list[int]) -> None:
        ch = self.p.channels[c]
        assert ch.deferred is not None
        classes = [
            work_units(a, d) for a, d in zip(ch.deferred.arrived, ch.deferred.due, strict=True)
        ]
        overdue, idle = edf_overdue(classes, [WORK_UNITS * x for x in capacity])
        w = self.p.weights
        for t in range(self.n):
            self.out.coverage.append(
                CoverageRow(
                    channel=ch.id,
                    slot=t,
                    required=float(ch.required[t]) if ch.required else 0.0,
                    scheduled=capacity[t],
                    under=overdue[t] / WORK_UNITS,
                    over=idle[t] / WORK_UNITS,
                )
            )
            self.penalty("deferred.late", f"{ch.id}:{t}", w.deferred_late / WORK_UNITS, overdue[t])
            self.penalty("coverage.over", f"{ch.id}:{t}", w.over_cover / WORK_UNITS, idle[t])

    # ------------------------------------------------------------------ soft agent rules
    def soft(self) -> None:
        p, w = self.p, self.p.weights
        leave_days: dict[str, set[int]] = defaultdict(set)
        for lv in p.leave:
            if lv.whole_days and lv.status is LeaveStatus.approved:
                leave_days[lv.agent_id].update(lv.days())
        for agent in p.agents:
            shifts = self.by_agent.get(agent.id, [])
            pref = set(agent.preferred_shift_types)
            if pref:
                k = len([s for s in shifts if s.shift_type not in pref])
                self.penalty("preference.shift_type", agent.id, w.preference, k)
            contract = self.contracts[agent.contract]
            if contract.consecutive_days_off_preferred:
                worked = {s.day for s in shifts}
                for d in range(1, p.days - 1):
                    if {d - 1, d, d + 1} & leave_days[agent.id]:
                        continue
                    if d not in worked and d - 1 in worked and d + 1 in worked:
                        self.penalty(
                            "days_off.consecutive", f"{agent.id}:{d}", w.consecutive_days_off, 1
                        )
        self._fairness()

    def _fairness(self) -> None:
        from solver.prep import prepare  # pure Python eligibility (no OR-Tools)

        p = self.p
        active = [c for c in FAIRNESS_CATEGORIES if f"fairness.{c}" not in p.disabled_rules]
        if p.weights.fairness == 0 or not active:
            return
        inst = prepare(self.p)
        holidays = set(p.holidays)
        for category in active:
            ci = FAIRNESS_CATEGORIES.index(category)
            counts: dict[str, list[int]] = defaultdict(list)
            for prep in inst.agents:
                eligible = any(
                    getattr(inst.options[o], category)
                    for opts in prep.options_by_day.values()
                    for o in opts
                )
                if not eligible:
                    continue
                k = prep.agent.prior_fairness.get(category, 0)  # the weeks before
                for sh in self.by_agent.get(prep.id, []):
                    k += fairness_flags(
                        sh.start, sh.length, sh.day, p.weekday(sh.day), p.rules, sh.day in holidays
                    )[ci]
                counts[prep.contract.id].append(k)
            for contract, values in counts.items():
                if len(values) >= 2:
                    self.penalty(
                        f"fairness.{category}",
                        contract,
                        p.weights.fairness,
                        max(values) - min(values),
                    )

    # ------------------------------------------------------------------ work patterns
    def patterns(self) -> None:
        """Forbidden successions, shifts per type, horizon minutes, minimum runs of working days
        and days off (runs touching the horizon's ends exempt), working weekends."""
        p = self.p
        after = {t.id: set(t.forbidden_next) for t in p.shift_types}
        weekends = {w for d in range(p.days) if (w := p.weekend_of(d)) is not None}
        for agent in p.agents:
            contract = self.contracts[agent.contract]
            shifts = self.by_agent.get(agent.id, [])
            type_on = {s.day: s.shift_type for s in shifts}
            for d, today in sorted(type_on.items()):
                nxt = type_on.get(d + 1)
                if nxt is not None and nxt in after.get(today, set()):
                    self.bad(
                        "succession",
                        f"{agent.id} {day_name(p.horizon_start, d + 1)}",
                        f"{nxt} the day after {today}",
                    )
            for type_id, most in contract.max_shifts_per_type.items():
                k = len([s for s in shifts if s.shift_type == type_id])
                if k > most:
                    self.bad("max_shifts_per_type", agent.id, f"{k} {type_id} shifts, max {most}")
            paid = sum(s.paid_minutes for s in shifts)
            lo, hi = contract.horizon_minutes_min, contract.horizon_minutes_max
            if (lo is not None and paid < lo) or (hi is not None and paid > hi):
                upper = "" if hi is None else str(hi)
                self.bad(
                    "horizon_minutes",
                    agent.id,
                    f"paid {paid} min over the horizon, expected {lo or 0}-{upper} min",
                )
            worked = [d in type_on for d in range(p.days)]
            for flag, shortest, rule, what in (
                (True, contract.min_consecutive_days, "min_consecutive", "working days"),
                (False, contract.min_consecutive_days_off, "min_consecutive_off", "days off"),
            ):
                if shortest is None:
                    continue
                for first, last in _runs(worked, flag):
                    if first > 0 and last < p.days - 1 and last - first + 1 < shortest:
                        self.bad(
                            rule,
                            agent.id,
                            f"{last - first + 1} {what} in a row from "
                            f"{day_name(p.horizon_start, first)} (at least {shortest})",
                        )
            most_w = contract.max_working_weekends
            if most_w is not None:
                n_w = len({p.weekend_of(d) for d in type_on if p.weekend_of(d) in weekends})
                if n_w > most_w:
                    self.bad("max_weekends", agent.id, f"works {n_w} weekends, max {most_w}")

    def requests_and_cover(self) -> None:
        """Shift on/off requests, per-day shift cover, distinct shifts used."""
        p, w = self.p, self.p.weights
        type_on = {(s.agent_id, s.day): s.shift_type for s in self.roster}
        for r in p.shift_requests:
            got = type_on.get((r.agent_id, r.day))
            hit = got is not None and (r.shift_type is None or got == r.shift_type)
            subject = f"{r.agent_id}:{r.day}:{r.shift_type or '*'}"
            if r.kind is RequestKind.on and not hit:
                self.penalty("request.shift_on", subject, w.shift_request * r.weight, 1)
            elif r.kind is RequestKind.off and hit:
                self.penalty("request.shift_off", subject, w.shift_request * r.weight, 1)
        # a re-plan's published shifts and days off, kept or changed
        by_day = {(s.agent_id, s.day): s for s in self.roster}
        for k in p.kept:
            sh = by_day.get((k.agent_id, k.day))
            if k.shift_type is None:
                changed = sh is not None
            else:
                changed = (
                    sh is None
                    or sh.shift_type != k.shift_type
                    or sh.start - k.day * DAY != k.start
                    or (k.length is not None and sh.length != k.length)
                )
            if changed:
                self.penalty("replan.change", f"{k.agent_id}:{k.day}", w.change * k.weight, 1)
        count: dict[tuple[str, int], int] = defaultdict(int)
        for s in self.roster:
            count[(s.shift_type, s.day)] += 1
        for row in p.shift_cover:
            have = count.get((row.shift_type, row.day), 0)
            wu = w.shift_cover_under if row.under_weight is None else row.under_weight
            wo = w.shift_cover_over if row.over_weight is None else row.over_weight
            subject = f"{row.shift_type}:{row.day}"
            self.penalty("shift_cover.under", subject, wu, max(0, row.required - have))
            self.penalty("shift_cover.over", subject, wo, max(0, have - row.required))
        for start, length in sorted({(s.start % DAY, s.length) for s in self.roster}):
            self.penalty("shifts.distinct", f"{start}+{length}", w.distinct_shift, 1)


def _runs(flags: list[bool], value: bool) -> list[tuple[int, int]]:
    """(first, last) index of every maximal run of ``value`` in flags."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, f in enumerate([*flags, not value]):
        if f == value and start is None:
            start = i
        elif f != value and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def validate(problem: RosterProblem, roster: list[ShiftAssignment]) -> Validation:
    """Every hard-rule violation of ``roster``, its penalties, coverage and objective."""
    c = _Checker(problem, list(roster))
    c.shifts()
    c.leave_and_pins()
    c.rest_and_days()
    c.patterns()
    c.coverage()
    c.soft()
    c.requests_and_cover()
    return c.out


MAX_OPEN_REQUESTS = 8
"""Requests of one agent whose refusals the validator tries in every combination (beyond, only
all granted and all refused)."""


def _refusals(p: RosterProblem, requests: list[int]) -> list[tuple[int, ...]]:
    """Sets of requests to refuse, cheapest first (none refused first)."""
    if len(requests) > MAX_OPEN_REQUESTS:
        return [(), tuple(requests)]

    def cost(refused: tuple[int, ...]) -> float:
        return sum(p.leave[li].weight * len(p.leave[li].days()) for li in refused)

    combos = [c for n in range(len(requests) + 1) for c in combinations(requests, n)]
    return sorted(combos, key=lambda c: (cost(c), len(c)))
