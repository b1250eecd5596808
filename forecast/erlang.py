"""Queueing maths for contact-centre staffing: Erlang B/C, Erlang A, chat concurrency.

Pure, vectorised numpy. Time is in seconds everywhere. Every public function takes scalars or
numpy arrays that broadcast against each other and returns numpy arrays (0-d for scalar input).

Models
------
* Erlang C (M/M/N): Poisson arrivals, exponential handle times, infinite patience. The
  probability of waiting is computed from the stable Erlang B recursion
  ``B_k = A B_{k-1} / (k + A B_{k-1})`` (no factorials, no overflow at thousands of agents).
* Erlang A (M/M/N+M): as Erlang C, but callers abandon after an exponential patience with mean
  ``patience_s``. Exact formulas (see ``erlang_a``) evaluated by quadrature in log space.
* Chat: an agent holds ``concurrency`` chats at once. The handle time given is the handle time
  *measured at that concurrency* (how long a chat lasts when the agent runs ``concurrency`` of
  them), so ``N`` agents form ``N * concurrency`` independent servers; Erlang C or A is then applied
  to the servers. Occupancy is the share of chat slots in use.
* Deferred work (messages, e-mail) is not a queueing problem: see ``forecast.deferred``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "ErlangAResult",
    "asa",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "offered_load",
    "required_agents",
    "service_level",
]


# --------------------------------------------------------------------------- input checks
def checked_array(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    low_inclusive: bool = True,
    high: float | None = None,
    high_inclusive: bool = True,
    integer: bool = False,
) -> FloatArray:
    """Convert ``value`` to a float array and check its range; errors name the argument."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a number or an array of numbers ({exc})") from None
    bad = np.isnan(arr)
    if bad.any():
        raise ValueError(f"{name}: must be a number, got NaN{_where(bad)}")
    if low is not None:
        bad = arr < low if low_inclusive else arr <= low
        if bad.any():
            op = ">=" if low_inclusive else ">"
            raise ValueError(f"{name}: must be {op} {low:g}, got {_first(arr, bad)}{_where(bad)}")
    if high is not None:
        bad = arr > high if high_inclusive else arr >= high
        if bad.any():
            op = "<=" if high_inclusive else "<"
            raise ValueError(f"{name}: must be {op} {high:g}, got {_first(arr, bad)}{_where(bad)}")
    if np.isinf(arr).any() and high is None:
        inf = np.isinf(arr)
        raise ValueError(f"{name}: must be finite, got {_first(arr, inf)}{_where(inf)}")
    if integer:
        frac = arr != np.floor(arr)
        if frac.any():
            raise ValueError(
                f"{name}: must be whole numbers, got {_first(arr, frac)}{_where(frac)}"
            )
    return arr


def _first(arr: FloatArray, mask: NDArray[np.bool_]) -> str:
    return f"{arr[mask].flat[0]:g}"


def _where(mask: NDArray[np.bool_]) -> str:
    if mask.ndim == 0:
        return ""
    idx = np.argwhere(mask)[0]
    pos = int(idx[0]) if len(idx) == 1 else tuple(int(i) for i in idx)
    n = int(mask.sum())
    return f" at index {pos}" + (f" ({n} values in all)" if n > 1 else "")


# --------------------------------------------------------------------------- Erlang B / C
def offered_load(volume: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike) -> FloatArray:
    """Offered load in Erlangs: ``volume * aht_s / interval_s``."""
    v = checked_array("volume", volume, low=0.0)
    h = checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)
    i = checked_array("interval_s", interval_s, low=0.0, low_inclusive=False)
    return np.asarray(v * h / i, dtype=np.float64)


def _sort_order(agents: IntArray) -> NDArray[np.intp]:
    """Stable order of agent counts (radix sort on 16 bits when they fit: 10x faster)."""
    top = int(agents.max()) if agents.size else 0
    keys = agents.astype(np.int16) if top < np.iinfo(np.int16).max else agents
    return np.argsort(keys, kind="stable")


