from decimal import Decimal

from django.db import migrations

# The support plays of issue 18 (docs/domain.md's seed: 30 days without a login or a
# touch is a trigger); admins tune or pause them on the rules page. A kind that already
# has a rule is left alone.
SUPPORT_RULES = [
    {"name": "Detractor survey answer", "kind": "detractor", "days": 30, "due_in_days": 1},
    {
        "name": "Escalated ticket open 3 days or more",
        "kind": "escalated_ticket",
        "days": 3,
        "due_in_days": 1,
    },
    {
        "name": "Tickets up 50% on the previous 30 days (at least 5)",
        "kind": "tickets_up",
        "threshold": 50,
        "minimum": 5,
    },
    {
        "name": "No touch or login for 30 days (ARR 50,000 or more)",
        "kind": "no_touch",
        "days": 30,
        "arr_threshold": Decimal("50000"),
    },
]


def create_rules(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for spec in SUPPORT_RULES:
        if not AlertRule.objects.filter(kind=spec["kind"]).exists():
            AlertRule.objects.create(**spec)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_support_alert_kinds_and_expansion_hints")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
