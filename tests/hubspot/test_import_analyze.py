# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""A full import large enough to change the planner's picture leaves the tables it
filled analysed, so the first daily job after it is not planned on empty-table
statistics."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Contact, Deal
from tests.accounts.test_bulk import analyze_count

from .sync_support import (  # noqa: F401
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def test_full_import_above_the_threshold_analyzes_what_it_filled(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    portfolio(sync_sandbox, companies=4, deals_per_company=1, contacts_per_company=1)
    settings.BULK_ANALYZE_MIN_ROWS = 12  # the 12 records stand for thousands
    before = [analyze_count(m) for m in (Account, Deal, Contact)]
    # The import runs outside a transaction; the test's own one defers the ANALYZE.
    with django_capture_on_commit_callbacks(execute=True):
        run = import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    assert run.status == SyncRun.Status.DONE and run.records_done == 12
    assert [analyze_count(m) for m in (Account, Deal, Contact)] == [n + 1 for n in before]


def test_small_import_leaves_statistics_to_autovacuum(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    portfolio(sync_sandbox, companies=2, deals_per_company=1)
    settings.BULK_ANALYZE_MIN_ROWS = 5
    before = analyze_count(Account)
    with django_capture_on_commit_callbacks(execute=True):
        import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    assert analyze_count(Account) == before
