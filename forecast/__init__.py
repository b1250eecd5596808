"""Forecasting contact volume and handle time, and turning forecasts into staffing requirements.

History -> forecast: ``forecast.from_history.forecast_from_history`` (history, models, special
days, handle time; see docs/forecasting.md). Forecast -> agents: ``forecast.staffing``.
Never imports ``solver`` or ``api`` (checked by tests/test_layering.py).
"""
