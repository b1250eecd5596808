"""Coverage-core rules counted per shift rather than per slot: per-day shift cover (agents on a
shift type on a day) and the cost of each distinct shift used (shift design).

Both read the core's counts, so they hold in the exact model (counts of named agents), in the
aggregate (group counts: a valid relaxation) and in window models (decided shifts in the window
enter as constants).
"""

from __future__ import annotations

from collections import defaultdict

from solver.schema import DAY
from solver.shifts import clock, day_name
from solver.variables import Expr, Vars

__all__ = ["add_distinct_shifts", "add_shift_cover", "shift_counts"]


def shift_counts(v: Vars) -> dict[int, list[Expr]]:
    """Per option: the count terms of agents working it (core counts, agent-days with explicit
    breaks, and decided shifts given as constants)."""
    out: dict[int, list[Expr]] = defaultdict(list)
    for (_k, o), n in v.n_.items():
        out[o].append(n)
    for specials in v.special_.values():
        for sp in specials:
            out[sp.option].append(sp.var)
    for fs in v.fixed_shifts:
        out[fs.option].append(fs.count)
    return out


def _day_modelled(v: Vars, d: int) -> bool:
    """Is the day's start inside the modelled window (always, without a window)?"""
    if v.window is None:
        return True
    spd = DAY // v.inst.problem.slot_minutes
    return v.window[0] <= d * spd < v.window[1]


def add_shift_cover(v: Vars) -> None:
    """Soft: per ``ShiftCover`` row, the agents working that shift type on that day against the
    requirement; each agent short costs the under weight, each one above the over weight."""
    p = v.inst.problem
    if not p.shift_cover:
        return
    by_type_day: dict[tuple[str, int], list[Expr]] = defaultdict(list)
    for o, terms in shift_counts(v).items():
        opt = v.option(o)
        by_type_day[(opt.type_id, opt.day)].extend(terms)
    total = len(p.agents)
    for row in p.shift_cover:
        if not _day_modelled(v, row.day):
            continue
        wu = p.weights.shift_cover_under if row.under_weight is None else row.under_weight
        wo = p.weights.shift_cover_over if row.over_weight is None else row.over_weight
        subject = f"{row.shift_type}:{row.day}"
        label = f"{row.shift_type} on {day_name(p.horizon_start, row.day)}"
        terms = by_type_day.get((row.shift_type, row.day), [])
        have = sum(terms) if terms else 0
        if isinstance(have, int):
            v.penalize("shift_cover.under", subject, max(0, row.required - have), wu, label)
            v.penalize("shift_cover.over", subject, max(0, have - row.required), wo, label)
            continue
        under = v.int_var(0, row.required, f"scu[{subject}]")
        over = v.int_var(0, total, f"sco[{subject}]")
        v.add(have + under - over == row.required)
        v.penalize("shift_cover.under", subject, under, wu, label)
        v.penalize("shift_cover.over", subject, over, wo, label)


def add_distinct_shifts(v: Vars) -> None:
    """Soft: each distinct shift (start time of the day, length) worked anywhere costs
    ``weights.distinct_shift`` once, whatever its type, day or count (minimum shift design).
    In a window model, shifts outside the window are not seen: a shift used only there is
    judged by the validator."""
    p = v.inst.problem
    w = p.weights.distinct_shift
    if w == 0 or "shifts.distinct" in p.disabled_rules:
        return
    by_key: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    for o, terms in shift_counts(v).items():
        opt = v.option(o)
        by_key[(opt.start % DAY, opt.length)].extend(terms)
    for (start, length), terms in sorted(by_key.items()):
        name = f"{clock(start)}+{length}min"
        if any(isinstance(t, int) and t > 0 for t in terms):
            v.distinct_[(start, length)] = 1
            v.penalize("shifts.distinct", name, 1, w, f"shift {name} used")
            continue
        variables = [t for t in terms if not isinstance(t, int)]
        if not variables:
            continue
        used = v.bool_var(f"used[{start},{length}]")
        for t in variables:
            v.add(t == 0, when=[used.negated()])
        v.distinct_[(start, length)] = used
        v.penalize("shifts.distinct", name, used, w, f"shift {name} used")
