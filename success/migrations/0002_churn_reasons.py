from django.db import migrations

REASONS = [
    "Budget cut",
    "Switched to a competitor",
    "Product did not fit",
    "Champion or sponsor left",
    "Company acquired or closed",
    "Poor onboarding or adoption",
    "Other",
]


def add_reasons(apps, schema_editor):
    ChurnReason = apps.get_model("success", "ChurnReason")
    for order, label in enumerate(REASONS):
        ChurnReason.objects.get_or_create(label=label, defaults={"display_order": order})


class Migration(migrations.Migration):
    dependencies = [("success", "0001_initial")]

    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
