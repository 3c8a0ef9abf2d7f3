from django.db import migrations


def create_default_model(apps, schema_editor):
    """Scores from day one: an active model with sensible measures. Admins
    refine it by making new versions."""
    from success.health.defaults import ensure_default_model

    ensure_default_model(
        apps.get_model("health", "HealthModel"), apps.get_model("health", "HealthMeasure")
    )


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]
    operations = [migrations.RunPython(create_default_model, migrations.RunPython.noop)]
