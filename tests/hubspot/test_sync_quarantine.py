# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Records that cannot be mapped are quarantined with a reason, shown on the issues
page, and written once the mapping is fixed; the admin pages show it all."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.inbound.poller import poll_run
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal, OwnerLink
from tests.factories import UserFactory

from .sync_support import (  # noqa: F401
    catch_up,
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def _import(client: HubSpotClient) -> SyncRun:
    return import_run(run_start(SyncRun.Kind.IMPORT), client=client)


def _open(object_type: str) -> dict[str, str]:
    issues = SyncIssue.objects.filter(object_type=object_type, resolved_at__isnull=True)
    return {i.hubspot_id: i.reason for i in issues}


def test_an_unmapped_owner_is_an_issue_of_its_own_until_mapped_on_the_status_page(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    hubspot_settings: None,
    admin_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ids = portfolio(
        sync_sandbox, companies=2, deals_per_company=1, owner_email="ann@elsewhere.example"
    )
    _import(client)
    company = ids["companies"]["c0"]
    # The companies and their deals are synced, without an owner; the owner is the issue.
    assert _open("companies") == {} and _open("deals") == {}
    assert Account.objects.get(hubspot_id=company).owner is None
    assert Deal.objects.count() == 2
    reason = _open("owners")["501"]
    assert reason.startswith("HubSpot owner 501 (ann@elsewhere.example) is not mapped to a user")
    assert "2 companies have no owner in Lifecycle until it is mapped" in reason

    web = Client()
    web.force_login(admin_user)
    page = web.get(reverse("hubspot:issues"))
    assert "is not mapped to a user" in page.content.decode()
    status = web.get(reverse("hubspot:status")).content.decode()
    assert "ann@elsewhere.example" in status  # listed under unmatched owners

    ann = UserFactory.create(username="ann2", email="ann@ours.example")
    link = OwnerLink.objects.get(hubspot_owner_id="501")
    # Mapping on the status page is the same path as on the issues page: it applies at
    # once, with no retry to press.
    response = web.post(reverse("hubspot:owner_map", args=[link.pk]), {"user": ann.pk}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert any(
        m.startswith("HubSpot owner ann@elsewhere.example is")
        and m.endswith("2 account(s) updated.")
        for m in said
    ), said

    assert _open("owners") == {}
    assert {a.owner for a in Account.objects.all()} == {ann}
    owner_rows = SyncChange.objects.filter(object_type="account", field="owner_id")
    assert owner_rows.count() == 2 and {r.new_value for r in owner_rows} == {str(ann.pk)}
    # A retry afterwards finds nothing left to do for this owner.
    with django_capture_on_commit_callbacks(execute=True):
        web.post(reverse("hubspot:issues_retry"))
    assert owner_rows.count() == 2


def test_unknown_stage_and_bad_date_are_quarantined_then_written_once_fixed(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: Any
) -> None:
    ids = portfolio(sync_sandbox, companies=1, deals_per_company=0)
    deal_ids = seed(
        sync_sandbox,
        {
            "deals": [
                {
                    "key": "odd",
                    "properties": {
                        "dealname": "Odd",
                        "pipeline": "default",
                        "dealstage": "mystery",
                    },
                },
                {
                    "key": "bad",
                    "properties": {
                        "dealname": "Bad",
                        "pipeline": "default",
                        "dealstage": "closedwon",
                        "closedate": "next tuesday",
                    },
                },
            ],
            "associations": [],
        },
    )["deals"]
    for key in ("odd", "bad"):
        sync_sandbox.store.associate(
            "deals", deal_ids[key], "companies", ids["companies"]["c0"], []
        )
    _import(client)
    issues = _open("deals")
    assert issues[deal_ids["odd"]] == "unknown stage 'mystery' in pipeline 'default'"
    assert issues[deal_ids["bad"]] == "closedate is not a date: 'next tuesday'"
    assert (
        SyncIssue.objects.get(hubspot_id=deal_ids["bad"]).payload["properties"]["dealname"] == "Bad"
    )

    # HubSpot gains the stage (the deal itself is untouched, so search will not return
    # it); someone fixes the date there. The next sync writes both.
    catch_up(sync_clock)
    sync_sandbox.store.pipelines[0]["stages"].append(
        {
            "id": "mystery",
            "label": "Mystery",
            "displayOrder": 9,
            "metadata": {"isClosed": "false", "probability": "0.5"},
        }
    )
    sync_sandbox.store.update(
        sync_sandbox.store.find("deals", deal_ids["bad"]), {"closedate": "2026-05-01"}
    )

    poll_run(SyncRun.objects.create(kind=SyncRun.Kind.POLL), client=client)

    assert _open("deals") == {}
    assert Deal.objects.get(hubspot_id=deal_ids["odd"]).stage.label == "Mystery"
    assert str(Deal.objects.get(hubspot_id=deal_ids["bad"]).close_date) == "2026-05-01"


def test_status_page_shows_runs_and_refreshes_them_with_htmx(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    hubspot_settings: None,
    admin_user: Any,
    django_assert_max_num_queries: Any,
) -> None:
    portfolio(sync_sandbox, companies=3, deals_per_company=1)
    _import(client)
    running = SyncRun.objects.create(
        kind=SyncRun.Kind.POLL,
        status=SyncRun.Status.RUNNING,
        records_done=50,
        records_estimated=200,
    )
    web = Client()
    web.force_login(admin_user)
    # Session, user, groups, then a fixed set of reads whatever the number of records.
    with django_assert_max_num_queries(25):
        html = web.get(reverse("hubspot:status")).content.decode()
    assert "Full import #" in html and "Done" in html
    assert 'hx-trigger="every 2s"' in html and 'http-equiv="refresh"' in html
    assert "50 of ~200" in html
    partial = web.get(reverse("hubspot:status"), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section class="panel" id="runs"')
    running.status = SyncRun.Status.DONE
    running.save()
    assert "every 2s" not in web.get(reverse("hubspot:status")).content.decode()


def test_journal_pages_overall_and_per_account(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    admin_user: Any,
    viewer: Any,
    django_assert_max_num_queries: Any,
) -> None:
    ids = portfolio(sync_sandbox, companies=30, deals_per_company=1)
    _import(client)
    account = Account.objects.get(hubspot_id=ids["companies"]["c3"])
    web = Client()
    web.force_login(admin_user)
    with django_assert_max_num_queries(12):
        overall = web.get(reverse("hubspot:journal")).content.decode()
    assert "Page 1 of 2" in overall
    web.force_login(viewer)
    mine = web.get(reverse("hubspot:account_journal", args=[account.pk])).content.decode()
    assert "Company 3" in mine and "Deal 3-0" in mine and "Deal 4-0" not in mine
    assert SyncChange.objects.filter(account=account).count() == 2
    page = web.get(reverse("account", args=[account.pk])).content.decode()
    assert reverse("hubspot:account_journal", args=[account.pk]) in page


def test_buttons_queue_a_full_import_and_an_incremental_sync(
    sync_sandbox: Sandbox,
    hubspot_settings: None,
    admin_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    portfolio(sync_sandbox, companies=2, deals_per_company=1)
    web = Client()
    web.force_login(admin_user)
    # Q_CLUSTER sync=True in tests: the queued task runs when the request commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(reverse("hubspot:import_start"))
    assert response.status_code == 302
    run = SyncRun.objects.get(kind=SyncRun.Kind.IMPORT)
    assert (run.status, run.created) == (SyncRun.Status.DONE, 4)
    with django_capture_on_commit_callbacks(execute=True):
        web.post(reverse("hubspot:sync_start"))
    poll = SyncRun.objects.get(kind=SyncRun.Kind.POLL)
    assert poll.status == SyncRun.Status.DONE
    assert Account.objects.count() == 2 and Deal.objects.count() == 2
