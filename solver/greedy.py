"""Fast placement of breaks and channels once shifts are named (a starting point for refinement).

Breaks go one at a time, tightest window first, to the start that does the least harm: a floor
or role cover broken, the break cap exceeded, then under- and over-cover, estimated with
multi-skilled agents shared evenly over their channels. Channels are then split slot by slot:
single-skilled agents on their channel, multi-skilled ones one by one where they help most.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from solver.prep import Instance
from solver.schema import ChannelKind

__all__ = ["available", "greedy_breaks", "greedy_channels", "open_channels"]

_BROKEN = 1e6


def _requirements(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    p = inst.problem
    n = p.n_slots
    req = np.zeros((len(p.channels), n))
    floor = np.zeros((len(p.channels), n))
    for c, ch in enumerate(p.channels):
        if ch.required:
            req[c] = np.asarray(ch.required[:n], dtype=float)
        if ch.min_staff:
            floor[c] = np.asarray(ch.min_staff[:n], dtype=float)
    return req, floor


def _cover_cost(x: float, req: float, under: float, over: float) -> float:
    return under * max(0.0, req - x) + over * max(0.0, x - req)


def greedy_breaks(
    inst: Instance,
    chosen: dict[int, list[int]],
    fixed: dict[tuple[int, int], list[int]] | None = None,
) -> dict[tuple[int, int], list[int]]:
    """Break start slots per (agent, option); ``fixed`` breaks are kept as they are."""
    p = inst.problem
    n = p.n_slots
    s = p.slot_minutes
    w = p.weights
    req, floor = _requirements(inst)
    chan = inst.channel_index
    est = np.zeros((len(p.channels), n))  # estimated agents per channel
    duty: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    on_p = np.zeros((len(p.channels), n))  # on shift by primary channel
    brk_p = np.zeros((len(p.channels), n))
    role_need: dict[str, np.ndarray] = {}
    for req_role in p.roles:
        role_need[req_role.role] = np.maximum(
            role_need.get(req_role.role, np.zeros(n)),
            np.asarray(req_role.slots[:n], dtype=np.float64) * req_role.count,
        )
    share_cap = p.rules.max_on_break_share
    pending: list[tuple[float, int, int, int, int]] = []  # (starts per slot, a, o, break, dur)
    out: dict[tuple[int, int], list[int]] = {}
    for a, opts in chosen.items():
        prep = inst.agents[a]
        skills = [chan[c] for c in prep.agent.skills]
        primary = skills[0] if skills else -1
        for o in opts:
            opt = inst.options[o]
            blocked = set(opt.slots[: opt.briefing_slots])
            for lo, hi in prep.on_shift_leave.get(opt.day, []):
                blocked.update(t for t in opt.slots if t * s < hi and lo < (t + 1) * s)
            for t in opt.slots:
                if t >= n:
                    continue
                if primary >= 0:
                    on_p[primary, t] += 1
                if t not in blocked or t < opt.first_slot + opt.briefing_slots:
                    for r in prep.agent.roles:
                        duty[r][t] += 1
                if t not in blocked:
                    for c in skills:
                        est[c, t] += 1.0 / len(skills)
            given = (fixed or {}).get((a, o))
            out[(a, o)] = list(given) if given is not None else [-1] * len(opt.break_windows)
            for b, (first, last, dur) in enumerate(opt.break_windows):
                if given is not None:
                    _apply(est, duty, brk_p, a, o, b, given[b], dur, inst, skills, primary, n)
                else:
                    pending.append(((last - first + 1) / dur, a, o, b, dur))
    # the most constrained breaks first: fewest starts per slot of break (a 90-minute lunch
    # with nine starts before a 15-minute break with seven, else the short breaks fill the
    # slots the lunches cannot avoid and the break cap breaks at midday)
    pending.sort()
    for _, a, o, b, dur in pending:
        prep = inst.agents[a]
        opt = inst.options[o]
        first, last, _ = opt.break_windows[b]
        skills = [chan[c] for c in prep.agent.skills]
        primary = skills[0] if skills else -1
        best, best_cost = first, math.inf
        for t0 in range(first, last + 1):
            if any(t in _training(inst, a, o) for t in range(t0, t0 + dur)):
                continue
            cost = 0.0
            for t in range(t0, min(t0 + dur, n)):
                for c in skills:
                    x = est[c, t]
                    d = 1.0 / len(skills)
                    if x - d < floor[c, t] - 1e-9:
                        cost += _BROKEN
                    under = w.under_cover
                    if p.channels[c].kind is ChannelKind.deferred:
                        under = max(w.under_cover, w.deferred_late * 60 / s)
                    cost += _cover_cost(x - d, req[c, t], under, w.over_cover) - _cover_cost(
                        x, req[c, t], under, w.over_cover
                    )
                for r in prep.agent.roles:
                    if r in role_need and duty[r][t] - 1 < role_need[r][t]:
                        cost += _BROKEN
                if primary >= 0 and share_cap < 1:
                    cap = math.ceil(share_cap * on_p[primary, t] - 1e-9)
                    if brk_p[primary, t] + 1 > max(1, cap):
                        cost += _BROKEN
            if cost < best_cost:
                best, best_cost = t0, cost
        out[(a, o)][b] = best
        _apply(est, duty, brk_p, a, o, b, best, dur, inst, skills, primary, n)
    return out


def _training(inst: Instance, a: int, o: int) -> set[int]:
    opt = inst.options[o]
    s = inst.problem.slot_minutes
    return {
        t
        for lo, hi in inst.agents[a].on_shift_leave.get(opt.day, [])
        for t in opt.slots
        if t * s < hi and lo < (t + 1) * s
    }


def _apply(
    est: np.ndarray,
    duty: dict[str, np.ndarray],
    brk_p: np.ndarray,
    a: int,
    o: int,
    b: int,
    t0: int,
    dur: int,
    inst: Instance,
    skills: list[int],
    primary: int,
    n: int,
) -> None:
    for t in range(t0, min(t0 + dur, n)):
        for c in skills:
            est[c, t] -= 1.0 / len(skills)
        for r in inst.agents[a].agent.roles:
            duty[r][t] -= 1
        if primary >= 0:
            brk_p[primary, t] += 1


def _gain(
    inst: Instance, cov: np.ndarray, req: np.ndarray, floor: np.ndarray, c: int, t: int
) -> float:
    """What one more agent on channel c in slot t is worth (floors first)."""
    p = inst.problem
    w = p.weights
    under = w.under_cover
    if p.channels[c].kind is ChannelKind.deferred:
        under = max(w.under_cover, w.deferred_late * 60 / p.slot_minutes)
    g = _cover_cost(cov[c], req[c, t], under, w.over_cover) - _cover_cost(
        cov[c] + 1, req[c, t], under, w.over_cover
    )
    return g + (_BROKEN if cov[c] < floor[c, t] else 0.0)


def greedy_channels(
    inst: Instance, chosen: dict[int, list[int]], breaks: dict[tuple[int, int], list[int]]
) -> dict[tuple[int, int, int], int]:
    """Agents per (class, channel, slot): single-skilled on their channel, multi-skilled one by
    one to the open channel where they help most (floors first)."""
    p = inst.problem
    req, floor = _requirements(inst)
    avail = available(inst, chosen, breaks)
    by_slot: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (k, t), count in avail.items():
        by_slot[t].append((k, count))
    out: dict[tuple[int, int, int], int] = {}
    for t, classes in by_slot.items():
        cov = np.zeros(len(p.channels))
        multi: list[tuple[int, list[int], int]] = []
        for k, count in classes:
            open_ = open_channels(inst, k, t)
            if len(open_) == 1:
                out[(k, open_[0], t)] = count
                cov[open_[0]] += count
            elif open_:
                multi.append((k, open_, count))
        for k, open_, count in multi:
            for _ in range(count):
                c = max(open_, key=lambda c: _gain(inst, cov, req, floor, c, t))
                out[(k, c, t)] = out.get((k, c, t), 0) + 1
                cov[c] += 1
    return out


def open_channels(inst: Instance, k: int, t: int) -> list[int]:
    """Channels of class k's skills (primary first) open in slot t."""
    p = inst.problem
    out = []
    for c in inst.classes[k].skills:
        ch = inst.channel_index[c]
        if not p.channels[ch].open or p.channels[ch].open[t]:
            out.append(ch)
    return out


