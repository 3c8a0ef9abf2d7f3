from django.db import migrations, models


class Migration(migrations.Migration):
    """The alerts page's order over live alerts, read from an index (docs/performance.md,
    "Pages at 100,000 accounts")."""

    dependencies = [
        ("alerts", "0005_default_support_rules"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "acknowledged"])),
                fields=["due_on", "-opened_at"],
                name="alert_live_due",
            ),
        ),
    ]
