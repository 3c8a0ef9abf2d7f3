"""The HubSpot models moved from accounts to the hubspot app by state alone: a database
migrated before the move keeps every row, read through the hubspot app's models."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.hubspot.models import SyncConflict, SyncRun
from tests.factories import AccountFactory

Targets = list[tuple[str, str | None]]
BEFORE_MOVE: Targets = [("accounts", "0011_field_change_times"), ("hubspot", None)]
AFTER_MOVE: Targets = [
    ("accounts", "0012_hubspot_models_move_to_hubspot_app"),
    ("hubspot", "0001_hubspot_models_from_accounts"),
]


def _migrate(targets: Targets) -> Any:
    """Migrate to `targets`; the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    reached = [(app, name) for app, name in targets if name is not None]
    return executor.loader.project_state(reached).apps


def test_rows_written_before_the_move_are_read_by_the_hubspot_app_after_it(db: Any) -> None:
    account = AccountFactory.create()
    # Migrations below alter accounts_account (indexes) in this test's transaction:
    # PostgreSQL refuses that while foreign-key checks of the row above are deferred.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    old_apps = _migrate(BEFORE_MOVE)
    assert "hubspot" not in old_apps.all_models
    OldRun = old_apps.get_model("accounts", "SyncRun")
    OldConflict = old_apps.get_model("accounts", "SyncConflict")
    run = OldRun.objects.create(kind="poll", status="done", records_done=7)
    OldConflict.objects.create(
        account_id=account.pk, field="name", ours="Ours", theirs="Theirs", status="open"
    )
    assert ContentType.objects.filter(app_label="accounts", model="syncrun").exists()

    new_apps = _migrate(AFTER_MOVE)

    assert new_apps.get_model("hubspot", "SyncRun")._meta.db_table == "accounts_syncrun"
    assert SyncRun.objects.get(pk=run.pk).records_done == 7
    conflict = SyncConflict.objects.get(account=account)
    assert (conflict.ours, conflict.theirs, conflict.status) == ("Ours", "Theirs", "open")
    SyncRun.objects.create(kind="poll", created_at=timezone.now())  # same table, same ids
    assert SyncRun.objects.count() == 2
    assert ContentType.objects.filter(app_label="hubspot", model="syncrun").exists()
    assert not ContentType.objects.filter(app_label="accounts", model="syncrun").exists()