def available(
    inst: Instance, chosen: dict[int, list[int]], breaks: dict[tuple[int, int], list[int]]
) -> dict[tuple[int, int], int]:
    """Agents of each class on shift and free for contacts, per (class, slot)."""
    p = inst.problem
    avail: dict[tuple[int, int], int] = defaultdict(int)
    for a, opts in chosen.items():
        prep = inst.agents[a]
        for o in opts:
            opt = inst.options[o]
            blocked = set(opt.slots[: opt.briefing_slots]) | _training(inst, a, o)
            for b, t0 in enumerate(breaks[(a, o)]):
                blocked.update(range(t0, t0 + opt.break_windows[b][2]))
            for t in opt.slots:
                tt = p.slot_index(t)  # wrapped on a cyclic horizon
                if tt is not None and t not in blocked:
                    avail[(prep.class_index, tt)] += 1
    return avail


def fill_idle(
    inst: Instance,
    chosen: dict[int, list[int]],
    breaks: dict[tuple[int, int], list[int]],
    channels: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int, int], int]:
    """The channel split with every agent free for contacts on a channel while one they are
    skilled for is open (idle time is over-cover, never a gap in the split): agents a split
    leaves without a channel go, one by one, where they help most; counts above the agents
    free (a split made for other breaks, a published roster's segments over a break) are cut
    from the fullest channel."""
    p = inst.problem
    avail = available(inst, chosen, breaks)
    out = dict(channels)
    by_slot: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for key in out:
        by_slot[(key[0], key[2])].append(key)
    for kt, keys in by_slot.items():
        excess = sum(out[key] for key in keys) - avail.get(kt, 0)
        for key in sorted(keys, key=lambda x: -out[x]):
            if excess <= 0:
                break
            cut = min(excess, out[key])
            out[key] -= cut
            excess -= cut
    out = {key: n for key, n in out.items() if n > 0}
    given: dict[tuple[int, int], int] = defaultdict(int)
    cov: dict[int, np.ndarray] = {}
    for (k, c, t), n in out.items():
        given[(k, t)] += n
        cov.setdefault(t, np.zeros(len(p.channels)))[c] += n
    short = sorted((kt, n - given[kt]) for kt, n in avail.items() if n > given[kt])
    if not short:
        return out
    req, floor = _requirements(inst)
    for (k, t), missing in short:
        open_ = open_channels(inst, k, t)
        if not open_:
            continue
        here = cov.setdefault(t, np.zeros(len(p.channels)))
        for _ in range(missing):
            c = max(open_, key=lambda c: _gain(inst, here, req, floor, c, t))
            out[(k, c, t)] = out.get((k, c, t), 0) + 1
            here[c] += 1
    return out
