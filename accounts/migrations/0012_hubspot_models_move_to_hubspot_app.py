"""The HubSpot models now belong to the hubspot app (accounts.hubspot): forget them here.

State only: the tables stay as they are (the hubspot app's models name them with
`db_table`) and no row moves. hubspot's 0001 adds the same models to its own state.
This migration does not depend on the hubspot app, so Lifecycle migrates without it."""

from django.db import migrations

# Models that point at others go first, so the state never holds a dangling reference.
MOVED = [
    "Drift",
    "SyncChange",
    "SyncConflict",
    "SyncState",
    "FieldRule",
    "WebhookEvent",
    "SyncIssue",
    "SyncCursor",
    "HubSpotRateWindow",
    "SyncRun",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_field_change_times"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        )
    ]
