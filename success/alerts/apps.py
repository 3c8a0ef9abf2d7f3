from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "success.alerts"
    label = "alerts"
    verbose_name = "Alerts and expansion signals"
