"""Forecasting contact volume and handle time, and turning forecasts into staffing requirements.

Never imports ``solver`` or ``api`` (checked by tests/test_layering.py).
"""
