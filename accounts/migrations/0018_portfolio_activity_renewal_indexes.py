from typing import Any

from django.db import migrations, models

# The activity sort orders never-touched accounts (no last activity) as the oldest:
# `last_activity_at ASC NULLS FIRST, id` and, reversed, `DESC NULLS LAST, id DESC`
# (accounts.filters.StableOrderingFilter). A plain (last_activity_at, id) index keeps
# NULLs last, so neither direction could read it and every activity-sorted page
# sorted all live accounts. This one serves both directions; status is a key column
# so a count of live accounts by last activity reads the index alone. PostgreSQL
# only (SQLite has no NULLS FIRST in an index): not model state.
ACTIVITY_INDEX = (
    'CREATE INDEX IF NOT EXISTS "account_activity_nf" ON "accounts_account" '
    '("last_activity_at" ASC NULLS FIRST, "id", "status")'
)


def activity_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ACTIVITY_INDEX)


def drop_activity_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "account_activity_nf"')


class Migration(migrations.Migration):
    """Portfolio sorts and filters that sorted or scanned every live account
    (docs/performance.md): the activity sort (an index in its own NULLS FIRST order,
    replacing the (last_activity_at, id) one) and the renewal window's count (status
    in the renewal index, read without the rows)."""

    dependencies = [
        ("accounts", "0017_portfolio_live_indexes_and_search"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="account", name="account_activity_id"),
        migrations.RunPython(activity_index, drop_activity_index, elidable=False),
        migrations.RemoveIndex(model_name="account", name="account_renewal_id"),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(
                fields=["renewal_date", "id", "status"], name="account_renewal_id_status"
            ),
        ),
    ]
