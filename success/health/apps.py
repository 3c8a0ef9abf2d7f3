from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Health scores live in the success package as their own app, so their
    migrations evolve independently of plans, reviews and renewals."""

    name = "success.health"
    label = "health"
    verbose_name = "Health"
