"""Time the daily digests of many CSMs over the current portfolio, and count
their queries at two team sizes (the count must not grow with people)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, User
from accounts.roles import Role
from lifecycle.notifications import digest
from lifecycle.notifications.models import Profile
from success.alerts.models import Alert
from success.models import SuccessTask

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Build (and write, then roll back) the digests of --csms CSMs and a leader over "
        "the current portfolio. The first run spreads the accounts, their alerts and "
        "tasks over bench CSMs (bench-csm-NNN): use a scratch database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csms", type=int, default=100)
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "bench" / "results" / "digests.json"),
        )

    def _people(self, count: int) -> tuple[User, list[User]]:
        csm_group = Group.objects.get_or_create(name=Role.CSM.value)[0]
        leader_group = Group.objects.get_or_create(name=Role.LEADER.value)[0]
        leader, _ = User.objects.get_or_create(
            username="bench-leader", defaults={"email": "bench-leader@example.com"}
        )
        leader.groups.add(leader_group)
        names = [f"bench-csm-{i:03d}" for i in range(count)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=n, email=f"{n}@example.com") for n in names if n not in existing]
        )
        csms = list(User.objects.filter(username__in=names).order_by("username"))
        csm_group.user_set.add(*csms)
        Profile.objects.bulk_create(
            [
                Profile(user=u, time_zone=ZONES[i % len(ZONES)], team_leader=leader)
                for i, u in enumerate(csms)
            ],
            ignore_conflicts=True,
        )
        return leader, csms

    def _spread(self, csms: list[User]) -> None:
        """Each account to one bench CSM (id modulo their count); alerts and tasks follow."""
        ids = [u.pk for u in csms]
        if Account.objects.filter(owner_id__in=ids).count() >= Account.objects.count() * 0.9:
            return
        started = time.perf_counter()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE accounts_account SET owner_id = (%s::bigint[])[1 + (id %% %s)]",
                    [ids, len(ids)],
                )
            owner = Account.objects.filter(pk=OuterRef("account_id")).values("owner_id")[:1]
            Alert.objects.update(owner_id=Subquery(owner))
            SuccessTask.objects.filter(assignee_user__isnull=False).update(
                assignee_user_id=Subquery(owner)
            )
        self.stdout.write(
            f"spread {Account.objects.count():,} accounts over {len(ids)} CSMs "
            f"in {time.perf_counter() - started:.1f} s"
        )

    def _run(self, users: list[User]) -> dict[str, Any]:
        now = timezone.now()
        result: dict[str, Any] = {}
        try:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as build_q:
                    started = time.perf_counter()
                    digests = digest.digests_build(users=users, now=now)
                    built = time.perf_counter()
                    rendered = [digest.digest_render(d) for d in digests if not d.is_empty]
                    render_done = time.perf_counter()
                with CaptureQueriesContext(connection) as write_q:
                    written = digest.digests_write(digests=digests, now=now)
                    done = time.perf_counter()
                result = {
                    "people": len(users),
                    "digests": written,
                    "empty": sum(1 for d in digests if d.is_empty),
                    "items": sum(d.count for d in digests),
                    "build_s": round(built - started, 2),
                    "render_s": round(render_done - built, 2),
                    "write_s": round(done - render_done, 2),
                    # build + write (which renders again); render_s alone is shown apart
                    "total_s": round((built - started) + (done - render_done), 2),
                    "build_queries": len(build_q.captured_queries),
                    "write_queries": len(write_q.captured_queries),
                    "html_kb_avg": round(
                        sum(len(h) for _, _, h in rendered) / max(len(rendered), 1) / 1024, 1
                    ),
                }
                raise Rollback
        except Rollback:
            pass
        return result

    def handle(self, *args: Any, **options: Any) -> None:
        settings.DEBUG = False
        leader, csms = self._people(options["csms"])
        self._spread(csms)
        accounts = Account.objects.count()
        small = self._run([leader, *csms[: max(len(csms) // 4, 1)]])
        full = self._run([leader, *csms])
        results = {
            "accounts": accounts,
            "small": small,
            "full": full,
            "queries_constant": small["build_queries"] == full["build_queries"]
            and small["write_queries"] == full["write_queries"],
        }
        for label, r in (("small", small), ("full", full)):
            self.stdout.write(
                f"{label}: {r['people']} people over {accounts:,} accounts: {r['digests']} "
                f"digests ({r['items']:,} items, {r['empty']} empty) in {r['total_s']} s "
                f"(build {r['build_s']} s, render {r['render_s']} s, write {r['write_s']} s); "
                f"queries: build {r['build_queries']}, write {r['write_queries']}"
            )
        self.stdout.write(f"queries independent of people: {results['queries_constant']}")
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n")
        self.stdout.write(f"wrote {output}")
