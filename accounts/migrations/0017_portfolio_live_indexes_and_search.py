from typing import Any

from django.db import DatabaseError, migrations, models, transaction

# The portfolio search is `name ILIKE %q% OR domain ILIKE %q%` (Django's icontains:
# UPPER(col) LIKE UPPER(...)). On PostgreSQL trigram indexes on those expressions
# answer it (and its count) without reading every account; SQLite (make run) has
# no pg_trgm and keeps scanning, which is fine at its sizes. Not model state: the
# models stay database-neutral.
TRIGRAM_INDEXES = {
    "account_name_trgm": 'UPPER("name"::text) gin_trgm_ops',
    "account_domain_trgm": 'UPPER("domain"::text) gin_trgm_ops',
}


def trigram_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may
            # create it. Where that is refused, the search works without the index.
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:  # refused: go on without the indexes
            return
        for name, expression in TRIGRAM_INDEXES.items():
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "accounts_account" '
                f"USING gin ({expression})"
            )


def drop_trigram_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    """Indexes read without the account rows (docs/performance.md): live accounts by
    name (the portfolio's count and deep pages), accounts by owner and status
    (a person's accounts in alerts, My work and renewals; the owner sort), and
    trigram indexes for the portfolio search on PostgreSQL."""

    dependencies = [
        ("accounts", "0016_merge_hubspot_app"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="account",
            index=models.Index(
                condition=models.Q(("status", "archived"), _negated=True),
                fields=["name", "id"],
                name="account_live_name_id",
            ),
        ),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(fields=["owner", "id", "status"], name="account_owner_id"),
        ),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
