"""The channel split for named shifts and breaks, optimal for the roster's coverage costs.

Once shifts and breaks are fixed, which channel each multi-skilled agent works in each slot
changes only the coverage terms of the objective: under- and over-cover of the immediate
channels and the lateness and idle capacity of the deferred ones (whose backlog links the
slots of a whole day). That is a linear programme (per slot and class, the agents free for
contacts shared over their open channels; per deferred channel and work class, the cumulative
units done, never more than have arrived, overdue beyond what is due), solved here with HiGHS
through ``scipy.optimize`` and rounded slot by slot (largest remainders, so every agent keeps
a channel). The greedy split (``solver.greedy.greedy_channels``) decides one slot at a time
against the level-loaded requirement and cannot move message work to where the backlog
needs it: on the 50-agent benchmark week its split left 2,594 agent-slots of message work
late where the roster's agents could do it. Floors are kept as rows, elastic at a price far
above any cover (a floor the shifts cannot hold stays the validator's to report).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from solver.greedy import available, open_channels
from solver.prep import Instance
from solver.schema import ChannelKind
from solver.units import WORK_UNITS, work_units

__all__ = ["best_channels"]

_FLOOR_WEIGHT = 1e4
"""Cost of an agent-slot short of a floor (any cover weight is far below it)."""


class _Lp:
    """A sparse LP built row by row: minimise c x, A_eq x = b_eq, A_ub x <= b_ub, bounds."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.bounds: list[tuple[float, float | None]] = []
        self.eq: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])
        self.ub: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])

    def var(self, cost: float, lo: float = 0.0, hi: float | None = None) -> int:
        self.cost.append(cost)
        self.bounds.append((lo, hi))
        return len(self.cost) - 1

    def row(self, terms: list[tuple[int, float]], rhs: float, equal: bool) -> None:
        rows, cols, vals, b = self.eq if equal else self.ub
        r = len(b)
        for j, a in terms:
            rows.append(r)
            cols.append(j)
            vals.append(a)
        b.append(rhs)

    def solve(self) -> np.ndarray | None:
        n = len(self.cost)

        def matrix(
            part: tuple[list[int], list[int], list[float], list[float]],
        ) -> tuple[coo_matrix | None, np.ndarray | None]:
            rows, cols, vals, b = part
            if not b:
                return None, None
            return coo_matrix((vals, (rows, cols)), shape=(len(b), n)).tocsr(), np.asarray(b)

        a_eq, b_eq = matrix(self.eq)
        a_ub, b_ub = matrix(self.ub)
        res = linprog(
            np.asarray(self.cost),
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=self.bounds,
            method="highs",
        )
        return res.x if res.status == 0 else None


def best_channels(
    inst: Instance, chosen: dict[int, list[int]], breaks: dict[tuple[int, int], list[int]]
) -> dict[tuple[int, int, int], int] | None:
    """Agents per (class, channel, slot) minimising the coverage costs of these shifts and
    breaks (the LP's optimum rounded slot by slot); None when the LP has no answer."""
    p = inst.problem
    n = p.n_slots
    lp = _Lp()
    fixed = np.zeros((len(p.channels), n))
    single: dict[tuple[int, int, int], int] = {}
    cover: dict[tuple[int, int], list[int]] = defaultdict(list)  # (channel, slot) -> z columns
    split: list[tuple[int, int, int, list[tuple[int, int]]]] = []  # (class, slot, agents, cols)
    for (k, t), count in sorted(available(inst, chosen, breaks).items()):
        open_ = open_channels(inst, k, t)
        if len(open_) == 1:
            fixed[open_[0], t] += count
            single[(k, open_[0], t)] = count
        elif open_:
            cols = [(c, lp.var(0.0, 0.0, float(count))) for c in open_]
            lp.row([(j, 1.0) for _, j in cols], float(count), equal=True)
            split.append((k, t, count, cols))
            for c, j in cols:
                cover[(c, t)].append(j)
    if not split:
        return single
    for c, ch in enumerate(p.channels):
        floors = ch.min_staff
        deferred = ch.kind is ChannelKind.deferred and ch.deferred is not None
        if deferred:
            _backlog(inst, lp, c, fixed[c], cover)
        else:
            w_under, w_over = p.channel_weights(ch)
            for t in range(n):
                zs = cover.get((c, t), [])
                if not zs:
                    continue
                # cover + under - over = required
                under, over = lp.var(w_under), lp.var(w_over)
                terms = [(j, 1.0) for j in zs] + [(under, 1.0), (over, -1.0)]
                lp.row(terms, float(ch.required[t]) - fixed[c, t], equal=True)
        if floors:
            for t in range(n):
                zs = cover.get((c, t), [])
                if zs and floors[t] > fixed[c, t]:
                    short = lp.var(_FLOOR_WEIGHT)
                    terms = [(j, -1.0) for j in zs] + [(short, -1.0)]
                    lp.row(terms, fixed[c, t] - floors[t], equal=False)
    x = lp.solve()
    return None if x is None else _rounded(single, split, x)


def _backlog(
    inst: Instance,
    lp: _Lp,
    c: int,
    fixed: np.ndarray,
    cover: dict[tuple[int, int], list[int]],
) -> None:
    """A deferred channel's rows: per work class the cumulative units done (never more than
    have arrived, never decreasing), the units done per slot within the capacity of the agents
    on the channel, overdue units and idle capacity priced as the validator prices them."""
    p = inst.problem
    ch = p.channels[c]
    assert ch.deferred is not None
    w = p.weights
    n = p.n_slots
    late, idle_w = w.deferred_late / WORK_UNITS, w.over_cover / WORK_UNITS
    classes = [work_units(a, d) for a, d in zip(ch.deferred.arrived, ch.deferred.due, strict=True)]
    done = [[lp.var(0.0, 0.0, float(arrived[t])) for t in range(n)] for arrived, _ in classes]
    for j, (_arrived, due) in enumerate(classes):
        for t in range(n):
            if t:
                # never decreasing: done[t-1] - done[t] <= 0
                lp.row([(done[j][t - 1], 1.0), (done[j][t], -1.0)], 0.0, equal=False)
            if due[t] > 0:
                # overdue >= due - done
                overdue = lp.var(late)
                lp.row([(done[j][t], -1.0), (overdue, -1.0)], -float(due[t]), equal=False)
    for t in range(n):
        # units done in slot t + idle = WORK_UNITS x agents on the channel
        idle = lp.var(idle_w)
        terms = [(idle, 1.0)]
        for j in range(len(classes)):
            terms.append((done[j][t], 1.0))
            if t:
                terms.append((done[j][t - 1], -1.0))
        terms += [(z, -float(WORK_UNITS)) for z in cover.get((c, t), [])]
        lp.row(terms, WORK_UNITS * float(fixed[t]), equal=True)


def _rounded(
    single: dict[tuple[int, int, int], int],
    split: list[tuple[int, int, int, list[tuple[int, int]]]],
    x: np.ndarray,
) -> dict[tuple[int, int, int], int]:
    """The LP's split rounded per (class, slot): floors, then the agents left over to the
    largest fractions (ties to the class's primary channel), so the counts add up."""
    out = dict(single)
    for k, t, total, cols in split:
        vals = [max(0.0, float(x[j])) for _, j in cols]
        ints = [math.floor(v + 1e-6) for v in vals]
        left = total - sum(ints)
        order = sorted(range(len(cols)), key=lambda i: (-(vals[i] - ints[i]), i))
        for i in order[: max(0, left)]:
            ints[i] += 1
        for (c, _), m in zip(cols, ints, strict=True):
            if m:
                out[(k, c, t)] = m
    return out
