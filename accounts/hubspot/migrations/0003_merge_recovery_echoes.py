"""Joins the drift-reason/push-release migration and the typed-field-state/outbox one,
written side by side; neither touches the other's columns."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("hubspot", "0002_drift_reason_and_push_release"),
        ("hubspot", "0002_syncstate_fields_and_outbox"),
    ]

    operations: list[migrations.operations.base.Operation] = []
