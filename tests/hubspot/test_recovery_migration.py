"""hubspot.0002 releases the accounts the old push quarantined after three failed passes
(whatever the failure), so an upgrade does not leave them stranded."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.hubspot.models import SyncIssue, SyncState
from tests.factories import AccountFactory

BEFORE: list[tuple[str, str | None]] = [("hubspot", "0001_hubspot_models_from_accounts")]


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([(app, name) for app, name in targets if name]).apps


def test_accounts_quarantined_by_three_failed_pushes_are_released(db: Any) -> None:
    stranded = AccountFactory.create(hubspot_id="7001")
    refused = AccountFactory.create(hubspot_id="7002")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    old = _migrate(BEFORE)
    OldState, OldIssue = (
        old.get_model("hubspot", "SyncState"),
        old.get_model("hubspot", "SyncIssue"),
    )
    checked = timezone.now()
    OldState.objects.create(account_id=stranded.pk, push_failures=3, checked_at=checked)
    OldState.objects.create(account_id=refused.pk, push_failures=0, checked_at=checked)
    for hid, reason in (
        ("7001", "Push failed 3 times: HubSpot 503 : internal error"),
        ("7002", "HubSpot refused the write: Property values were not valid"),
    ):
        OldIssue.objects.create(
            object_type="companies", hubspot_id=hid, reason=reason, source="push"
        )

    # Up to the app's latest migration (0002 and whatever came after it), so the
    # current models below match the tables again.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("hubspot"))

    state = SyncState.objects.get(account=stranded)
    assert (state.push_failures, state.checked_at) == (0, None)  # due again
    assert SyncIssue.objects.get(hubspot_id="7001").resolved_at is not None
    assert SyncState.objects.get(account=refused).checked_at is not None  # left alone
    assert SyncIssue.objects.get(hubspot_id="7002").resolved_at is None
