"""Queue the daily digests that are due, or one at once with --now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lifecycle.notifications import digest, outbox
from lifecycle.notifications.models import Delivery


class Command(BaseCommand):
    help = (
        "Queue the digests whose local hour came. --now --user csm1 queues csm1's digest "
        "now whatever the hour, unless they turned it off (the worker sends it: with no "
        "EMAIL_HOST, `make run`'s log shows it); --inline sends from this process instead."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", action="store_true", help="Ignore the digest hour.")
        parser.add_argument("--user", action="append", default=[], help="Username (repeatable).")
        parser.add_argument("--inline", action="store_true", help="Send here, not via the worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        users = digest.candidates(now=now, usernames=options["user"] or None)
        if options["user"] and not users:
            raise CommandError(f"No active user with an email named {', '.join(options['user'])}.")
        users = (
            digest.wanting_digest(users=users)
            if options["now"]
            else digest.due_now(users=users, now=now)
        )
        before = set(Delivery.objects.filter(status="pending").values_list("pk", flat=True))
        digests = digest.digests_build(users=users, now=now)
        for d in digests:
            if d.is_empty:
                self.stdout.write(f"{d.user.username}: nothing to say, no email")
        queued = digest.digests_write(digests=digests, now=now, forced=options["now"])
        self.stdout.write(f"queued {queued} digest email(s)")
        if options["inline"]:
            ids = sorted(
                set(Delivery.objects.filter(status="pending").values_list("pk", flat=True)) - before
            )
            outcome = outbox.deliveries_send(ids=ids)
            self.stdout.write(f"sent {len(outcome.sent)}, failed {len(outcome.failed)}")
