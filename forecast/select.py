"""Model choice: ``auto`` picks, per queue, the model with the lowest WAPE in a short backtest.

``make_model(name, calendar)`` builds any model by name, ``auto`` included; ``MODEL_NAMES`` lists
them all. ``auto`` backtests each candidate on the last ``AUTO_SETTINGS.max_origins`` weekly
origins of the queue's own history and keeps the best (ties: the earlier candidate, the default
first); a history too short for one origin gets the default model.
"""

from __future__ import annotations

import functools
from typing import Self

from forecast.backtest import BacktestMetrics, BacktestSettings, backtest, origins
from forecast.base import Forecaster
from forecast.calendar import SpecialCalendar
from forecast.history import FloatArray, QueueHistory
from forecast.models import DEFAULT_MODEL, MODELS, make_forecaster

__all__ = ["AUTO_CANDIDATES", "AUTO_SETTINGS", "MODEL_NAMES", "AutoForecaster", "make_model"]

AUTO_CANDIDATES = (DEFAULT_MODEL, *[m for m in MODELS if m != DEFAULT_MODEL])
AUTO_SETTINGS = BacktestSettings(
    horizon_days=7, step_days=7, min_history_days=28, week_start=None, max_origins=8
)
MODEL_NAMES = (*MODELS, "auto")


class AutoForecaster:
    """Chooses a model per queue by backtest, then fits it on the whole history."""

    name = "auto"

    def __init__(
        self,
        calendar: SpecialCalendar | None = None,
        candidates: tuple[str, ...] = AUTO_CANDIDATES,
        settings: BacktestSettings = AUTO_SETTINGS,
    ) -> None:
        for c in candidates:
            if c not in MODELS:
                raise ValueError(f"auto: unknown candidate model {c!r}")
        self.calendar = calendar
        self.candidates = candidates
        self.settings = settings
        self.chosen: str | None = None
        self.scores: list[BacktestMetrics] = []
        self._model: Forecaster | None = None

    def fit(self, history: QueueHistory) -> Self:
        self.scores = []
        best = DEFAULT_MODEL
        if origins(history, self.settings):
            best_wape = float("inf")
            for name in self.candidates:
                result = backtest(
                    history,
                    functools.partial(make_forecaster, name, self.calendar),
                    self.settings,
                    name,
                )
                self.scores.append(result.metrics)
                wape = result.metrics.wape
                if wape is not None and wape < best_wape:
                    best, best_wape = name, wape
        self.chosen = best
        self._model = make_forecaster(best, self.calendar).fit(history)
        return self

    def predict(self, h: int) -> FloatArray:
        if self._model is None:
            raise RuntimeError("auto: call fit(history) before predict")
        return self._model.predict(h)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)


def make_model(name: str, calendar: SpecialCalendar | None = None) -> Forecaster:
    """Any volume model by name, ``auto`` included."""
    if name == "auto":
        return AutoForecaster(calendar)
    return make_forecaster(name, calendar)
