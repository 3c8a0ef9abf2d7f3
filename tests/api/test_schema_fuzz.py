"""Drive every operation of the OpenAPI schema with generated requests, valid
and invalid, through the WSGI app, authenticated with an admin's token: no
answer may be a 5xx, and every answer must match the schema (status code,
content type, headers, body)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.roles import Role
from accounts.services import api_token_create
from tests.factories import AccountFactory, UsageSnapshotFactory, UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation and mode; with some 25 operations this keeps the test near 90 s.
MAX_EXAMPLES = 15
CONFIG = schemathesis.Config.from_dict(
    {"seed": 20261123, "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True}}
)


@pytest.fixture
def fuzz_token(db: Any) -> str:
    admin: Any = UserFactory(username="fuzzer", role=Role.ADMIN)
    accounts = AccountFactory.create_batch(3, owner=admin)
    for account in accounts:
        UsageSnapshotFactory(account=account)
    _every_kind_of_row(accounts[0], admin)
    _token, secret = api_token_create(user=admin, name="schema fuzzing", by=None)
    return secret


def _every_kind_of_row(account: Any, admin: Any) -> None:
    """One row of everything the API lists, so list and detail answers with
    real data (nested, nullable, decimal) are checked against the schema too."""
    from django.utils import timezone

    from success.alerts.models import Alert, AlertRule
    from success.alerts.services import expansion_signal_raise
    from success.health.services import health_scores_compute
    from success.services import renewal_create, renewal_forecast_change
    from tests.factories import BusinessReviewFactory, ObjectiveFactory, OnboardingPlanFactory

    OnboardingPlanFactory(account=account)
    ObjectiveFactory(plan__account=account)
    BusinessReviewFactory.create(account=account).attendee_users.add(admin)
    renewal = renewal_create(account=account)
    renewal_forecast_change(
        renewal=renewal, category="likely", forecast_arr=renewal.current_arr, reason="x", by=admin
    )
    health_scores_compute(today=timezone.localdate(), account_ids=[account.pk])
    Alert.objects.create(
        account=account,
        rule=AlertRule.objects.create(name="Late", kind="onboarding_late"),
        owner=admin,
        message="Call",
        due_on=timezone.localdate(),
    )
    expansion_signal_raise(account=account, note="More seats", source="csm", by=admin)


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The project's WSGI app on the test's database connection: like Django's
    test client, keep the end of a request from closing the connection (and
    with it the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(fuzz_token: str, wsgi_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        wsgi_app,
        config=CONFIG,
        headers={"Authorization": f"Bearer {fuzz_token}"},
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_survives_generated_requests(
    api_schema: Any, fuzz_token: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4

    for operation in operations:

        @seed(20261123)
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            cache.clear()  # throttling is tested elsewhere
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
