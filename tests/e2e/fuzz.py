"""A schema-driven fuzz run: Schemathesis reads /openapi.json and sends every operation
generated requests (valid ones, and in negative mode ones that break the schema) as one role,
against the app on a real database. What it checks of every answer: no 5xx, a status code and
a content type the document declares, a body that matches the declared schema, and (negative
mode) that what the schema forbids is refused.

Used by tests/e2e/test_api_fuzz.py (a short fixed run in `make test`) and by `make fuzz`
(O2C_FUZZ_EXAMPLES=30 and more)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Operations whose path names a user: the fuzzer gets a user of its own to act on, so that
# disabling "admin" does not end the run after the first operation.
FIXED_PATH_PARAMETERS = {"disable_user": {"username": "fuzz-victim"}}


@dataclass
class FuzzRun:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return f"{self.requests} requests in {self.seconds:.1f} s ({codes})"


def fuzz(api: Any, token: Callable[[], str], *, mode: str, examples: int) -> FuzzRun:
    """Every operation of `api`'s OpenAPI document, `examples` generated cases each; `token`
    gives a fresh bearer token of the role before each operation (the fuzzer revokes tokens
    and logs out like any client)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    # The role's own token goes on every request (tests/e2e/test_permissions.py covers missing
    # and broken credentials): a generated Authorization header would be overwritten by it, and
    # a "broken" one then counted as bad data the API accepted.
    schema.config.generation.update(with_security_parameters=False)
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    checks = CHECKS + ([negative_data_rejection] if mode == "negative" else [])
    run = FuzzRun()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = FIXED_PATH_PARAMETERS.get(operation.definition.raw.get("operationId", ""))
        headers = {"Authorization": f"Bearer {token()}"}
        strategy = operation.as_strategy(generation_mode=generation, path_parameters=fixed)

        send = _sender(run, strategy, headers, checks, examples)
        try:
            send()
        except hypothesis.errors.Unsatisfiable:
            continue  # nothing of it can break the schema (no parameters, no body)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # the failures of one operation; the run goes on
            run.failures.append(f"{operation.label}: {error}")
    run.seconds = time.perf_counter() - started
    return run


def _sender(run: FuzzRun, strategy: Any, headers: dict[str, str], checks: list[Any],
            examples: int) -> Callable[[], None]:
    """A seeded Hypothesis test that sends `examples` cases of one operation."""

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck),
              phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @given(case=strategy)
    def send(case: Any) -> None:
        run.requests += 1
        response = case.call(headers=headers)
        run.statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)

    return send
