# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""A person's edit saved while a push pass reads HubSpot (its accounts read, its pulls
not yet written) is not overwritten by the pull: the pass leaves the account due and the
next one judges the edit by its policy. The edit is made, and committed, on the
sandbox server's own thread and database connection while it answers the pass's read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection
from django.test import override_settings

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.outbound.push import dirty_accounts
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.http import Request, Response
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_cs_fields_update

from .sync_support import (  # noqa: F401
    client,
    clock_of,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db(transaction=True)
HUBSPOT_USER = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
THEIRS, OURS = date(2027, 3, 1), date(2027, 4, 1)


def _during_the_next_read(sandbox: Sandbox, edit: Callable[[], None]) -> None:
    real = sandbox.handle

    def handle(request: Request) -> Response:
        if request.path.endswith("/companies/batch/read") and sandbox.handle is handle:
            sandbox.handle = real  # type: ignore[method-assign]
            try:
                edit()
            finally:
                connection.close()  # this thread's connection
        return real(request)

    sandbox.handle = handle  # type: ignore[method-assign]


@override_settings(ACCOUNT_CHANGED_HOOKS=[])  # the test runs the passes itself
def test_an_edit_saved_while_the_push_reads_hubspot_is_not_overwritten_by_its_pull(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    portfolio(sync_sandbox, companies=1, deals_per_company=0)
    twoway.rule_save(key="next_business_review", owner="two_way", policy="latest", prop="", by=None)
    rule = next(r for r in twoway.rules_load() if r.key == "next_business_review")
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)  # to now
    twoway.push_pass(client)
    account = Account.objects.get()
    record = sync_sandbox.store.find("companies", account.hubspot_id or "")
    # A person in HubSpot sets the review date; the health job changes the account's score
    # (so the pass reads it), and while the pass reads HubSpot a person in Lifecycle sets
    # the review date too.
    sync_sandbox.store.update(record, {rule.property: THEIRS.isoformat()}, source=HUBSPOT_USER)
    account_cs_fields_update(account=account, health_score=77)

    def later_edit() -> None:
        clock_of(sync_sandbox).advance(seconds=5)
        account_cs_fields_update(account=Account.objects.get(), next_business_review=OURS)

    _during_the_next_read(sync_sandbox, later_edit)
    twoway.push_pass(client)
    account.refresh_from_db()
    assert account.next_business_review == OURS, "the pull did not overwrite the edit"
    assert dirty_accounts().filter(pk=account.pk).exists(), "left due"
    twoway.push_pass(client)  # both sides changed: the later edit, ours, wins
    account.refresh_from_db()
    assert account.next_business_review == OURS
    assert record.properties.get(rule.property) == OURS.isoformat()
