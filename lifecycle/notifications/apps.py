from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "lifecycle.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .timezones import remember_time_zone

        user_logged_in.connect(remember_time_zone, dispatch_uid="notifications_time_zone")
