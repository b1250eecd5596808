"""Scenario files -> a typed, checked scenario (the contract is docs/scenario-reference.md).

``models`` (the pydantic models and the CSV columns), ``loader`` (YAML + CSV -> validated models,
located problems), ``checker`` (the cross checks), and the sources they read: ``yamlsrc`` (YAML with
``extends:`` and line numbers), ``csvio`` (CSV rows and atomic writes), ``timewin`` (clock times,
weekdays and time windows). Depends on nothing else in ``api`` but ``api.errors``.
"""
