"""``solve(problem, options) -> RosterResult``: the three-phase pipeline and the exact model.

1. Small problems (``options.exact_max_agents``): the exact per-agent model, directly.
2. Otherwise: the aggregate model on group counts (its bound is the reported bound), a
   disaggregation of each group's counts into named agents (a small model per group), then
   bounded refinement of the exact model over neighbourhoods of agents, until the time limit.

Every roster is checked by ``validate`` and the objective reported is the validator's. A time
limit always returns the best roster found so far.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from typing import Any

from ortools.sat.python import cp_model

from solver import budget, rolling
from solver.bound import AggregateBound, aggregate_bound
from solver.days import DayResult, behind_plan, day_window, done_before, slots_per_day, solve_day
from solver.disaggregate import GroupInfeasibleError, disaggregate
from solver.explain import explain
from solver.extract import chosen_options, extract, granted
from solver.greedy import greedy_breaks, greedy_channels
from solver.group_master import solve_group_master
from solver.holders import MAX_HOLDERS, HoldersWeek, holders_roster, holders_week, role_holders
from solver.master import Families, MasterPlan, MasterUnknown, families, solve_master
from solver.model import CpOutcome, build_exact, solve_cp
from solver.options import SolveOptions
from solver.plan import IntegerPlan, deferred_plan, rounded_plan
from solver.prep import Instance, prepare
from solver.refine import RosterState, refine, state_from, state_of, with_best_channels
from solver.schema import (
    ChannelKind,
    LeaveDecision,
    LeaveStatus,
    PenaltyRecord,
    RosterProblem,
    RosterResult,
    ShiftAssignment,
    SolveStatus,
)
from solver.shifts import slot_range_name, slot_runs
from solver.validate import Validation, validate
from solver.variables import FixedShift, staffing_target

__all__ = ["Progress", "ProgressCallback", "problem_hash", "solve"]


def problem_hash(problem: RosterProblem) -> str:
    return hashlib.sha256(problem.model_dump_json().encode()).hexdigest()


class _Clock:
    """Elapsed wall time (reported) and the time left (decided on the solver's clock:
    deterministic work in a deterministic solve, see ``solver.budget``)."""

    def __init__(self, limit: float, progress: ProgressCallback | None = None) -> None:
        self.t0 = time.perf_counter()
        self.w0 = budget.now()
        self.limit = limit
        self.progress = progress

    def report(
        self,
        phase: str,
        objective: float | None = None,
        bound: float | None = None,
        message: str = "",
    ) -> None:
        if self.progress is not None:
            self.progress(
                Progress(
                    phase=phase,
                    elapsed_s=self.elapsed,
                    objective=objective,
                    bound=bound,
                    message=message,
                )
            )

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def left(self) -> float:
        return max(0.0, self.limit - (budget.now() - self.w0))


@dataclass(frozen=True)
class Progress:
    """Where a solve stands: reported at every phase change and improvement."""

    phase: str
    elapsed_s: float
    objective: float | None = None
    bound: float | None = None
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def solve(
    problem: RosterProblem,
    options: SolveOptions | None = None,
    progress: ProgressCallback | None = None,
    start: Sequence[ShiftAssignment] | None = None,
) -> RosterResult:
    """Build and solve the roster; always returns a typed result (never raises on bad luck).

    ``progress`` (optional) is called with a ``Progress`` at each phase and improvement.
    ``start``: a roster to start from (re-planning a published one): it is refined on the exact
    model for the whole limit instead of planning from scratch (no bound is computed).
    """
    options = options or SolveOptions()
    if not options.deterministic:
        return _solve(problem, options, progress, None, start)
    with budget.metered(options.time_limit_s) as meter:
        return _solve(problem, options, progress, meter, start)


def _solve(
    problem: RosterProblem,
    options: SolveOptions,
    progress: ProgressCallback | None,
    meter: budget.Meter | None,
    start: Sequence[ShiftAssignment] | None = None,
) -> RosterResult:
    clock = _Clock(options.time_limit_s, progress)
    inst = prepare(problem)
    phases = _Phases(clock)
    phases["prepare"] = clock.elapsed
    clock.report("prepare", message=f"{len(inst.agents)} agents, {len(inst.options)} shift options")
    if start is not None:
        state = _refined(inst, state_from(inst, start), options, clock, phases, _State())
        _keep_frozen(inst, state, start, clock)
    elif len(inst.agents) <= options.exact_max_agents:
        state = _solve_exact(inst, options, clock, phases)
    elif _week_at_a_time(inst, options, clock.left):
        state = _solve_rolling(inst, options, clock, phases)
    else:
        state = _solve_pipeline(inst, options, clock, phases)
    phases.stop()  # the step that ended the solve early (none failed: nothing open)
    result = _result(inst, state, options, clock, phases)
    if meter is not None:
        timed = {**result.phases, "deterministic_work": round(meter.work, 3)}
        result = result.model_copy(update={"reproducible": not meter.wall_capped, "phases": timed})
    clock.report("done", result.objective, result.best_bound, result.status.value)
    return result


def _keep_frozen(
    inst: Instance, state: _State, start: Sequence[ShiftAssignment], clock: _Clock
) -> None:
    """A re-plan's frozen past as published: the breaks of the shifts that started before
    ``frozen_until`` (pinned, so the same shifts) and every channel before it put back as they
    were, when the roster then breaks no more rules (refinement may have moved them: the model
    fixes the shifts of the past, not their breaks)."""
    frozen = inst.problem.frozen_until
    final = state.final
    if frozen is None or final is None:
        return
    past = state_from(inst, [sh for sh in start if sh.start < frozen])
    breaks = dict(final.breaks)
    for a, opts in past.chosen.items():
        for o in opts:
            if o in final.chosen.get(a, []) and (a, o) in past.breaks:
                breaks[(a, o)] = past.breaks[(a, o)]
    cut = frozen // inst.problem.slot_minutes
    channels = {key: n for key, n in final.channels.items() if key[2] >= cut}
    channels.update({key: n for key, n in past.channels.items() if key[2] < cut})
    cand = state_of(inst, final.chosen, breaks, channels, final.grants)
    if len(cand.validation.violations) <= len(final.validation.violations):
        final = cand
        state.final, state.roster = cand, cand.roster
    # the later shifts kept as published keep their published breaks too, when what the moved
    # breaks gained is less than a fifth of a change each (a lunch moved is a change to the
    # person; the model prices shifts, not breaks)
    later = state_from(inst, [sh for sh in start if sh.start >= frozen])
    back = {
        (a, o): later.breaks[(a, o)]
        for a, opts in later.chosen.items()
        for o in opts
        if o in final.chosen.get(a, [])
        and (a, o) in later.breaks
        and final.breaks.get((a, o)) != later.breaks[(a, o)]
    }
    worth = BREAK_MOVE * inst.problem.weights.change

    def kept(cand: RosterState, base: RosterState, n: int) -> bool:
        return len(cand.validation.violations) <= len(base.validation.violations) and (
            cand.validation.objective <= base.validation.objective + worth * n
        )

    if back:
        cand = state_of(inst, final.chosen, {**final.breaks, **back}, final.channels, final.grants)
        cand = with_best_channels(inst, cand)
        if kept(cand, final, len(back)):
            state.final, state.roster = cand, cand.roster
            return
    # else one shift at a time (a few dozen at most, while the limit lasts: each try
    # validates the whole roster, half a second at 200 agents)
    for key, starts in list(back.items())[:BREAK_TRIES]:
        if clock.elapsed > clock.limit:
            break
        breaks = {**final.breaks, key: starts}
        cand = with_best_channels(
            inst, state_of(inst, final.chosen, breaks, final.channels, final.grants)
        )
        if kept(cand, final, 1):
            final = cand
            state.final, state.roster = cand, cand.roster


BREAK_MOVE = 0.2
"""What a re-plan's moved break must gain to stay moved, as a share of ``weights.change``."""
BREAK_TRIES = 40
"""Shifts whose published breaks a re-plan tries to put back one at a time."""


