"""A small seeded discrete-event simulation of a contact queue, used to check the queueing maths.

Agents each hold up to ``concurrency`` contacts at once; contacts arrive as a Poisson process, are
served first come first served by the least-loaded agent with a free slot, last an exponential
handle time (as measured at that concurrency) and, if ``patience_s`` is given, hang up after an
exponential patience unless answered first. Results are estimated by batch means, with standard
errors, after a warm-up.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    mean: float
    se: float

    def covers(self, value: float, z: float = 4.0, slack: float = 0.0) -> bool:
        return abs(self.mean - value) <= z * self.se + slack


@dataclass(frozen=True)
class SimResult:
    service_level: Estimate
    abandonment: Estimate
    asa: Estimate
    wait_probability: Estimate


def simulate(
    traffic: float,
    agents: int,
    aht_s: float,
    answer_s: float,
    patience_s: float | None = None,
    concurrency: int = 1,
    customers: int = 120_000,
    batches: int = 20,
    seed: int = 0,
) -> SimResult:
    rng = np.random.default_rng(seed)
    lam = traffic / aht_s
    warm = customers // 10
    total = customers + warm
    inter = rng.exponential(1.0 / lam, total)
    service = rng.exponential(aht_s, total)
    patience = rng.exponential(patience_s, total) if patience_s else np.full(total, np.inf)

    load = [0] * agents  # active contacts per agent
    # free agents by load: a heap of (load, agent) holding agents with a free slot (lazy entries)
    free: list[tuple[int, int]] = [(0, a) for a in range(agents)]
    events: list[tuple[float, int, int, int]] = []  # (time, kind, customer, agent) 0=done 1=abandon
    queue: deque[int] = deque()
    answered_at = np.full(total, np.nan)
    abandoned = np.zeros(total, dtype=bool)
    arrival = np.cumsum(inter)

    def take_slot() -> int | None:
        while free:
            ld, a = free[0]
            if ld != load[a] or load[a] >= concurrency:
                heapq.heappop(free)  # stale entry
                continue
            return a
        return None

    def start(c: int, a: int, now: float) -> None:
        heapq.heappop(free)
        load[a] += 1
        if load[a] < concurrency:
            heapq.heappush(free, (load[a], a))
        answered_at[c] = now
        heapq.heappush(events, (now + service[c], 0, c, a))

    next_c = 0
    while next_c < total or events:
        t_arr = arrival[next_c] if next_c < total else math.inf
        if events and events[0][0] <= t_arr:
            now, kind, c, a = heapq.heappop(events)
            if kind == 1:  # patience ran out
                if math.isnan(answered_at[c]) and not abandoned[c]:
                    abandoned[c] = True
                continue
            load[a] -= 1
            heapq.heappush(free, (load[a], a))
            while queue:
                w = queue.popleft()
                if abandoned[w]:
                    continue
                slot = take_slot()
                assert slot is not None
                start(w, slot, now)
                break
        else:
            now, c = t_arr, next_c
            next_c += 1
            while queue and abandoned[queue[0]]:
                queue.popleft()
            slot = take_slot()
            if slot is not None and not queue:
                start(c, slot, now)
            else:
                queue.append(c)
                if math.isfinite(patience[c]):
                    heapq.heappush(events, (now + patience[c], 1, c, -1))

    wait = answered_at - arrival
    idx = np.arange(warm, total)
    answered = ~np.isnan(wait[idx])
    ok = answered & (np.nan_to_num(wait[idx], nan=np.inf) <= answer_s)
    waited = ~(answered & (np.nan_to_num(wait[idx], nan=1.0) <= 1e-12))
    parts = np.array_split(np.arange(idx.size), batches)

    def est(values: np.ndarray, weights: np.ndarray | None = None) -> Estimate:
        means = []
        for p in parts:
            if weights is None:
                means.append(values[p].mean())
            else:
                w = weights[p]
                means.append((values[p] * w).sum() / max(w.sum(), 1))
        m = np.asarray(means)
        return Estimate(float(m.mean()), float(m.std(ddof=1) / math.sqrt(len(m))))

    return SimResult(
        service_level=est(ok.astype(float)),
        abandonment=est(abandoned[idx].astype(float)),
        asa=est(np.nan_to_num(wait[idx], nan=0.0), answered.astype(float)),
        wait_probability=est(waited.astype(float)),
    )
