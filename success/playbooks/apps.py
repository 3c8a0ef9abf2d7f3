from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "success.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
