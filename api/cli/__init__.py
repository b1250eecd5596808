"""The ``wfm`` command line (typer). Bad input prints one line per problem and exits with code 2.

Each command lives in its own module and registers itself on ``api.cli.common.app`` when imported;
this package imports them (in the order ``wfm --help`` lists them) and exports ``main``, the console
script's entry point (``wfm = "api.cli:main"``).
"""

from __future__ import annotations

import sys

from api.cli.common import app, err

# Each module registers its commands on `app` when imported, in the order `wfm --help` lists them.
# isort: off
from api.cli import staffing  # wfm staffing
from api.cli import forecast  # wfm forecast, backtest
from api.cli import roster  # wfm validate, solve, compare
from api.cli import sweep  # wfm sweep, pareto
from api.cli import serve  # wfm serve
# isort: on

__all__ = ["app", "forecast", "main", "roster", "serve", "staffing", "sweep"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
