"""Drift gets its reason (a reconciliation now lists every account whose values differ,
saying why as far as sync knows). Accounts the old push quarantined after three failed
passes, whatever the failure (issue 15: a three-minute outage stranded them), are
released: the next push pass writes them, HubSpot's refusals are quarantined again with
their reason, and the issues of those it takes are resolved."""

from typing import Any

import django.utils.timezone
from django.db import migrations, models

OLD_QUARANTINE = 3  # MAX_PUSH_FAILURES before the push retried transient failures


def push_release(apps: Any, schema_editor: Any) -> None:
    SyncState = apps.get_model("hubspot", "SyncState")
    SyncIssue = apps.get_model("hubspot", "SyncIssue")
    SyncState.objects.filter(push_failures__gte=OLD_QUARANTINE).update(
        push_failures=0, checked_at=None
    )
    # Their issues would hold them still (a refused push holds its account until it
    # changes): resolved, and re-opened with HubSpot's reason if it refuses again.
    SyncIssue.objects.filter(
        object_type="companies",
        source="push",
        reason__startswith="Push failed ",
        resolved_at__isnull=True,
    ).update(resolved_at=django.utils.timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("hubspot", "0001_hubspot_models_from_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="drift",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("push_refused", "HubSpot refused our write (see sync issues)"),
                    ("push_retrying", "Push failed for a transient reason; retried by itself"),
                    ("push_due", "Changed in Lifecycle; the next push writes it"),
                    ("conflict", "Changed on both sides; waits in the conflict inbox"),
                    ("not_read", "Changed in HubSpot since sync last read it"),
                    ("unexplained", "Sync is not working on it"),
                ],
                max_length=15,
            ),
        ),
        migrations.RunPython(push_release, migrations.RunPython.noop, elidable=True),
    ]
