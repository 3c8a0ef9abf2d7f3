from django.db import migrations


class Migration(migrations.Migration):
    """Joins the timeline's new alert and expansion kinds with the changes merged before."""

    dependencies = [
        ("accounts", "0012_event_kinds_alert_and_expansion"),
        ("accounts", "0013_merge_last_activity_import_progress"),
    ]
    operations: list[migrations.operations.base.Operation] = []
