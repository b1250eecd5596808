"""Roster solver (CP-SAT). Never imports ``forecast`` or ``api`` (tests/test_layering.py)."""
