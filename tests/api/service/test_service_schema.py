"""Reliability check: schemathesis sends generated requests (bounded, derandomised) to every
operation of the OpenAPI schema, in process, with an admin key, on a database holding a scenario
and leave; no answer may be a 5xx, and every answer must match its documented status, content
type and schema. Solves are queued but not run (no workers).

The operations are driven with hypothesis directly (``operation.as_strategy()``): schemathesis'
pytest plugin does not run under pytest 9 (``'Function' object has no attribute '_nodeid'``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_helpers import ADMIN, HR, TINY, upload
from service_helpers import settings as service_settings

from api.service.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 30


def _seed(app: Any) -> None:
    with TestClient(app) as c:
        assert upload(c, TINY, "tiny.yaml").status_code == 201
        leave = b"agent_id,start,end,kind,status\nT1,2026-12-07,2026-12-07,annual,requested\n"
        assert c.post(
            "/leave", content=leave, headers={**HR, "Content-Type": "text/csv"}
        ).is_success


def test_every_operation_answers_within_its_schema(tmp_path: Path) -> None:
    s = service_settings(tmp_path, queue_size=5)
    _seed(create_app(s, run_jobs=False))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(s, run_jobs=False))
    calls: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 36
    for operation in operations:
        _check_operation(operation, calls, statuses)
    print(
        f"schemathesis: {sum(calls.values())} requests, statuses {dict(sorted(statuses.items()))}"
    )
    assert all(calls[op.label] > 0 for op in operations)
    assert not [code for code in statuses if code >= 500]


def _check_operation(operation: Any, calls: Counter[str], statuses: Counter[int]) -> None:
    """Up to MAX_EXAMPLES generated requests to one operation, each checked."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=ADMIN, checks=CHECKS)
        calls[operation.label] += 1
        statuses[response.status_code] += 1

    check()
