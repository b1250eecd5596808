"""What every ``wfm`` command shares: the typer app, the consoles, the exit codes and the
InputError -> one line per problem, exit 2 wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from api.errors import InputError

app = typer.Typer(
    help="Workforce scheduling for contact centres: staffing, forecasting, rosters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_NO_SOLUTION, EXIT_INVALID = 0, 1, 2


@app.callback()
def _root() -> None:
    """Workforce scheduling for contact centres: staffing, forecasting, rosters."""


P = ParamSpec("P")
R = TypeVar("R")


def reports_input_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn InputError into one line per problem on stderr and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                err.print(
                    f"[red]error[/red] {escape(str(problem))}", highlight=False, soft_wrap=True
                )
            raise typer.Exit(EXIT_INVALID) from None

    return wrapper