def _erlang_b_inverse_flat(traffic: FloatArray, agents: IntArray) -> FloatArray:
    """1 / Erlang B for flat arrays: ``1/B_k = 1 + (k / A) / B_{k-1}``, from ``1/B_0 = 1``.

    All terms are positive (no cancellation) and there is no division in the loop. Elements are
    sorted by their number of agents so that step ``k`` runs over a contiguous slice (the elements
    that still need it): the work is the sum of the agent counts, with no masking.
    """
    out = np.ones(traffic.shape, dtype=np.float64)
    if traffic.size == 0:
        return out
    order = _sort_order(agents)
    n_sorted = agents[order]
    top = int(n_sorted[-1])
    if top == 0:
        return out
    with np.errstate(divide="ignore", over="ignore"):
        rate = 1.0 / traffic[order]  # inf where A = 0: 1/B = inf, B = 0 for k >= 1
    inv = np.ones(traffic.shape, dtype=np.float64)
    tmp = np.empty(traffic.shape, dtype=np.float64)
    starts = np.searchsorted(n_sorted, np.arange(1, top + 1), side="left")
    with np.errstate(over="ignore"):  # 1/B beyond 1e308: B is 0 to double precision
        for k in range(1, top + 1):
            s = int(starts[k - 1])
            t, v = tmp[s:], inv[s:]
            np.multiply(rate[s:], float(k), out=t)
            np.multiply(t, v, out=t)
            np.add(t, 1.0, out=v)
    out[order] = inv
    return out


def erlang_b_flat(traffic: FloatArray, agents: IntArray) -> FloatArray:
    """Erlang B for flat arrays (see ``_erlang_b_inverse_flat``)."""
    return np.asarray(1.0 / _erlang_b_inverse_flat(traffic, agents), dtype=np.float64)


def erlang_b(traffic: ArrayLike, agents: ArrayLike) -> FloatArray:
    """Blocking probability of the Erlang loss system M/M/N/N (stable recursion)."""
    a = checked_array("traffic", traffic, low=0.0)
    n = checked_array("agents", agents, low=0.0, integer=True)
    a, n = np.broadcast_arrays(a, n)
    flat = erlang_b_flat(a.ravel().astype(np.float64), n.ravel().astype(np.int64))
    return flat.reshape(a.shape)


def erlang_c_from_b(a: FloatArray, n: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a * (1.0 - b))
    return np.where(n > a, c, 1.0)


def erlang_c(traffic: ArrayLike, agents: ArrayLike) -> FloatArray:
    """Probability that a caller waits (Erlang C); 1 where ``agents <= traffic`` (unstable)."""
    a = checked_array("traffic", traffic, low=0.0)
    n = checked_array("agents", agents, low=0.0, integer=True)
    a, n = np.broadcast_arrays(a, n)
    b = erlang_b(a, n)
    return np.asarray(erlang_c_from_b(a, n, b), dtype=np.float64)


def sl_from_c(
    c: FloatArray, a: FloatArray, n: FloatArray, aht: FloatArray, answer: FloatArray
) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        sl = 1.0 - c * np.exp(-(n - a) * answer / aht)
    return np.where(n > a, np.clip(sl, 0.0, 1.0), 0.0)


def asa_from_c(c: FloatArray, a: FloatArray, n: FloatArray, aht: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        w = c * aht / (n - a)
    return np.where(n > a, w, np.inf)


def service_level(
    traffic: ArrayLike, agents: ArrayLike, aht_s: ArrayLike, answer_s: ArrayLike
) -> FloatArray:
    """Erlang C service level: share of callers answered within ``answer_s`` seconds.

    ``1 - C * exp(-(N - A) * answer_s / aht_s)``; 0 where the queue is unstable (N <= A).
    """
    a = checked_array("traffic", traffic, low=0.0)
    n = checked_array("agents", agents, low=0.0, integer=True)
    h = checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)
    t = checked_array("answer_s", answer_s, low=0.0)
    a, n, h, t = np.broadcast_arrays(a, n, h, t)
    c = erlang_c_from_b(a, n, erlang_b(a, n))
    return np.asarray(np.where(a == 0, 1.0, sl_from_c(c, a, n, h, t)), dtype=np.float64)


