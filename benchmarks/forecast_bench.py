"""Forecast accuracy on real call-centre data: the protocol of shared/forecast-benchmark.md.

Rolling origin, expanding window, one origin per week after 8 weeks of history, each forecasting
the next full week; missing days filled for training and never scored. Pooled WAPE, median weekly
WAPE, bias and seconds per fit for our models (one default configuration for all data sets: the
country's holiday calendar and nothing else set), seasonal naive, and statsforecast's MSTL run on
the same origins. Handle time on the February 1999 call-level file. Writes
benchmarks/results/forecast.md and .json.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Self

import numpy as np

from benchmarks.common import machine, write_result
from benchmarks.demand import generate
from benchmarks.forecast_data import DataSet, feb_aht, volume_sets
from forecast.aht import HandleTimeProfile
from forecast.backtest import BacktestSettings, backtest, backtest_handle_time, origins
from forecast.base import prepare_days
from forecast.calendar import SpecialCalendar
from forecast.history import FloatArray, HistoryRecords, QueueHistory, build_histories
from forecast.models import DEFAULT_MODEL
from forecast.select import make_model

MODELS = ("seasonal_naive", "profile", "ets", "combined", "auto")
TARGETS = {"ab30": 0.300, "us15": 0.0655, "us30": 0.0625}
REFERENCE = {  # forecast-benchmark.md, measured independently on the same protocol
    "seasonal naive": {"ab30": 0.404, "us15": 0.091, "us30": 0.084},
    "MSTL (reference run)": {"ab30": 0.361, "us15": 0.081, "us30": 0.076},
    "weekday x interval profile (reference run)": {"ab30": 0.319, "us15": 0.069, "us30": 0.063},
    "profile + AutoETS (best reference)": {"ab30": 0.311, "us15": 0.070, "us30": 0.065},
}
AHT_TARGET = 0.200


def settings_for(data: DataSet, min_history_days: int = 56) -> BacktestSettings:
    return BacktestSettings(
        horizon_days=7, step_days=7, min_history_days=min_history_days, week_start=data.week_start
    )


class MstlForecaster:
    """statsforecast's MSTL (daily + weekly seasons, AutoETS trend) on the open intervals.

    Closed weekdays and never-open intervals are left out of the series (so a Mon-Fri 07:00-21:00
    centre is a series of 5 x 56 intervals a week at 15 min); missing days are filled with the
    same day a week earlier, as the protocol allows.
    """

    name = "statsforecast MSTL"

    def fit(self, history: QueueHistory) -> Self:
        from statsforecast.models import MSTL, AutoETS

        view = prepare_days(history)
        self._history = history
        self._open_slots = history.observed.any(axis=0)
        self._closed = view.closed
        open_days = ~view.closed[view.weekday]
        y = view.values[open_days][:, self._open_slots].ravel()
        per_day = int(self._open_slots.sum())
        per_week = per_day * int((~view.closed).sum())
        self._model = MSTL(
            season_length=[per_day, per_week], trend_forecaster=AutoETS(model="ZZN")
        ).fit(y)
        return self

    def predict(self, h: int) -> FloatArray:
        from forecast.history import weekday_of

        s = self._history.slots_per_day
        days = -(-h // s)
        first = self._history.known // s
        weekday = weekday_of(self._history.dates(first, days))
        open_days = ~self._closed[weekday]
        n = int(open_days.sum()) * int(self._open_slots.sum())
        mean = np.maximum(np.asarray(self._model.predict(n)["mean"], dtype=np.float64), 0.0)
        grid = np.zeros((days, s))
        block = grid[open_days]
        block[:, self._open_slots] = mean.reshape(int(open_days.sum()), -1)
        grid[open_days] = block
        return grid.ravel()[:h]

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)


def _mstl_available() -> str | None:
    try:
        import statsforecast  # noqa: F401
    except ImportError as exc:
        return f"not run: statsforecast is not installed ({exc}); pip install -e '.[bench]'"
    return None


def _row(metrics: Any, name: str) -> dict[str, Any]:
    return {
        "model": name,
        "origins": metrics.origins,
        "wape": metrics.wape,
        "median_weekly_wape": metrics.median_weekly_wape,
        "bias": metrics.bias,
        "mae": metrics.mae,
        "seconds_per_fit": metrics.seconds_per_fit,
    }


def run_volume(data: DataSet, with_mstl: bool = True) -> dict[str, Any]:
    history = build_histories(data.records)["default"]
    calendar = SpecialCalendar(data.country)
    settings = settings_for(data)
    rows = []
    for name in MODELS:
        factory: Callable[[], Any] = functools.partial(make_model, name, calendar)
        result = backtest(history, factory, settings, name)
        rows.append(_row(result.metrics, name))
        print(f"  {data.name} {name}: WAPE {result.metrics.wape:.4f}", flush=True)
    mstl_reason = _mstl_available()
    if with_mstl and mstl_reason is None:
        result = backtest(history, MstlForecaster, settings, MstlForecaster.name)
        rows.append(_row(result.metrics, MstlForecaster.name))
        print(f"  {data.name} MSTL: WAPE {result.metrics.wape:.4f}", flush=True)
    else:
        rows.append({"model": MstlForecaster.name, "not_run": mstl_reason or "skipped"})
    return {
        "name": data.name,
        "description": data.description,
        "source": str(data.source),
        "holidays": data.country,
        "origins": len(origins(history, settings)),
        "rows": rows,
    }


class SameIntervalLastWeek:
    """Handle time of the same interval a week earlier (the mean where it had no contacts)."""

    name = "same interval last week"

    def fit(self, history: QueueHistory) -> Self:
        self._history = history
        return self

    def predict(self, h: int) -> FloatArray:
        hist = self._history
        n = hist.handled.ravel()[: hist.known]
        sec = hist.handle_total.ravel()[: hist.known]
        mean = sec.sum() / n.sum()
        week = 7 * hist.slots_per_day
        idx = hist.known + np.arange(h) - week * (1 + np.arange(h) // week)
        ok = (idx >= 0) & (n[np.clip(idx, 0, None)] > 0)
        safe = np.clip(idx, 0, None)
        return np.where(ok, sec[safe] / np.where(ok, n[safe], 1.0), mean)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)


def run_aht() -> dict[str, Any]:
    data = feb_aht()
    if isinstance(data, str):
        return {"not_run": data}
    history = build_histories(data.records)["default"]
    settings = settings_for(data, min_history_days=6)
    models: dict[str, Callable[[], Any]] = {
        SameIntervalLastWeek.name: SameIntervalLastWeek,
        "time-of-day mean shrunk to the global mean (no level, no recency)": functools.partial(
            HandleTimeProfile,
            shape_half_life_days=1e9,
            level_half_life_days=1e9,
            trend_smoothing=0.0,
            neighbour_weight=0.0,
        ),
        "ours: HandleTimeProfile defaults": HandleTimeProfile,
    }
    rows = []
    for name, factory in models.items():
        t0 = time.perf_counter()
        error, bias = backtest_handle_time(history, settings, factory)
        rows.append(
            {"model": name, "error": error, "bias": bias, "seconds": time.perf_counter() - t0}
        )
    return {
        "source": str(data.source),
        "description": data.description,
        "origins": [str(d) for d in history.dates()[origins(history, settings)]],
        "rows": rows,
    }


def time_one_year() -> dict[str, Any]:
    """Fit + one-week forecast on a year of 30-min history (seeded synthetic bank profile)."""
    starts, volume, aht = generate(
        datetime(2025, 1, 1), 365, 30, daily_volume=5200, aht_s=290.0, seed=7
    )
    records = HistoryRecords(
        interval_start=list(starts),
        offered=[float(v) for v in volume],
        handle_time_seconds=[float(a) if v > 0 else None for v, a in zip(volume, aht, strict=True)],
    )
    history = build_histories(records)["default"]
    calendar = SpecialCalendar("US")
    out: dict[str, Any] = {"intervals": int(volume.size)}
    for name in (DEFAULT_MODEL, "auto"):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            make_model(name, calendar).fit(history).predict(7 * 48)
            HandleTimeProfile().fit(history).predict(7 * 48)
            times.append(time.perf_counter() - t0)
        out[name] = min(times)
    return out


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:+.1f} %"


def _secs(x: Any) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def render(data: dict[str, Any]) -> str:
    m = data["machine"]
    sets = data["volume"]
    names = [s["name"] for s in sets if "rows" in s]
    lines = [
        "# Forecast benchmark: week-ahead volume and handle time on real call-centre data",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; commit {m['commit']}, "
        f"{m['date']}. Command: `{data['command']}`. Protocol: `shared/forecast-benchmark.md` "
        "(rolling origin, expanding window, one origin per week after 8 weeks, next full week "
        "scored, missing days filled for training and never scored). One configuration for all "
        "data sets: the library defaults plus the country's holiday calendar (ab30: IL, us: US); "
        "nothing tuned per data set.",
        "",
        "## Volume: pooled WAPE (median weekly WAPE, bias, seconds per fit)",
        "",
        "| model | " + " | ".join(f"{n} ({_origins(sets, n)} origins)" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    models = [r["model"] for r in sets[0]["rows"]] if sets and "rows" in sets[0] else []
    for model in models:
        cells = []
        for s in sets:
            if "rows" not in s:
                continue
            r = next(r for r in s["rows"] if r["model"] == model)
            if "not_run" in r:
                cells.append(r["not_run"])
                continue
            cells.append(
                f"**{_fmt(r['wape'], 4)}** ({_fmt(r['median_weekly_wape'], 4)}, "
                f"{_pct(r['bias'])}, {_secs(r['seconds_per_fit'])})"
            )
        label = f"{model} (default)" if model == DEFAULT_MODEL else model
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| target | " + " | ".join(f"<= {TARGETS[n]:.4f}" for n in names) + " |")
    for label, ref in REFERENCE.items():
        lines.append(f"| {label} | " + " | ".join(f"{ref[n]:.3f}" for n in names) + " |")
    skipped = [f"{s['name']}: {s['not_run']}" for s in sets if "not_run" in s]
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped)]
    t = data["timing"]
    lines += [
        "",
        f"Fit + one-week forecast (volume and handle time) on a year of 30-min history "
        f"({t['intervals']:,} intervals, seeded synthetic): {DEFAULT_MODEL} "
        f"{_secs(t[DEFAULT_MODEL])}, auto {_secs(t['auto'])} (target <= 1 s per queue-year).",
        "",
        "## Handle time: Feb 1999 call-level file, 30-min intervals, served calls",
        "",
    ]
    aht = data["aht"]
    if "not_run" in aht:
        lines.append(aht["not_run"])
    else:
        lines += [
            f"Origins {', '.join(aht['origins'])} (Sun-Sat weeks); error = sum n|F - A| / "
            f"sum n A, n = calls served. Target <= {AHT_TARGET:.3f}.",
            "",
            "| model | error | bias |",
            "|---|---|---|",
        ]
        for r in aht["rows"]:
            lines.append(f"| {r['model']} | **{_fmt(r['error'], 4)}** | {_pct(r['bias'])} |")
        lines += [
            "",
            "Reference (forecast-benchmark.md): same interval last week 0.253, "
            "time-of-day mean shrunk to the global mean 0.205.",
        ]
    return "\n".join(lines) + "\n"


def _origins(sets: list[dict[str, Any]], name: str) -> int:
    return int(next(s["origins"] for s in sets if s.get("name") == name))


def run(with_mstl: bool = True) -> dict[str, Any]:
    volume = []
    for name, data in volume_sets().items():
        if isinstance(data, str):
            volume.append({"name": name, "not_run": data})
            print(f"  {name}: {data}")
            continue
        volume.append(run_volume(data, with_mstl))
    result: dict[str, Any] = {
        "machine": machine(),
        "command": "make bench (python -m benchmarks.run forecast)",
        "volume": volume,
        "aht": run_aht(),
        "timing": time_one_year(),
    }
    md = write_result("forecast", result, render(result))
    print(md.read_text(encoding="utf-8"))
    print(f"(written to {md})")
    return result


if __name__ == "__main__":
    run()
