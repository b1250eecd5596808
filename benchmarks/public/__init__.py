"""Public benchmark families: file formats, independent evaluators and adapters to the solver.

``curtois_qu`` and ``shift_design`` read the instance files and score a solution exactly as the
benchmark defines it, with no solver or OR-Tools import (independent of our model);
``cq_adapter`` and ``msd_adapter`` turn an instance into a ``RosterProblem`` and a solver result
back into the benchmark's solution form.
"""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
CQ_DIR = SHARED / "curtois_qu_2014"
MSD_DIR = SHARED / "shift_design"
