"""Scenario -> demand -> staffing -> solver problem -> outcome.

``demand`` and ``history`` read forecast and history CSV files, ``prepare`` turns a loaded scenario
into the solver's ``RosterProblem`` (the one place a forecast becomes demand), ``outcome`` runs the
solver and measures the roster, ``plans`` writes staffing plans. Uses ``api.scenario``.
"""
