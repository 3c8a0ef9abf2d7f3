from django.db import migrations
from django.utils import timezone


def create_default_model(apps, schema_editor):
    """Scores from day one: an active model with sensible measures. Admins
    refine it by making new versions."""
    from success.health.services import DEFAULT_MEASURES

    HealthModel = apps.get_model("health", "HealthModel")
    HealthMeasure = apps.get_model("health", "HealthMeasure")
    if HealthModel.objects.exists():
        return
    model = HealthModel.objects.create(
        version=1,
        name="Standard health",
        status="active",
        activated_at=timezone.now(),
        note="Default model",
    )
    for spec in DEFAULT_MEASURES:
        HealthMeasure.objects.create(
            model=model,
            input=str(spec["input"]),
            weight=spec["weight"],
            rule=str(spec.get("rule", "linear")),
            direction=str(spec.get("direction", "higher")),
            low=spec.get("low", 0),
            high=spec.get("high", 100),
            steps=spec.get("steps", []),
        )


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]
    operations = [migrations.RunPython(create_default_model, migrations.RunPython.noop)]
