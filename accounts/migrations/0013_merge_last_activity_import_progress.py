from django.db import migrations


class Migration(migrations.Migration):
    """Two changes made side by side: last activity from people's events, and CSV
    imports with a stored preview and progress. Neither touches the other's fields."""

    dependencies = [
        ("accounts", "0012_import_batch_stored_preview_and_progress"),
        ("accounts", "0012_last_activity_from_people"),
    ]
    operations: list[migrations.operations.base.Operation] = []
