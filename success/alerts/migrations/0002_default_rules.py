from django.db import migrations

# The plays docs/domain.md lists; admins tune or pause them on the rules page.
DEFAULT_RULES = [
    {"name": "Health dropped 20% in a week", "kind": "health_drop", "threshold": 20, "days": 7},
    {"name": "No product login for 30 days", "kind": "no_login", "days": 30},
    {
        "name": "Renewal within 90 days, no business review in 120",
        "kind": "renewal_without_review",
        "days": 90,
        "second_days": 120,
    },
    {"name": "Onboarding milestone overdue", "kind": "onboarding_late"},
    {
        "name": "Seats at 80% with advanced features: expansion play",
        "kind": "seat_expansion",
        "threshold": 80,
        "minimum": 7,
        "due_in_days": 1,
    },
]


def create_rules(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    if AlertRule.objects.exists():
        return
    for spec in DEFAULT_RULES:
        AlertRule.objects.create(**spec)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
