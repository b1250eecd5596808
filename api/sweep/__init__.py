"""What-if sweeps: many variants of one scenario solved on Ray, compared, and their trade-off.

``spec`` (the sweep file: axes over scenario key paths and head count, crossed or zipped, and the
variants they give, each a list of edits of the base scenario's tree), ``engine`` (the variants
prepared here, solved as Ray tasks, their outputs written into one folder per variant, resumed
by the scenario hash), ``pareto`` (the non-dominated variants on cost, service level and fairness,
and the weight points of ``wfm pareto``), ``report`` (``sweep.csv`` and ``sweep.html``).
"""
