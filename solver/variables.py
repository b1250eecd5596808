"""The variable container: it owns every index, so rules ask ``v.works(a, d)``, never ``x[a][d]``.

Two layers share it:

* the *agent layer*: ``x(a, o)`` is 1 when agent ``a`` works shift option ``o``. In the exact
  model every agent is free; in a neighbourhood some agents are fixed (their ``x`` are constants);
  in the aggregate model only special agent-days have ``x`` (others are group counts ``y``).
* the *coverage core*: per coverage class ``k`` and option ``o`` the count ``n(k, o)`` of agents
  working it (those whose breaks are placed as counts), break start counts ``br`` per class,
  option and break, explicit breaks of agent-days with training, channel split ``w(k, c, t)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver.prep import Instance
from solver.schema import RosterProblem
from solver.shifts import ShiftOption
from solver.soft import Penalty

__all__ = ["ELASTIC_WEIGHT", "Expr", "FixedShift", "SpecialShift", "Vars", "staffing_target"]

ELASTIC_WEIGHT = 10_000.0  # per unit short of a hard floor, role cover or break cap

Expr = Any  # a CP-SAT linear expression, variable or integer


@dataclass
class SpecialShift:
    """An individually modelled agent-day shift: its variable, explicit breaks, unavailability."""

    agent: int
    option: int
    var: Expr
    breaks: list[dict[int, Expr]] = field(default_factory=list)
    """Per break of the shift type: start slot -> variable (1 when the break starts there)."""
    unavailable: set[int] = field(default_factory=set)
    """Slots of the shift in which the agent is on shift but not available (training)."""


@dataclass(frozen=True)
class FixedShift:
    """A shift that is decided (a neighbouring day, a fixed agent): constants in the pools."""

    klass: int
    option: int
    breaks: tuple[int, ...]
    """Break start slots, one per break of the shift type."""
    unavailable: frozenset[int] = frozenset()
    count: int = 1


def staffing_target(problem: RosterProblem, plan: Mapping[int, list[int]], c: int) -> list[int]:
    """Agents wanted per slot on channel c: its plan when one is given (a deferred channel's),
    else its own requirement."""
    return plan.get(c) or list(problem.channels[c].required)


@dataclass
class Vars:
    model: cp_model.CpModel
    inst: Instance
    aggregate: bool = False
    x_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    y_: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    grant_: dict[int, Expr] = field(default_factory=dict)
    n_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    special_: dict[int, list[SpecialShift]] = field(default_factory=lambda: defaultdict(list))
    br_: dict[tuple[int, int, int], dict[int, cp_model.IntVar]] = field(default_factory=dict)
    """(class, option, break) -> start slot -> agents of that class and option starting it."""
    w_: dict[tuple[int, int, int], Expr] = field(default_factory=dict)
    avail_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    duty_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    on_break_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    on_shift_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    idle_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    coverage_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    deferred_: dict[int, Any] = field(default_factory=dict)
    free_agents: set[int] = field(default_factory=set)
    assumptions: list[tuple[Expr, str, str]] = field(default_factory=list)
    """(literal, rule id, plain-words description) for explanations; empty unless requested."""
    track_assumptions: bool = False
    elastic: bool = True
    """Coupling hard rules (floors, role cover, break cap) get a slack with a dominant penalty, so
    every choice of shifts extends to a solution; a roster with slack left breaks them."""
    penalties: list[Penalty] = field(default_factory=list)
    rule_only: set[tuple[int, int]] = field(default_factory=set)
    """(agent, option) constants the agent rules see but the coverage core ignores (a free
    agent's shifts outside the window; those reaching into it come as fixed shifts)."""
    window: tuple[int, int] | None = None
    """Slots [lo, hi) modelled by the coverage core; None: the whole horizon."""
    fixed_shifts: list[FixedShift] = field(default_factory=list)
    """Decided shifts whose on-shift, break and availability counts enter the pools as constants."""
    deferred_done: dict[tuple[int, int], int] = field(default_factory=dict)
    """(channel, work class) -> units already done before the window."""
    deferred_u_: dict[tuple[int, int, int], Expr] = field(default_factory=dict)
    """(channel, work class, slot) -> units done in the slot."""
    distinct_: dict[tuple[int, int], Expr] = field(default_factory=dict)
    """(start minute of the day, length) -> 1 when that shift is used (distinct-shift rule)."""
    chain_pools: bool = False
    """Count agents on shift per slot from the slot before (starts minus ends) rather than as a
    sum over every shift covering the slot: sparser, the same solutions (shift design)."""
    deferred_as_target: bool = False
    """Staff deferred channels to their per-slot plan instead of the backlog model (day models)."""
    deferred_plan: dict[int, list[int]] = field(default_factory=dict)
    """Channel -> agents per slot: the plan a deferred channel is staffed to (with
    ``deferred_as_target``) instead of the channel's own level-loaded requirement."""
    deferred_behind: dict[int, int] = field(default_factory=dict)
    """Channel -> agent-slots of its plan not yet worked when the window opens (day models)."""

    def required(self, c: int) -> list[int]:
        """Agents wanted per slot on channel c (a deferred channel's plan when one is given)."""
        return staffing_target(self.inst.problem, self.deferred_plan, c)

    # ------------------------------------------------------------------ agent layer
    def option(self, o: int) -> ShiftOption:
        return self.inst.options[o]

    def x(self, a: int, o: int) -> Expr:
        """1 when agent a works option o (a constant 0/1 for fixed agents or forbidden options)."""
        return self.x_.get((a, o), 0)

    def var_days(self) -> set[tuple[int, int]]:
        """Agent-days that have shift variables (not constants)."""
        return {
            (a, self.inst.options[o].day)
            for (a, o), var in self.x_.items()
            if not isinstance(var, int)
        }

    def agent_options(self, a: int, d: int) -> list[int]:
        return [o for o in self.inst.agents[a].options_by_day.get(d, []) if (a, o) in self.x_]

    def works(self, a: int, d: int) -> Expr:
        """1 when agent a works a shift that starts on day d."""
        terms = [
            self.x_[(a, o)]
            for o in self.inst.agents[a].options_by_day.get(d, [])
            if (a, o) in self.x_
        ]
        return sum(terms) if terms else 0

    def shifts_where(self, a: int, pred: Any) -> Expr:
        terms = [v for (ai, o), v in self.x_.items() if ai == a and pred(self.inst.options[o])]
        return sum(terms) if terms else 0

    def grant(self, leave_index: int) -> Expr:
        """1 when requested leave is granted."""
        return self.grant_.get(leave_index, 0)

    def y(self, g: int, o: int) -> Expr:
        return self.y_.get((g, o), 0)

    # ------------------------------------------------------------------ coverage core
    def n(self, k: int, o: int) -> Expr:
        """Agents of class k working option o whose breaks are placed as counts."""
        return self.n_.get((k, o), 0)

    def specials(self, k: int) -> list[SpecialShift]:
        return self.special_.get(k, [])

    def avail(self, k: int, t: int) -> Expr:
        """Agents of class k available for contacts in slot t."""
        return self.avail_.get((k, t), 0)

    def on_duty(self, k: int, t: int) -> Expr:
        """Agents of class k on duty (on shift, not on break or in training) in slot t."""
        return self.duty_.get((k, t), 0)

    def on_break(self, k: int, t: int) -> Expr:
        return self.on_break_.get((k, t), 0)

    def on_shift(self, k: int, t: int) -> Expr:
        return self.on_shift_.get((k, t), 0)

    def w(self, k: int, c: int, t: int) -> Expr:
        """Agents of class k working channel c in slot t."""
        return self.w_.get((k, c, t), 0)

    def coverage(self, c: int, t: int) -> Expr:
        return self.coverage_.get((c, t), 0)

    # ------------------------------------------------------------------ helpers
    def slots(self) -> range:
        """Slots modelled by the coverage core."""
        n = self.inst.problem.n_slots
        if self.window is None:
            return range(n)
        return range(max(0, self.window[0]), min(n, self.window[1]))

    def slot(self, t: int) -> int | None:
        """The modelled slot that absolute slot t counts in (wrapped on a cyclic horizon), or
        None when it is outside the horizon or the window."""
        tt = self.inst.problem.slot_index(t)
        return tt if tt is not None and self.in_window(tt) else None

    def in_window(self, t: int) -> bool:
        n = self.inst.problem.n_slots
        if not 0 <= t < n:
            return False
        return self.window is None or self.window[0] <= t < self.window[1]

    def int_var(self, lo: int, hi: int, name: str) -> cp_model.IntVar:
        return self.model.new_int_var(lo, hi, name)

    def bool_var(self, name: str) -> cp_model.IntVar:
        return self.model.new_bool_var(name)

    def enforce(self, rule_id: str, subject: str, description: str) -> list[Expr]:
        """Enforcement literals for a hard rule instance (empty when not tracking)."""
        if not self.track_assumptions:
            return []
        lit = self.model.new_bool_var(f"assume[{rule_id}:{subject}]")
        self.assumptions.append((lit, rule_id, description))
        return [lit]

    def add_false(self, lits: Iterable[Expr]) -> None:
        """A constraint that cannot hold (enforced by lits, if any)."""
        lits = list(lits)
        if lits:
            self.model.add_bool_or([lit.negated() for lit in lits])
        else:
            self.model.add_bool_or([])

    def add(self, comparison: Any, lits: Iterable[Expr] = (), when: Iterable[Expr] = ()) -> Any:
        """Add ``comparison`` (e.g. ``a + b <= 1``), enforced by the rule's literals and ``when``.

        A comparison of constants arrives as a Python bool: true adds nothing, false makes the
        enforcing literals (or the model) infeasible.
        """
        lits = list(lits)
        if isinstance(comparison, bool) or type(comparison).__name__ == "bool_":
            if not comparison:
                self.add_false([*lits, *when])
            return None
        ct = self.model.add(comparison)
        enforce = [*lits, *when]
        if enforce:
            ct.only_enforce_if(enforce)
        return ct

    def at_least(
        self,
        rule_id: str,
        subject: str,
        lhs: Expr,
        rhs: int,
        lits: Iterable[Expr],
        unit: int = 1,
    ) -> None:
        """``lhs >= rhs`` for a coupling hard rule: strict when tracking or not elastic,
        otherwise with a shortfall costing ELASTIC_WEIGHT per agent short, where one agent is
        ``unit`` of ``lhs`` (the break cap counts in hundredths: one agent too many on break
        weighs what one agent short of a floor does, as the validator counts them)."""
        lits = list(lits)
        if self.track_assumptions or not self.elastic:
            self.add(lhs >= rhs, lits)
            return
        if isinstance(lhs, int):
            if lhs < rhs:
                self.penalize(f"hard.{rule_id}", subject, -(-(rhs - lhs) // unit), ELASTIC_WEIGHT)
            return
        short = self.int_var(
            0, max(0, rhs) // unit + 100 * len(self.inst.agents), f"short[{rule_id}:{subject}]"
        )
        self.add(lhs + unit * short >= rhs)
        self.penalize(f"hard.{rule_id}", subject, short, ELASTIC_WEIGHT)

    def penalize(
        self, rule_id: str, subject: str, var: Expr, weight: float, label: str = ""
    ) -> None:
        if rule_id in self.inst.problem.disabled_rules or weight == 0:
            return
        self.penalties.append(Penalty(rule_id, subject, var, weight, label))
