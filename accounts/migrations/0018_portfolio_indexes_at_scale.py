from typing import Any

from django.db import migrations, models

# Two portfolio variants scanned every account at 100,000 (docs/performance.md,
# "Pages at 100,000 accounts"). Most recent activity first is
# `last_activity_at DESC NULLS LAST, id DESC` (never-touched accounts last), which
# the plain (last_activity_at, id) index cannot give in either direction (backwards
# it puts the NULLs first): an index in that order serves it forwards and the
# oldest-first sort (ASC NULLS FIRST, id ASC) backwards. SQLite cannot index NULLS
# LAST, so it is created on PostgreSQL only, as the trigram indexes of 0017 are.
# The renewal window's count reads (renewal_date, id) of live accounts from the index
# alone, where the plain index had to visit each row for its status.
ACTIVITY_INDEX = "account_activity_recent_id"


def activity_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{ACTIVITY_INDEX}" ON "accounts_account" '
            '("last_activity_at" DESC NULLS LAST, "id" DESC)'
        )


def drop_activity_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{ACTIVITY_INDEX}"')


class Migration(migrations.Migration):
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
                condition=models.Q(("status", "archived"), _negated=True),
                fields=["renewal_date", "id"],
                name="account_live_renewal_id",
            ),
        ),
    ]
