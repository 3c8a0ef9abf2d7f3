from django.core.management.base import BaseCommand

from lifecycle.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared in lifecycle/schedules.py."

    def handle(self, *args: object, **options: object) -> None:
        for line in schedules_sync():
            self.stdout.write(line)