class _Phases(dict[str, float]):
    """Seconds per step of the solve. A step is timed from ``start`` to ``stop``; the step
    that ends a solve early (no plan, no day, no roster) is stopped by ``_solve``, so the
    phases always account for the time spent, the failed step included."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock
        self._open: tuple[str, float] | None = None

    def start(self, name: str) -> None:
        self.stop()
        self._open = (name, self._clock.elapsed)

    def stop(self) -> None:
        if self._open is not None:
            name, t0 = self._open
            self[name] = self.get(name, 0.0) + self._clock.elapsed - t0
            self._open = None


class _State:
    """The best roster so far and what is known about the bound."""

    def __init__(self) -> None:
        self.chosen: dict[int, list[int]] | None = None
        self.grants: dict[int, bool] = {}
        self.roster: list[ShiftAssignment] = []
        self.objective: float | None = None
        self.bound: float | None = None
        self.optimal = False
        self.infeasible = False
        """Proven: the exact model, or the aggregate (a relaxation), has no solution."""
        self.suspect = False
        """A stage found nothing within its own (stricter) model: "infeasible" only if the
        explanation confirms a conflict, else the solve timed out without a roster."""
        self.message = ""
        self.final: RosterState | None = None
        """The refined roster with its breaks and channel counts (the pipeline's)."""
        self.lp_too_large = False
        """The LP was not solved: its size said it would give no point to round in time."""


def _solve_exact(inst: Instance, options: SolveOptions, clock: _Clock, phases: _Phases) -> _State:
    state = _State()
    phases.start("build_exact")
    v = build_exact(inst)
    phases.stop()
    phases.start("solve_exact")
    out = solve_cp(
        v,
        options,
        clock.left,
        on_solution=lambda obj, bound: clock.report("exact", obj, bound),
        subsolvers=exact_portfolio(options.workers),
    )
    phases.stop()
    clock.report("exact", out.objective, out.bound)
    if out.status == cp_model.INFEASIBLE:
        state.infeasible = True
        return state
    state.bound = out.bound
    if out.has_solution:
        _accept(state, v, out)
        state.optimal = out.optimal
    return state


EXACT_PORTFOLIO = ("max_lp", "core", "default_lp", "quick_restart", "reduced_costs", "no_lp")
"""CP-SAT's full-problem workers for the exact model, the first ``workers`` of them. With few
workers CP-SAT's default portfolio has no ``max_lp`` (the full linear relaxation with cuts), and
on rostering models that worker finds and proves the optimum where the others stall: on the
Curtois-Qu instances 4-6, 1716 and 1950 proven in about 20 s on 2 workers, against 1721 and 2160
with the default portfolio after 60 s (``docs/public-benchmarks.md``)."""


def exact_portfolio(workers: int) -> list[str]:
    return list(EXACT_PORTFOLIO[: max(1, workers)])


def _accept(state: _State, v: Any, out: CpOutcome) -> None:
    state.chosen = chosen_options(v, out.solver)
    state.grants = granted(v, out.solver)
    state.roster = extract(v, out.solver)
    state.objective = out.objective


def _overlapping(
    shifts: list[FixedShift], inst: Instance, window: tuple[int, int]
) -> list[FixedShift]:
    return [
        fs
        for fs in shifts
        if inst.options[fs.option].first_slot < window[1]
        and inst.options[fs.option].first_slot + inst.options[fs.option].n_slots > window[0]
    ]


def _solve_pipeline(
    inst: Instance,
    options: SolveOptions,
    clock: _Clock,
    phases: _Phases,
    want_bound: bool = True,
    lp: bool = True,
) -> _State:
    """The week's pipeline (module docstring); ``want_bound``: whether its LP bound is wanted (not
    for a week of a longer horizon: the whole horizon's is), else its LP is solved only when
    it will give a point to round; ``lp=False``: not even built (a week like one whose LP was
    too large already: building it to learn its size took the example month's weeks 6 s)."""
    state = _State()
    p = inst.problem
    total = clock.left
    # 0. the bound: the aggregate model (a relaxation), briefly (about 3 s proves nothing at
    # 200 agents, 6-10 s a bound above 0: a tenth of the limit, at most 5 s beyond a twentieth)
    phases.start("bound")
    # a tenth of the limit; up to 30 % when the LP's size says it solves in that (a month's
    # LP takes 48 s, a 14-day week's of 30-minute slots 14 s: without it no rounded plan and
    # no bound, and the weekly masters take longer)
    if lp:
        agg = aggregate_bound(inst, options, bound_time(total), LP_SHARE * total, not want_bound)
    else:
        agg = AggregateBound(None, too_large=True)
    state.lp_too_large = agg.too_large
    phases.stop()
    if agg.infeasible:
        state.infeasible = True
        return state
    bound = state.bound = agg.value
    clock.report("bound", None, bound)
    # 1. the weekly plan: shifts per group, day and family (on the weekly masters' path the
    # role holders' weeks exact first, solver.holders, everyone else planned around them)
    phases.start("master")
    fam = families(inst)
    held: HoldersWeek | None = None
    # the LP's group counts rounded within the group rules, when the LP solved; else the
    # cascade of weekly masters (role holders per agent, then group counts by family)
    exact: dict[tuple[int, int], int] | None = None
    dplan: dict[int, list[int]] | None = None
    plan: MasterPlan | None = None
    if agg.lp is not None:
        rounded = rounded_plan(inst, agg, options, rounding_time(total, p.days))
        if rounded is None and clock.left >= ROUNDING_RETRY_LEFT * total:
            # no rounding in its time, which is mostly CP-SAT's first solution late, not a
            # conflict: once more, longer (week 60/1 in 30 s: nothing in 3 s after an 8-s LP,
            # and the weekly masters' roster then kept 9 hard-rule slots)
            rounded = rounded_plan(inst, agg, options, 1.5 * rounding_time(total, p.days))
        if rounded is not None:
            plan = _as_master(inst, fam, rounded)
            exact = rounded.counts
            dplan = deferred_plan(inst, agg)
            clock.report("master", rounded.objective, state.bound, "the LP's counts rounded")
        else:
            clock.report("master", None, state.bound, "no rounding of the LP's counts in time")
    elif agg.too_large:
        clock.report("master", None, state.bound, "the LP too large for its time")
    elif not agg.exact:
        clock.report("master", None, state.bound, "PDLP's point too rough to round")
    if plan is None:
        held = _holders_first(inst, options, clock, total)
        try:
            plan = _weekly_plan(inst, fam, options, clock, total, held=held)
        except MasterUnknown:
            state.message = "no weekly plan found in the time given"
            return state
    phases.stop()
    clock.report("master", None, state.bound)
    if plan is None:
        # the masters plan families of shifts (a day's starts as one), stricter than the rules:
        # no plan there is no proof (the explanation decides)
        state.suspect = True
        state.message = "no weekly plan within the group rules"
        return state
    # 2. day models, forward
    phases.start("days")
    per_day = max(1.0, 0.22 * total / p.days)
    results, failed = _days(
        inst, fam, plan, options, per_day, exact, dplan, clock, bound, 0.25 * total, held
    )
    short = _short(results)
    if short and all(x.startswith(_REPAIRED) for x in short) and _few_holders(inst):
        # role cover only: the holders' own exact model and the role moves repair that (on the
        # independent month the weekly masters' days left as many role slots open, 80 s later;
        # break caps left short go to the masters too: on robustness seeds 16, 20 and 21 their
        # days left 4-5 slots where refinement of the rounded days left 6-27)
        short = []
    if exact is not None and (failed is not None or (short and clock.left >= MASTERS_LEFT * total)):
        # the rounded plan's days leave a hard rule short (its counts may leave no room for
        # the breaks under the cap, or for a second team lead): the weekly masters plan too,
        # and the days that leave fewer rules short, then cost less, are kept. Only while
        # there is time for them and a roster after them: with every day planned, the
        # masters' shares of the limit would take what refinement needs to repair the days
        rules = Counter(x.split(":")[0] for x in short)
        why = (
            f"has no day {failed + 1}"
            if failed is not None
            else "leaves " + ", ".join(f"{n} {r}" for r, n in rules.most_common()) + " short"
        )
        clock.report("master", None, state.bound, f"the rounded plan {why}: weekly masters")
        try:
            other = _weekly_plan(
                inst, fam, options, clock, total, last_resort=failed is not None, held=held
            )
        except MasterUnknown:
            other = None
        if other is not None:
            days2, failed2 = _days(
                inst, fam, other, options, per_day, None, None, clock, bound, held=held
            )
            if failed2 is None and (
                failed is not None
                or (len(_short(days2)), _cost(days2)) < (len(short), _cost(results))
            ):
                plan, results, failed = other, days2, None
    if failed is not None:
        state.message = f"no plan for day {failed + 1} within its family counts"
        return state
    phases.stop()
    # 3. named agents: role holders as the master planned them (the day models chose the
    # starts of each family; any matching keeps every agent rule), the other groups' counts
    # spread over their members by a small model per group
    phases.start("disaggregate")
    chosen = _named(inst, fam, plan, results)
    if held is not None:
        chosen.update(held.chosen)
    named_groups = {inst.agents[a].group_index for a, _ in plan.assign}
    target: dict[tuple[int, int], int] = defaultdict(int)
    special: dict[int, list[int]] = defaultdict(list)
    for res in results.values():
        for (g, o), n in res.counts.items():
            if g not in named_groups:
                target[(g, o)] += n
        for a, o in res.special.items():
            if inst.agents[a].group_index not in named_groups:
                special[a].append(o)
    try:
        chosen.update(
            disaggregate(
                inst,
                dict(target),
                dict(special),
                plan.grants,
                options,
                # a fifth of the limit, less when the plans took more than their shares (the
                # 50-agent benchmark week planned twice and overran its 60 s by 8 s)
                max(1.0, min(0.20 * total, clock.left - 0.05 * total)),
                skip=named_groups,
                named=chosen,
            )
        )
    except GroupInfeasibleError:
        # the day plans' counts cannot be given to the group's agents: no proof either
        state.suspect = True
        state.message = "the day plans' shifts cannot be given to the agents of a group"
        return state
    phases.stop()
    clock.report("agents", None, state.bound)
    # 4. breaks and channels for the named shifts (greedy; refinement improves them)
    phases.start("breaks")
    breaks = greedy_breaks(inst, chosen, fixed=_day_breaks(inst, chosen, results))
    channels = greedy_channels(inst, chosen, breaks)
    roster = _replace_breaks(inst, state_of(inst, chosen, breaks, channels, plan.grants))
    phases.stop()
    if any(x.rule == "role_coverage" for x in roster.validation.violations):
        # role cover broken: the holders' weeks from their own exact model (solver.holders)
        phases.start("holders")
        alt = holders_roster(inst, roster, options, min(0.10 * total, clock.left - 0.2 * total))
        if alt is not None:
            alt = _replace_breaks(inst, alt)
            if alt.score < roster.score:
                roster = alt
                clock.report(
                    "refine",
                    roster.validation.objective,
                    state.bound,
                    "role holders' weeks from their own exact model",
                )
        phases.stop()
    # 5. bounded refinement on the exact model: repair broken rules, then improve
    return _refined(inst, roster, options, clock, phases, state)


def _refined(
    inst: Instance,
    roster: RosterState,
    options: SolveOptions,
    clock: _Clock,
    phases: _Phases,
    state: _State,
    where: str = "",
) -> _State:
    """Refinement on the exact model to the end of the limit (repair broken rules, then
    improve), the roster kept in ``state``. To the end: a roster that still breaks a rule is
    explained after it anyway (at least 5 s, in _result), so time kept back here would only be
    taken from the repair (the 60-agent independent week reached this point with 3.7 s left, 6
    role slots open: repaired in 1.5 s, or not at all with 8 % of the limit kept back)."""
    phases.start("refine")
    clock.report(
        "refine",
        roster.validation.objective,
        state.bound,
        f"{len(roster.validation.violations)} hard-rule breaks to repair{where}",
    )

    def improved(r: RosterState) -> None:
        clock.report(
            "refine",
            r.validation.objective,
            state.bound,
            f"{len(r.validation.violations)} hard-rule breaks left",
        )

    roster = refine(inst, roster, options, lambda: clock.left, improved)
    phases.stop()
    state.chosen = roster.chosen
    state.grants = roster.grants
    state.roster = roster.roster
    state.final = roster
    return state


ROUNDING_RETRY_LEFT = 0.5
"""The share of the limit that must be left for a second, longer rounding of the LP's counts
when the first found none in its time."""

LP_SHARE = 0.3
"""The most of the limit the aggregate LP may take when its size says it solves in that."""


ROLLING_WEEK_S = 40.0
"""Seconds a week needs, solved on its own, for a week at a time to pay: the example centre's
weeks were valid in about 55 s each (its month and fortnight, and the independent 28-day month,
valid a week at a time where one plan for the horizon left 36-315 hard-rule slots, the
independent month's although its LP solved in 48 s); with 25 s per week, robustness seeds 0
and 6 (14 days in 60 s) cost 22,000-67,000 and 6,581 where one plan for the fortnight, rounded
from its LP, cost 5,574 and 4,785."""


def _week_at_a_time(inst: Instance, options: SolveOptions, total: float) -> bool:
    """Whether to solve the horizon a week at a time (``solver.rolling``): two weeks or more
    and time enough for each week, unless the options say."""
    cuts = rolling.spans(inst.problem)
    if options.rolling is not None:
        return options.rolling and len(cuts) > 1
    share = (1 - ROLLING_BOUND - ROLLING_REFINE) * total / len(cuts)
    return len(cuts) > 1 and share >= ROLLING_WEEK_S


ROLLING_BOUND = 0.10
"""The share of the limit for the whole horizon's aggregate bound when it is solved a week at a
time (PDLP for the bound alone where HiGHS would not finish: the example fortnight's LP takes
HiGHS 91 s)."""

ROLLING_REFINE = 0.15
"""The share of the limit kept for refining the whole horizon after its weeks: what the cuts
could not carry (runs over a cut, the break cap beside the week before) is repaired there."""


def _solve_rolling(inst: Instance, options: SolveOptions, clock: _Clock, phases: _Phases) -> _State:
    """A long horizon a week at a time (``solver.rolling``): each week solved by the pipeline
    with the weeks before it fixed, then the whole horizon validated and refined."""
    state = _State()
    p = inst.problem
    total = clock.left
    phases.start("bound")
    share = ROLLING_BOUND * total
    agg = aggregate_bound(inst, options, share, share)
    phases.stop()
    if agg.infeasible:  # CP-SAT's proof on a relaxation of the whole horizon
        state.infeasible = True
        return state
    state.bound = agg.value
    clock.report("bound", None, state.bound)
    lifted = rolling.Lifted()
    cuts = rolling.spans(p)
    phases.start("weeks")
    # the first week plans from scratch; the weeks after it start from the week before
    # repeated as well (REPEAT_SHARE), so the first gets FIRST_WEEK_WEIGHT times its days' share
    weights = [
        (end - first) * (FIRST_WEEK_WEIGHT if i == 0 else 1.0)
        for i, (first, end) in enumerate(cuts)
    ]
    lp_fits = True
    for i, (first, end) in enumerate(cuts):
        share = weights[i] / sum(weights[i:])
        seconds = max(1.0, (clock.left - ROLLING_REFINE * total) * share)
        pc = rolling.piece(inst, first, end, lifted)
        sub = prepare(pc.problem)
        label = f"days {first + 1}-{end} of {p.days}"

        def relay(x: Progress, label: str = label) -> None:
            clock.report(x.phase, None, state.bound, f"{label}: {x.message}".rstrip(": "))

        # the weeks before repeated, refined in a share of the week's time: a roster for the
        # week whatever its own plan does (kept when that one breaks more rules or costs more)
        again: RosterState | None = None
        start = rolling.repeated(inst, sub, pc, lifted)
        if start:
            w0 = budget.now()  # the solver's clock (deterministic work when deterministic)
            again = _repeated_week(sub, start, options, _Clock(REPEAT_SHARE * seconds, relay))
            seconds = max(1.0, seconds - (budget.now() - w0))
            clock.report(
                "weeks",
                None,
                state.bound,
                f"{label}: the week before repeated, "
                f"{len(again.validation.violations)} hard-rule breaks",
            )
        sub_clock = _Clock(seconds, relay)
        week = _solve_pipeline(
            sub, options, sub_clock, _Phases(sub_clock), want_bound=False, lp=lp_fits
        )
        # the weeks after one whose LP was too large are as large, with less time
        lp_fits = lp_fits and not week.lp_too_large
        r = week.final
        if again is not None and (r is None or again.score < r.score):
            r = again
        if r is None:
            # no roster for this week (its own rules, with what the weeks before decided, or
            # its time): the whole horizon's refinement starts with it empty
            clock.report("weeks", None, state.bound, f"{label}: no roster ({week.message})")
            continue
        rolling.lift(inst, sub, pc, r.chosen, r.breaks, r.channels, r.grants, lifted)
        clock.report(
            "weeks",
            None,
            state.bound,
            f"{label}: {len(r.validation.violations)} hard-rule breaks in the week",
        )
    phases.stop()
    phases.start("refine")
    for li in inst.requests:
        lifted.grants.setdefault(li, False)
    roster = state_of(
        inst, dict(lifted.chosen), lifted.breaks, dict(lifted.channels), lifted.grants
    )
    roster = _replace_breaks(inst, roster)
    return _refined(inst, roster, options, clock, phases, state, " over the horizon")


REPEAT_SHARE = 0.3
"""The share of a week's time (solved a week at a time) for refining the week before repeated
(``rolling.repeated``); its own plan gets the rest."""

FIRST_WEEK_WEIGHT = 1.5
"""The first week's time, solved a week at a time, against its days' share: it has no week
before to repeat, and a roster its plan leaves broken is the horizon refinement's to repair
(the example month's first week: its weekly masters took its whole share, 56 s, and its
refinement got 0.4 s, 21 hard-rule slots left, where the later weeks ended with 0-2)."""


def _repeated_week(
    sub: Instance, chosen: dict[int, list[int]], options: SolveOptions, clock: _Clock
) -> RosterState:
    """A week's roster started from the shifts ``chosen`` (the week before repeated): breaks
    and channels greedy, requests granted where the agent then works none of their days, then
    refined on the exact model until ``clock`` runs out."""
    breaks = greedy_breaks(sub, chosen)
    channels = greedy_channels(sub, chosen, breaks)
    p = sub.problem
    grants: dict[int, bool] = {}
    for li in sub.requests:
        lv = p.leave[li]
        days = set(lv.days())
        a = sub.agent(lv.agent_id).index
        grants[li] = lv.whole_days and not any(
            sub.options[o].day in days for o in chosen.get(a, [])
        )
    roster = _replace_breaks(sub, state_of(sub, chosen, breaks, channels, grants))
    return refine(sub, roster, options, lambda: clock.left)


def _days(
    inst: Instance,
    fam: Families,
    plan: MasterPlan,
    options: SolveOptions,
    per_day: float,
    exact: dict[tuple[int, int], int] | None,
    dplan: dict[int, list[int]] | None,
    clock: _Clock,
    bound: float | None,
    reserve: float = 0.0,
    held: HoldersWeek | None = None,
) -> tuple[dict[int, DayResult], int | None]:
    """The day models, forward (each day sees the shifts of the day before reaching into it),
    and the first day with no plan within its family counts (None: every day has one).

    With ``exact`` starts (the rounded plan's), a day that has no plan or leaves the break cap
    short is planned again with its family counts only (starts free within each family) while
    ``reserve`` seconds stay left after it: the rounded counts keep the break cap's room summed
    over each break window, which is necessary, not sufficient (robustness seed 16: the exact
    starts left 7 of 18 phone agents on break at 12:45 and cost 10,718; free starts, no rule
    short and 608)."""
    results: dict[int, DayResult] = {}
    held_on: dict[int, dict[int, int]] = defaultdict(dict)
    held_breaks = held.breaks if held is not None else None
    for a, opts in (held.chosen if held is not None else {}).items():
        for o in opts:
            held_on[inst.options[o].day][a] = o
    # what each deferred channel is staffed to (as the day models read it)
    targets = {
        c: staffing_target(inst.problem, dplan or {}, c)
        for c, ch in enumerate(inst.problem.channels)
        if ch.kind is ChannelKind.deferred
    }
    wanted = {c: target for c, target in targets.items() if any(target)}
    for d in range(inst.problem.days):
        window = day_window(inst, d)
        neighbours = _overlapping(results[d - 1].shifts, inst, window) if d - 1 in results else []
        done = done_before(results, inst, window[0])
        # the role holders' shifts decided (their breaks placed with everyone's)
        day = partial(
            solve_day,
            inst,
            fam,
            plan,
            d,
            neighbours,
            done,
            options,
            deferred_plan=dplan,
            held=held_on.get(d, {}),
            held_breaks=held_breaks,
            behind=behind_plan(results, wanted, window[0], slots_per_day(inst)),
        )
        res = day(per_day, exact=exact)
        if (
            exact is not None
            and (res is None or any(x.startswith(_CAP) for x in res.short))
            and clock.left - per_day * (inst.problem.days - d + 1) >= reserve
        ):
            free = day(per_day)
            if free is not None and (
                res is None
                or (len(free.short), free.objective or 0.0) < (len(res.short), res.objective or 0.0)
            ):
                res = free
        later = per_day * (inst.problem.days - d - 1)
        if res is None and clock.left - 2 * DAY_RETRY * per_day - later >= reserve:
            # no plan in the day's share (a time-out as often as a conflict: a week of the
            # example month lost its day 3 in 1.5 s, and with it every shift of the week)
            res = day(DAY_RETRY * per_day, exact=exact)
        if res is None:
            return results, d
        results[d] = res
        clock.report("days", None, bound, f"day {d + 1} of {inst.problem.days}")
    return results, None


DAY_RETRY = 4.0
"""A day with no plan in its share is tried once more with this many shares, while the time
left keeps the days to come their shares and the reserve (a failed try takes up to twice its
time: the hint's completion gets as much again)."""

MASTERS_LEFT = 0.4
"""The share of the limit that must be left for the weekly masters to plan again when the
rounded plan's days leave a rule short (the example month's rounded days ended at 218 s of
300 with 321 slots short; the masters then took the rest and left no roster)."""

_CAP = "break_share:"
"""The hard rule a day's free starts are tried for: the rounded counts keep the cap's room only
as a necessary condition. Floors and role cover left short go to the weekly masters as before
(roster_gen's 50-agent week: re-planning its days for them kept the rounded plan, 19,299,
where the masters' plan costs 2,644)."""

_REPAIRED = ("role_coverage:",)
"""Hard rules a day model may leave short that the later stages repair without a new plan."""


def _few_holders(inst: Instance) -> bool:
    """Whether the role holders are few enough for their own exact model (solver.holders)."""
    return 0 < len(role_holders(inst)) <= MAX_HOLDERS


def _short(results: dict[int, DayResult]) -> list[str]:
    return [x for res in results.values() for x in res.short]


def _cost(results: dict[int, DayResult]) -> float:
    return sum(res.objective or 0.0 for res in results.values())


def rounding_time(total: float, days: int) -> float:
    """Seconds for rounding the LP's counts: a tenth of the limit, a fifth beyond a week (the
    example month's rounding of PDLP's point found its first in 30-60 s; without it there is
    no plan: its weekly masters found none in 200 s)."""
    return max(2.0, (0.10 if days <= 7 else 0.20) * total)


def bound_time(total: float) -> float:
    """Seconds the aggregate bound may take out of a ``total``-second solve (an LP that solves
    sooner, as it mostly does, leaves the rest to the roster): a tenth, at least 5 s (the
    60-agent independent week's LP takes 3.4 s), at most 30 s; more for a larger LP expected
    to solve within 30 % of the limit (``solver.bound.lp_time``)."""
    return min(max(5.0, 0.10 * total), 30.0, max(1.0, 0.5 * total))


def _weekly_plan(
    inst: Instance,
    fam: Families,
    options: SolveOptions,
    clock: _Clock,
    total: float,
    last_resort: bool = True,
    held: HoldersWeek | None = None,
) -> MasterPlan | None:
    """Role holders' weeks first, per agent (role cover hard there, channel floors left to
    everyone), then the group master's family counts for every group with the holders' weeks
    kept. None when the masters' own model has no plan (stricter than the rules, so not a
    proof); raises MasterUnknown when nothing was found in time.
    The plan's ``assign`` names the holders' weeks; the other groups are named after the day
    models (solver.disaggregate). With ``held`` (the holders' exact weeks) they are kept as
    they are and left out of the plan's counts."""
    holders = {prep.index for prep in inst.agents if inst.classes[prep.class_index].roles}
    first: MasterPlan | None = None
    if held is not None:
        first = _held_plan(inst, fam, held)
    elif holders and inst.problem.roles:
        proven = True
        # a second holder wherever a break may fall, if the holders can; else the relaxation
        # hard (breaks covered as far as possible); else role cover elastic (a roster that
        # breaks it, explained, rather than none)
        for cover_breaks, strict in ((True, True), (False, True), (False, False)):
            try:
                first = solve_master(
                    inst,
                    fam,
                    options,
                    max(2.0, 0.05 * total),
                    strict=strict,
                    agents=holders,
                    floors=False,
                    cover_breaks=cover_breaks,
                )
            except MasterUnknown:
                first, proven = None, False
            if first is not None:
                break
        if first is None and proven:
            return None
        if first is None:  # no holders' weeks in time: the group master plans them too
            clock.report("master", None, None, "role holders planned with their groups")
        else:
            clock.report("master", None, None, f"weeks of {len(holders)} role holders")
    plan: MasterPlan | None = None
    if any(any(ch.min_staff) for ch in inst.problem.channels):
        # floors hard first (a guide the elastic version's search lacks: it may leave a lone
        # agent on a night whose breaks then leave the floor empty); elastic when they cannot
        # hold or nothing was found in time
        why = "floors cannot hold hard: elastic"
        try:
            plan = solve_group_master(
                inst, fam, options, max(2.0, 0.12 * total), fixed=first, strict_floors=True
            )
        except MasterUnknown:
            plan, why = None, "no plan with hard floors in time: elastic"
        clock.report("master", None, None, "floors hard" if plan else why)
    if plan is None:
        try:
            plan = solve_group_master(inst, fam, options, max(2.0, 0.10 * total), fixed=first)
        except MasterUnknown:
            if not last_resort:
                raise  # another plan exists: the time is its roster's
            # no plan yet: a larger share, then all that is left (without a plan there is no
            # roster, so time kept for the later steps would only be given back unused: the
            # example month stopped at 58 % of its limit with "no weekly plan")
            try:
                plan = solve_group_master(
                    inst, fam, options, max(2.0, 0.3 * clock.left), fixed=first
                )
            except MasterUnknown:
                plan = solve_group_master(
                    inst, fam, options, max(2.0, clock.left - 1.0), fixed=first
                )
    if plan is not None and first is not None:
        plan.assign = dict(first.assign)
        plan.grants.update(first.grants)
    if plan is not None and held is not None:
        _hold(inst, plan, held)
    return plan


def _as_master(inst: Instance, fam: Families, rounded: IntegerPlan) -> MasterPlan:
    """An integer plan as the day models read it: family counts per group and day."""
    plan = MasterPlan(objective=rounded.objective)
    for (g, o), n in rounded.counts.items():
        key = (g, inst.options[o].day, fam.of_option[o])
        plan.counts[key] = plan.counts.get(key, 0) + n
    for a, opts in rounded.special.items():
        for o in opts:
            plan.special[(a, inst.options[o].day)] = fam.of_option[o]
    plan.grants = dict(rounded.grants)
    return plan


def _holders_first(
    inst: Instance, options: SolveOptions, clock: _Clock, total: float
) -> HoldersWeek | None:
    """The role holders' weeks from their own exact model (``solver.holders``), for the weekly
    masters' path; None when there are no (or too many) holders or their role cover does not
    all hold there (the holders' master, then the repairs). Not on the rounded plan's path:
    there the LP's role cover and the rounding's room for it do better (planned first there,
    even kept to the rounded holders' shifts, the robustness suite lost 2 more weeks of 40 and
    its median gap went from 34 % to 43 %)."""
    if not inst.problem.roles or not _few_holders(inst):
        return None
    held = holders_week(inst, options, max(2.0, HOLDERS_SHARE * total))
    if held is None or not held.covered:
        return None
    clock.report("master", None, None, f"{len(held.chosen)} role holders' weeks, exactly")
    return held


HOLDERS_SHARE = 0.08
"""The share of the limit for the role holders' weeks (``solver.holders.holders_week``): a
week that keeps the rules took 0.8-3.1 s for 9-20 holders over 7-14 days, the rest goes to
placing them where the contacts are."""


def _held_plan(inst: Instance, fam: Families, held: HoldersWeek) -> MasterPlan:
    """The holders' weeks as a master plan (their groups' family counts, special days and
    names), which the group master keeps while it plans the others."""
    plan = MasterPlan(grants=dict(held.grants))
    for a, opts in held.chosen.items():
        prep = inst.agents[a]
        for o in opts:
            d, f = inst.options[o].day, fam.of_option[o]
            if d in prep.special_days:
                plan.special[(a, d)] = f
            else:
                key = (prep.group_index, d, f)
                plan.counts[key] = plan.counts.get(key, 0) + 1
                plan.assign[(a, d)] = f
    return plan


def _hold(inst: Instance, plan: MasterPlan, held: HoldersWeek) -> None:
    """Take the holders out of a plan's counts and special days (the day models get their
    shifts as decided), and name every day of their weeks with a marker family (-1) so that
    ``_named`` and the disaggregation leave their groups alone (their shifts come from
    ``held``)."""
    groups = {inst.agents[a].group_index for a in held.chosen}
    plan.counts = {key: n for key, n in plan.counts.items() if key[0] not in groups}
    plan.special = {key: f for key, f in plan.special.items() if key[0] not in held.chosen}
    plan.assign.update({(a, d): -1 for a in held.chosen for d in range(inst.problem.days)})
    plan.grants.update(held.grants)


def _named(
    inst: Instance, fam: Families, plan: MasterPlan, results: dict[int, DayResult]
) -> dict[int, list[int]]:
    """Options worked by the agents the master named (``plan.assign``): the day models' start
    counts per (group, option) of their groups handed to the agents on that family and day."""
    waiting: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for (a, d), f in sorted(plan.assign.items()):
        waiting[(inst.agents[a].group_index, d, f)].append(a)
    named = {inst.agents[a].group_index for a, _ in plan.assign}
    chosen: dict[int, list[int]] = defaultdict(list)
    for res in results.values():
        for (g, o), n in sorted(res.counts.items()):
            if g not in named:
                continue
            opt = inst.options[o]
            queue = waiting[(g, opt.day, fam.of_option[o])]
            for _ in range(n):
                chosen[queue.pop()].append(o)
        for a, o in res.special.items():
            if inst.agents[a].group_index in named:
                chosen[a].append(o)
    for opts in chosen.values():
        opts.sort(key=lambda o: inst.options[o].start)
    return chosen


def _day_breaks(
    inst: Instance, chosen: dict[int, list[int]], results: dict[int, DayResult]
) -> dict[tuple[int, int], list[int]]:
    """The day models' break placements handed to the named shifts of the same class and
    option (training days and shifts the agents did not take are left to the greedy)."""
    pool: dict[tuple[int, int], list[tuple[int, ...]]] = defaultdict(list)
    for res in results.values():
        for fs in res.shifts:
            if not fs.unavailable:
                pool[(fs.klass, fs.option)].append(fs.breaks)
    out: dict[tuple[int, int], list[int]] = {}
    for a, opts in sorted(chosen.items()):
        prep = inst.agents[a]
        for o in opts:
            if inst.options[o].day in prep.on_shift_leave:
                continue
            starts = pool.get((prep.class_index, o))
            if starts:
                out[(a, o)] = list(starts.pop())
    return out


def _replace_breaks(inst: Instance, state: RosterState, rounds: int = 4) -> RosterState:
    """The breaks of the shifts on a broken floor, role cover or break cap (of the agents it
    concerns) placed again, last and greedily, with every other break kept (cheap: no model);
    kept while it breaks fewer rules. All their breaks, not only those at the broken slot: with
    four agents on a night and a cap of one, their twelve breaks must interleave."""
    for _ in range(rounds):
        culprits: set[tuple[int, int]] = set()
        for x in state.validation.violations:
            if x.slot is None:
                continue
            for a, opts in state.chosen.items():
                agent = inst.agents[a].agent
                if x.rule == "break_share":
                    concerned = bool(agent.skills) and agent.skills[0] == x.subject
                elif x.rule == "role_coverage":
                    concerned = x.subject in agent.roles
                else:
                    concerned = x.subject in agent.skills
                if not concerned:
                    continue
                for o in opts:
                    if x.slot in inst.options[o].slots and inst.options[o].break_windows:
                        culprits.add((a, o))
        if not culprits:
            break
        kept = {key: starts for key, starts in state.breaks.items() if key not in culprits}
        breaks = greedy_breaks(inst, state.chosen, fixed=kept)
        channels = greedy_channels(inst, state.chosen, breaks)
        cand = state_of(inst, state.chosen, breaks, channels, state.grants)
        if cand.score >= state.score:
            break
        state = cand
    return state


def _leave_decisions(
    inst: Instance, roster: list[ShiftAssignment], val: Validation
) -> list[LeaveDecision]:
    p = inst.problem
    cov = {(r.channel, r.slot): r for r in val.coverage}
    out = []
    for li, lv in enumerate(p.leave):
        if lv.status is not LeaveStatus.requested:
            continue
        ok = val.granted.get(li, False)
        if ok:
            out.append(
                LeaveDecision(leave_index=li, agent_id=lv.agent_id, granted=True, reason="granted")
            )
            continue
        short: dict[str, list[int]] = defaultdict(list)
        for sh in roster:
            if sh.agent_id != lv.agent_id:
                continue
            overlaps = (
                sh.day in lv.days() if lv.whole_days else (sh.start < lv.end and lv.start < sh.end)
            )
            if not overlaps:
                continue
            for seg in sh.work:
                if seg.channel is None:
                    continue
                for t in range(seg.start // p.slot_minutes, seg.end // p.slot_minutes):
                    row = cov.get((seg.channel, t))
                    if row is not None and row.scheduled <= row.required:
                        short[seg.channel].append(t)
        if short:
            parts = []
            for ch, slots in short.items():
                runs = slot_runs(sorted(set(slots)))
                text = ", ".join(
                    slot_range_name(p.horizon_start, a, b, p.slot_minutes) for a, b in runs[:3]
                )
                more = f" and {len(runs) - 3} more" if len(runs) > 3 else ""
                parts.append(f"{ch} would be short on {text}{more}")
            reason = "refused: " + "; ".join(parts)
        else:
            reason = (
                "refused: the agent is needed to meet contract hours, role cover or "
                "minimum staffing"
            )
        out.append(
            LeaveDecision(leave_index=li, agent_id=lv.agent_id, granted=False, reason=reason)
        )
    return out


def _result(
    inst: Instance, state: _State, options: SolveOptions, clock: _Clock, phases: dict[str, float]
) -> RosterResult:
    p = inst.problem
    common: dict[str, Any] = dict(
        solver_version=f"ortools {version('ortools')}",
        problem_sha256=problem_hash(p),
        phases={k: round(v, 3) for k, v in phases.items()},
    )
    if state.infeasible or state.suspect or (state.chosen is None and state.bound is None):
        # proven infeasible, or nothing at all in time: say why where a conflict can be shown;
        # "infeasible" only with a proof (CP-SAT's, or a conflict the explanation confirms),
        # else the time ran out (robustness seed 16 on a starved CPU: no LP, no weekly plan)
        t0 = clock.elapsed
        conflicts = explain(inst, options, max(5.0, min(60.0, clock.left)))
        common["phases"]["explain"] = round(clock.elapsed - t0, 3)
        proven = state.infeasible or bool(conflicts)
        return RosterResult(
            status=SolveStatus.infeasible if proven else SolveStatus.timeout_no_solution,
            wall_time_s=clock.elapsed,
            best_bound=None if state.infeasible else state.bound,
            explanation=tuple(conflicts),
            message=state.message,
            **common,
        )
    if state.chosen is None:
        return RosterResult(
            status=SolveStatus.timeout_no_solution,
            wall_time_s=clock.elapsed,
            best_bound=state.bound,
            message=state.message,
            **common,
        )
    val = validate(p, state.roster)
    if not val.ok:
        # the best roster breaks hard rules: say why (and whether that is provably unavoidable)
        t0 = clock.elapsed
        # a few seconds beyond the limit are worth a plain-words reason
        conflicts = explain(inst, options, max(5.0, clock.left))
        common["phases"]["explain"] = round(clock.elapsed - t0, 3)
        broken = "; ".join(str(x) for x in val.violations[:8])
        more = f" and {len(val.violations) - 8} more" if len(val.violations) > 8 else ""
        status_ = SolveStatus.infeasible if conflicts else SolveStatus.timeout_no_solution
        return RosterResult(
            status=status_,
            wall_time_s=round(clock.elapsed, 3),
            best_bound=state.bound,
            assignments=tuple(state.roster),
            coverage=tuple(val.coverage),
            explanation=tuple(conflicts),
            message=f"the best roster found breaks {len(val.violations)} hard rules: "
            f"{broken}{more}",
            **common,
        )
    objective = val.objective
    bound = state.bound
    if bound is not None:
        bound = min(bound, objective)
    gap = (
        None
        if bound is None
        else (0.0 if objective <= 1e-9 else max(0.0, (objective - bound) / objective))
    )
    status = SolveStatus.optimal if state.optimal else SolveStatus.feasible
    message = state.message
    return RosterResult(
        status=status,
        objective=round(objective, 6),
        best_bound=None if bound is None else round(bound, 6),
        gap=None if gap is None else round(gap, 6),
        wall_time_s=round(clock.elapsed, 3),
        assignments=tuple(state.roster),
        coverage=tuple(val.coverage),
        penalties=tuple(
            PenaltyRecord(
                rule_id=x.rule_id, subject=x.subject, cost=round(x.cost, 6), detail=x.detail
            )
            for x in val.penalties
        ),
        leave_decisions=tuple(_leave_decisions(inst, state.roster, val)),
        message=message.strip(),
        **common,
    )
