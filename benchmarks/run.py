"""`make bench`: run every benchmark (or those named) and write benchmarks/results/."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def _erlang() -> Any:
    from benchmarks import erlang_bench

    return erlang_bench.run()


def _forecast() -> Any:
    from benchmarks import forecast_bench

    return forecast_bench.run()


def _roster() -> Any:
    from benchmarks import roster_bench

    return roster_bench.run()


def _robust() -> Any:
    from benchmarks import robust_bench

    return robust_bench.run()


def _replan() -> Any:
    from benchmarks import replan_bench

    return replan_bench.run()


def _service() -> Any:
    from benchmarks import service_bench

    return service_bench.run()


def _sweep() -> Any:
    from benchmarks import sweep_bench

    return sweep_bench.run()


def _public() -> Any:
    from benchmarks import public_bench

    return public_bench.run()


BENCHMARKS: dict[str, Callable[[], Any]] = {
    "erlang": _erlang,
    "forecast": _forecast,
    "roster": _roster,
    "robust": _robust,
    "public": _public,
    "service": _service,
    "replan": _replan,
    "sweep": _sweep,
}
DEFAULT = ("erlang", "forecast", "roster", "robust", "replan")
"""``make bench`` runs these; ``public`` (about an hour) runs with ``make bench-public``, ``sweep``
(about 20 minutes) with ``python -m benchmarks.run sweep``."""


def main(argv: list[str]) -> int:
    names = argv or list(DEFAULT)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        print(f"== {name}")
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
