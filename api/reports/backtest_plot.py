"""Backtest plot (PNG): forecast vs actual in the worst and in a typical week of the best model."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from forecast.backtest import BacktestResult, OriginResult
from forecast.history import QueueHistory

REFERENCE = "seasonal_naive"


def _pick(result: BacktestResult) -> list[tuple[str, OriginResult]]:
    """The worst origin and the typical one (median WAPE) of a result."""
    scored = [(r.wape, i) for i, r in enumerate(result.results) if r.wape is not None]
    if not scored:
        return []
    scored.sort()
    worst = scored[-1][1]
    typical = scored[(len(scored) - 1) // 2][1]
    picks = [("worst week", result.results[worst])]
    if typical != worst:
        picks.append(("typical week", result.results[typical]))
    return picks


def plot_backtest(path: Path, history: QueueHistory, results: Sequence[BacktestResult]) -> Path:
    """Draw the best model's worst and typical weeks (seasonal naive dashed, when run)."""
    # start-up time: matplotlib (about half a second) loads only when a plot is drawn, and the
    # file-only Agg backend must be chosen before pyplot is imported
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates  # start-up time, as above
    import matplotlib.pyplot as plt  # start-up time, as above

    ranked = [r for r in results if r.metrics.wape is not None]
    if not ranked:
        raise ValueError("nothing to plot: no origin was scored")
    best = min(ranked, key=lambda r: r.metrics.wape or 0.0)
    reference = next((r for r in results if r.metrics.model == REFERENCE), None)
    picks = _pick(best)
    fig, axes = plt.subplots(len(picks), 1, figsize=(12, 3.6 * len(picks)), squeeze=False)
    step = timedelta(minutes=history.interval_minutes)
    for ax, (label, origin) in zip(axes[:, 0], picks, strict=True):
        start = history.start_of(origin.start_index)
        times = [start + step * i for i in range(origin.actual.size)]
        actual = np.where(origin.scored, origin.actual, np.nan)
        ax.plot(times, actual, color="black", linewidth=1.2, label="actual")
        ax.plot(times, origin.forecast, color="tab:blue", linewidth=1.2, label=best.metrics.model)
        if reference is not None and reference is not best:
            match = next((r for r in reference.results if r.origin == origin.origin), None)
            if match is not None:
                ax.plot(
                    times,
                    match.forecast,
                    color="grey",
                    linestyle="--",
                    linewidth=0.9,
                    label=REFERENCE,
                )
        ax.set_title(
            f"queue {history.queue}, {label} from {origin.origin}: "
            f"WAPE {100 * (origin.wape or 0.0):.1f} %"
        )
        ax.set_ylabel(f"contacts per {history.interval_minutes} min")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
        ax.set_xlim(times[0], times[-1] + step)
        ax.xaxis.set_major_locator(mdates.DayLocator())  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))  # type: ignore[no-untyped-call]
    fig.suptitle(
        f"Backtest of {best.metrics.model}: pooled WAPE {100 * (best.metrics.wape or 0.0):.1f} % "
        f"over {best.metrics.origins} origins",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
        path.chmod(0o644)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)
    return path