def asa(traffic: ArrayLike, agents: ArrayLike, aht_s: ArrayLike) -> FloatArray:
    """Erlang C average speed of answer in seconds (mean wait of all callers); inf if N <= A."""
    a = checked_array("traffic", traffic, low=0.0)
    n = checked_array("agents", agents, low=0.0, integer=True)
    h = checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)
    a, n, h = np.broadcast_arrays(a, n, h)
    c = erlang_c_from_b(a, n, erlang_b(a, n))
    return np.asarray(np.where(a == 0, 0.0, asa_from_c(c, a, n, h)), dtype=np.float64)


def occupancy(traffic: ArrayLike, agents: ArrayLike) -> FloatArray:
    """Share of agents' time spent handling contacts (Erlang C): ``min(1, A / N)``, 0 if N = 0."""
    a = checked_array("traffic", traffic, low=0.0)
    n = checked_array("agents", agents, low=0.0, integer=True)
    a, n = np.broadcast_arrays(a, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, np.minimum(1.0, a / n), 0.0)
    return np.asarray(occ, dtype=np.float64)


# --------------------------------------------------------------------------- Erlang A
class ErlangAResult(NamedTuple):
    """Performance of an M/M/N+M queue (Erlang A); every field is an array."""

    service_level: FloatArray
    """Share of *all* arriving callers answered within ``answer_s`` (abandoned ones count as
    not answered in time)."""
    abandonment: FloatArray
    """Probability that a caller hangs up before being answered."""
    asa: FloatArray
    """Mean wait of answered callers, seconds."""
    occupancy: FloatArray
    """Share of agents' time spent handling contacts: ``A (1 - abandonment) / N``."""
    wait_probability: FloatArray
    """Probability that a caller has to wait (all agents busy on arrival)."""
    mean_wait_s: FloatArray
    """Mean time in queue of all callers, answered or not, seconds (= abandonment x patience)."""


_GL_X, _GL_W = np.polynomial.legendre.leggauss(96)
_GL_U = (_GL_X + 1.0) / 2.0  # nodes on [0, 1]
_GL_WU = _GL_W / 2.0


