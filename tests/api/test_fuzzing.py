"""The served API fuzzed with schemathesis: generated requests for every operation in the OpenAPI
schema, sent over HTTP with a valid key. No answer is a 5xx, and answers match the schema.

The operations are driven with Hypothesis directly rather than through schemathesis' pytest
plugin (its lazy fixture loader does not run under this pytest), one bounded, derandomised run
per operation, and every failing operation is reported, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.server import running_intake

EXAMPLES_PER_OPERATION = 60
"""Bounded, so the whole schema takes about a minute; CI runs the same examples every time."""
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def fuzzed(settings: EngageSettings) -> Iterator[tuple[str, str]]:
    """The intake without a rate limit (the fuzzer's bursts are not what is under test)."""
    unlimited = settings.model_copy(update={"rate_limit_per_s": 0.0})
    with running_intake(unlimited) as base_url:
        yield base_url, make_key(unlimited, Scope.ADMIN)


def test_no_server_error_and_answers_match_the_schema(fuzzed: tuple[str, str]) -> None:
    base_url, key = fuzzed
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers={"apikey": key}, checks=CHECKS)

        try:
            fuzz()
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert operations >= 40
    assert failures == [], "\n\n".join(failures)