def _phi(r: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """log of the Erlang A kernel exp(-a r + b (1 - e^-r))."""
    return np.asarray(-a * r - b * np.expm1(-r), dtype=np.float64)


def _erlang_a_integrals(
    a: FloatArray, b: FloatArray, r_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Integrals of the kernel K(r) = exp(-a r + b (1 - e^-r)) over r >= 0.

    Returns ``(log_scale, I0, I1, Ir, Iab, IT)`` where, up to the common factor
    ``exp(log_scale)``: ``I0 = int K``, ``I1 = int K e^-r``, ``Ir = int K e^-r r``,
    ``Iab = int K (1 - e^-r)`` and ``IT = int_0^r_t K e^-r``.

    K is log-concave with its mode at ``r* = max(0, ln(b/a))``. Each side of the mode is mapped
    by ``r = r* +- w (e^u - 1)`` (w: the kernel's width at the mode) so that both the mode and the
    far exponential tail are resolved, and integrated by Gauss-Legendre in ``u``.
    """
    with np.errstate(divide="ignore"):
        r_mode = np.where(b > a, np.log(np.maximum(b, 1e-300) / a), 0.0)
    slope = np.abs(b * np.exp(-r_mode) - a)
    curv = b * np.exp(-r_mode)
    width = 1.0 / (slope + np.sqrt(curv) + 1.0)
    peak = _phi(r_mode, a, b)
    drop = 60.0  # integrate where the kernel is above exp(-60) of its peak

    def reach(direction: float, limit: FloatArray) -> FloatArray:
        # distance from the mode at which phi has dropped by `drop` (bisection, monotone)
        lo = np.zeros_like(a)
        hi = np.where(direction > 0, 1.0, np.minimum(1.0, limit))
        for _ in range(80):  # grow until the drop is reached (or the limit for the left side)
            r = r_mode + direction * hi
            done = (peak - _phi(r, a, b) >= drop) | (hi >= limit)
            if done.all():
                break
            hi = np.where(done, hi, np.minimum(hi * 2.0, limit))
        for _ in range(60):
            mid = (lo + hi) / 2.0
            below = peak - _phi(r_mode + direction * mid, a, b) < drop
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return hi

    right = reach(1.0, np.full_like(a, np.inf))
    left = reach(-1.0, r_mode)

    def side(direction: float, extent: FloatArray) -> tuple[FloatArray, ...]:
        u_max = np.log1p(extent / width)[..., None]
        u = _GL_U * u_max
        dr_du = width[..., None] * np.exp(u)
        r = np.maximum(r_mode[..., None] + direction * width[..., None] * np.expm1(u), 0.0)
        w = _GL_WU * u_max * dr_du * np.exp(_phi(r, a[..., None], b[..., None]) - peak[..., None])
        er = np.exp(-r)
        return (
            w.sum(-1),
            (w * er).sum(-1),
            (w * er * r).sum(-1),
            (w * -np.expm1(-r)).sum(-1),
        )

    pos = side(1.0, right)
    neg = side(-1.0, left)
    i0, i1, ir, iab = (p + q for p, q in zip(pos, neg, strict=True))
    # int_0^r_t K e^-r: the left side up to the mode, plus or minus a part of one side.
    plus = side(1.0, np.clip(r_t - r_mode, 0.0, right))[1]
    minus = side(-1.0, np.clip(r_mode - r_t, 0.0, left))[1]
    it = np.clip(neg[1] + plus - minus, 0.0, i1)
    return peak, i0, i1, ir, iab, it


def erlang_a(
    traffic: ArrayLike,
    agents: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    answer_s: ArrayLike,
) -> ErlangAResult:
    """Erlang A (M/M/N+M): exponential handle times, exponential patience with mean patience_s.

    With ``a = N * patience / aht``, ``b = A * patience / aht`` (A = traffic in Erlangs),
    ``theta = 1 / patience`` and ``K(r) = exp(-a r + b (1 - e^-r))``, the exact stationary results
    (derived from the birth-death chain and the hypoexponential offered wait) are:

    * ``J = a * int_0^inf K`` and ``P(wait) = J B / (1 + (J - 1) B)`` with B = Erlang B(N, A);
    * ``P(abandon) = P(wait) * int K (1 - e^-r) / int K``;
    * ``P(answered within T) = 1 - P(wait) + P(wait) * int_0^{theta T} K e^-r / int K``;
    * ``E[wait; answered] = P(wait) * int K e^-r r / (theta * int K)``.

    As patience grows these tend to Erlang C. ``N = 0`` means nobody is answered.
    """
    a_ = checked_array("traffic", traffic, low=0.0)
    n_ = checked_array("agents", agents, low=0.0, integer=True)
    h_ = checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)
    p_ = checked_array("patience_s", patience_s, low=0.0, low_inclusive=False)
    t_ = checked_array("answer_s", answer_s, low=0.0)
    A, n, h, pat, t = (
        np.array(x, dtype=np.float64) for x in np.broadcast_arrays(a_, n_, h_, p_, t_)
    )
    shape = A.shape
    A, n, h, pat, t = (x.ravel() for x in (A, n, h, pat, t))

    sl = np.ones_like(A)
    ab = np.zeros_like(A)
    wait_mean = np.zeros_like(A)
    asa_ = np.zeros_like(A)
    pw = np.zeros_like(A)
    occ = np.zeros_like(A)
    nobody = (n == 0) & (A > 0)
    sl[nobody], ab[nobody], pw[nobody] = 0.0, 1.0, 1.0
    wait_mean[nobody] = pat[nobody]
    asa_[nobody] = np.inf
    live = (n > 0) & (A > 0)
    if live.any():
        An, nn, hn, pn, tn = (x[live] for x in (A, n, h, pat, t))
        a = nn * pn / hn
        b = An * pn / hn
        blk = erlang_b_flat(An, nn.astype(np.int64))
        peak, i0, i1, ir, iab, it = _erlang_a_integrals(a, b, tn / pn)
        log_j = np.log(a) + peak + np.log(i0)
        # P(wait) = 1 / (1 + (1/B - 1) / J), computed in logs (1/B - 1 may overflow)
        with np.errstate(divide="ignore"):
            log_ratio = np.log1p(-blk) - np.log(blk) - log_j
        p_wait = 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700.0)))
        p_ab = p_wait * iab / i0
        served_wait = p_wait * i1 / i0
        sl[live] = np.clip(1.0 - p_wait + p_wait * it / i0, 0.0, 1.0)
        ab[live] = p_ab
        pw[live] = p_wait
        wait_mean[live] = p_ab * pn
        with np.errstate(invalid="ignore", divide="ignore"):
            asa_[live] = np.where(served_wait > 0, p_wait * ir * pn / i0 / (1.0 - p_ab), 0.0)
        occ[live] = An * (1.0 - p_ab) / nn
    return ErlangAResult(
        *(
            np.asarray(x.reshape(shape), dtype=np.float64)
            for x in (sl, ab, asa_, occ, pw, wait_mean)
        )
    )


# --------------------------------------------------------------------------- required agents
@functools.lru_cache(maxsize=64)
def _halfin_whitt_table(target: float) -> tuple[FloatArray, FloatArray]:
    """beta(x) with 1 - a(beta) exp(-beta x) = target, a(beta) = 1 / (1 + beta Phi/phi).

    The Halfin-Whitt approximation of Erlang C with N = A + beta sqrt(A) and
    x = sqrt(A) T / AHT, tabulated on log x. Only used to guess where to start the exact search.
    """
    log_x = np.linspace(np.log(1e-4), np.log(1e4), 4096)
    x = np.exp(log_x)
    lo, hi = np.zeros_like(x), np.full_like(x, 12.0)
    for _ in range(50):
        mid = (lo + hi) / 2.0
        ratio = mid * special.ndtr(mid) * np.sqrt(2 * np.pi) * np.exp(mid * mid / 2.0)
        sl = 1.0 - np.exp(-mid * x) / (1.0 + ratio)
        ok = sl >= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return log_x, hi


def _guess(
    a: FloatArray,
    aht: FloatArray,
    sl_target: FloatArray | None,
    answer: FloatArray,
    floor_n: FloatArray,
) -> FloatArray:
    """A starting number of servers near the answer (exact about 3 times in 4)."""
    if sl_target is None:
        return floor_n
    targets = np.unique(sl_target)
    if targets.size > 8 or targets.max() >= 1.0:
        return floor_n
    guess = floor_n.copy()
    root = np.sqrt(a)
    with np.errstate(divide="ignore"):
        log_x = np.log(root * answer / aht)
    for t in targets:
        table_x, table_beta = _halfin_whitt_table(float(t))
        sel = sl_target == t if targets.size > 1 else slice(None)
        # nearest point of the fine uniform log grid (np.interp's search is 10x slower)
        pos = (log_x[sel] - table_x[0]) * ((table_x.size - 1) / (table_x[-1] - table_x[0]))
        i = np.clip(pos, 0, table_x.size - 1).astype(np.intp)
        guess[sel] = np.ceil(a[sel] + table_beta[i] * root[sel])
    return np.maximum(guess, floor_n)


def _take(x: FloatArray, idx: NDArray[np.intp] | NDArray[np.bool_]) -> FloatArray:
    """Select elements of a per-element column; 0-d columns (one value for all) stay as they are."""
    return x if x.ndim == 0 else x[idx]


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _search_erlang_c(
    a: FloatArray,
    aht: FloatArray,
    sl_target: FloatArray | None,
    answer: FloatArray,
    max_occ: FloatArray,
    max_asa: FloatArray | None,
) -> IntArray:
    """Smallest server count meeting every target, for flat arrays with a > 0.

    Erlang B is run by the recursion up to a guess (the Halfin-Whitt square-root rule, exact about
    3 times in 4); the guess and its two neighbours are then checked exactly, and the rare
    elements whose answer is further away walk on, one recursion step at a time. Service level,
    ASA and occupancy are monotone in N, so the answer is exact whatever the guess. Every
    candidate is above A, so C = N B / (N - A + A B) needs no stability mask, and the factor
    exp(-(N - A) T / AHT) moves by one multiplication per step.
    """
    check_occ = bool(np.any(max_occ < 1.0))
    floor_n = np.floor(a) + 1.0
    if check_occ:
        floor_n = np.maximum(floor_n, np.floor(a / max_occ))
    n = _guess(a, aht, sl_target, answer, floor_n)
    cols: dict[str, FloatArray] = {
        "a": a,
        "n": n,
        "inv": _erlang_b_inverse_flat(a, n.astype(np.int64)),
        "floor": floor_n,
    }
    if check_occ:
        cols["occ"] = max_occ
    if sl_target is not None:
        cols["miss"] = 1.0 - sl_target  # SL >= target  <=>  C exp(-(N-A)T/h) <= 1 - target
        cols["decay"] = np.exp(-(n - a) * answer / aht)
        cols["step"] = np.exp(-answer / aht)
    if max_asa is not None:
        cols["asa_aht"] = max_asa / aht

    def meets(c: dict[str, FloatArray]) -> NDArray[np.bool_]:
        a_, n_ = c["a"], c["n"]
        gap = n_ - a_
        erlang_c_ = n_ / (c["inv"] * gap + a_)  # Erlang C = N B / (N - A + A B)
        ok = np.ones(a_.shape, dtype=np.bool_)
        if check_occ:
            ok &= a_ <= c["occ"] * n_
        if "miss" in c:
            ok &= erlang_c_ * c["decay"] <= c["miss"]
        if "asa_aht" in c:
            ok &= erlang_c_ / gap <= c["asa_aht"]
        return ok

    def step(c: dict[str, FloatArray], up: bool) -> dict[str, FloatArray]:
        c = dict(c)
        if up:  # one more step of the recursion
            c["n"] = c["n"] + 1.0
            c["inv"] = 1.0 + c["inv"] * c["n"] / c["a"]
        else:  # one step back: 1/B_{k-1} = (1/B_k - 1) A / k (a few steps are accurate)
            c["inv"] = (c["inv"] - 1.0) * c["a"] / c["n"]
            c["n"] = c["n"] - 1.0
        if "decay" in c:
            c["decay"] = c["decay"] * c["step"] if up else c["decay"] / c["step"]
        return c

    def walk(c: dict[str, FloatArray], idx: NDArray[np.intp], up: bool) -> None:
        """Rare path: keep stepping until the answer is bracketed."""
        while idx.size:
            if up:
                c = step(c, up=True)
                hit = meets(c)
                result[idx[hit]] = c["n"][hit].astype(np.int64)
                keep = ~hit
            else:
                prev = step(c, up=False)
                keep = (c["n"] > c["floor"]) & meets(prev)
                result[idx[~keep]] = c["n"][~keep].astype(np.int64)
                c = prev
            idx = idx[keep]
            c = {k: _take(v, keep) for k, v in c.items()}

    # the guess is usually right or one short: check it and both neighbours on full arrays
    ok = meets(cols)
    below = step(cols, up=False)
    ok_below = (n > floor_n) & meets(below)
    above = step(cols, up=True)
    ok_above = meets(above)
    result = np.where(ok & ~ok_below, n, np.where(~ok & ok_above, above["n"], 0.0)).astype(np.int64)
    lower = np.flatnonzero(ok & ok_below)  # one fewer still meets every target
    if lower.size:
        walk({k: _take(v, lower) for k, v in below.items()}, lower, up=False)
    higher = np.flatnonzero(~ok & ~ok_above)  # still short one above the guess
    if higher.size:
        walk({k: _take(v, higher) for k, v in above.items()}, higher, up=True)
    return result


def _search_erlang_a(
    a: FloatArray,
    aht: FloatArray,
    sl_target: FloatArray | None,
    answer: FloatArray,
    max_occ: FloatArray,
    max_asa: FloatArray | None,
    patience: FloatArray,
) -> IntArray:
    """Smallest server count meeting every target under Erlang A (flat arrays, a > 0)."""

    def meets(n: FloatArray, sel: NDArray[np.intp]) -> NDArray[np.bool_]:
        res = erlang_a(a[sel], n, _take(aht, sel), _take(patience, sel), _take(answer, sel))
        ok = res.occupancy <= _take(max_occ, sel)
        if sl_target is not None:
            ok &= res.service_level >= _take(sl_target, sel)
        if max_asa is not None:
            ok &= res.asa <= _take(max_asa, sel)
        return np.asarray(ok, dtype=np.bool_)

    all_idx = np.arange(a.size)
    lo = np.zeros(a.size)  # known to fail (0 agents never meets a target when a > 0)
    hi = np.maximum(np.ceil(a), 1.0)
    # grow hi until it meets every target
    pending = all_idx
    for _ in range(64):
        if pending.size == 0:
            break
        ok = meets(hi[pending], pending)
        lo[pending[~ok]] = hi[pending[~ok]]
        hi[pending[~ok]] = np.ceil(hi[pending[~ok]] * 1.5 + 1.0)
        pending = pending[~ok]
    # bisection: lo fails, hi meets
    active = all_idx[hi - lo > 1]
    while active.size:
        mid = np.floor((lo[active] + hi[active]) / 2.0)
        ok = meets(mid, active)
        hi[active[ok]] = mid[ok]
        lo[active[~ok]] = mid[~ok]
        active = active[hi[active] - lo[active] > 1]
    return hi.astype(np.int64)


def required_agents(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    sl_target: ArrayLike | None,
    answer_s: ArrayLike,
    max_occupancy: ArrayLike = 1.0,
    max_asa_s: ArrayLike | None = None,
    patience_s: ArrayLike | None = None,
    concurrency: ArrayLike = 1,
) -> IntArray:
    """Smallest number of agents meeting every target given, per interval.

    * ``sl_target``: share of contacts answered within ``answer_s`` (in (0, 1]); None for no
      service-level target.
    * ``max_occupancy``: cap on the share of time agents are busy (in (0, 1]).
    * ``max_asa_s``: cap on the average speed of answer, seconds.
    * ``patience_s``: mean caller patience; when given, Erlang A (abandonment) is used.
    * ``concurrency``: contacts one agent handles at once (chat); ``aht_s`` is the handle time
      measured at that concurrency, and ``N`` agents are ``N * concurrency`` servers.

    Under Erlang C the answer is the smallest N > A (the queue must be stable). Zero volume needs
    zero agents. Returns an int64 array of the broadcast shape.
    """
    vol = checked_array("volume", volume, low=0.0)
    aht = checked_array("aht_s", aht_s, low=0.0, low_inclusive=False)
    ivl = checked_array("interval_s", interval_s, low=0.0, low_inclusive=False)
    sl = (
        None
        if sl_target is None
        else checked_array("sl_target", sl_target, low=0.0, low_inclusive=False, high=1.0)
    )
    ans = checked_array("answer_s", answer_s, low=0.0)
    occ = checked_array("max_occupancy", max_occupancy, low=0.0, low_inclusive=False, high=1.0)
    masa = (
        None
        if max_asa_s is None
        else checked_array("max_asa_s", max_asa_s, low=0.0, low_inclusive=False)
    )
    pat = (
        None
        if patience_s is None
        else checked_array("patience_s", patience_s, low=0.0, low_inclusive=False)
    )
    conc = checked_array("concurrency", concurrency, low=1.0, integer=True)
    arrays = [vol, aht, ivl, ans, occ, conc]
    arrays += [x for x in (sl, masa, pat) if x is not None]
    shape = np.broadcast_shapes(*(x.shape for x in arrays))

    def column(x: FloatArray, sel: NDArray[np.intp]) -> FloatArray:
        """A per-element column for the selected elements; one value for all stays 0-d."""
        return x if x.ndim == 0 else np.broadcast_to(x, shape).ravel()[sel]

    def optional(x: FloatArray | None, sel: NDArray[np.intp]) -> FloatArray | None:
        return None if x is None else column(x, sel)

    traffic = np.broadcast_to(vol * aht / ivl, shape).ravel()
    out = np.zeros(traffic.shape, dtype=np.int64)
    sel = np.flatnonzero(traffic > 0)
    if sel.size:
        args = (
            traffic[sel],
            column(aht, sel),
            optional(sl, sel),
            column(ans, sel),
            column(occ, sel),
            optional(masa, sel),
        )
        if pat is None:
            servers = _search_erlang_c(*args)
        else:
            servers = _search_erlang_a(*args, column(pat, sel))
        k = column(conc, sel)
        out[sel] = -(-servers // k.astype(np.int64))  # ceil(servers / concurrency)
    return out.reshape(shape)
