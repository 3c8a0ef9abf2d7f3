# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The full import against the sandbox: what lands where, resuming after a crash, and a
fixed number of queries per page."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from accounts.hubspot.inbound.importer import import_run, resumable_import, run_start
from accounts.hubspot.inbound.writers import SyncContext, companies_page_write, deals_page_write
from accounts.hubspot.models import SyncChange, SyncCursor, SyncIssue, SyncRun, SyncSource
from accounts.hubspot.rules.mapping import MappingConfig
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Contact, Deal, OwnerLink, PipelineStage
from tests.factories import AccountFactory, UserFactory

from .sync_support import (  # noqa: F401
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def _import(client: HubSpotClient, **kwargs: Any) -> SyncRun:
    return import_run(run_start(SyncRun.Kind.IMPORT), client=client, **kwargs)


def test_import_brings_owners_pipelines_companies_deals_and_contacts(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    ann = UserFactory.create(username="ann", email="ANN@example.com")
    ids = portfolio(
        sync_sandbox,
        companies=3,
        deals_per_company=2,
        contacts_per_company=1,
        owner_email="ann@example.com",
    )
    seed(sync_sandbox, {"contacts": [{"properties": {"email": "loner@nowhere.example"}}]})

    run = _import(client)

    assert run.status == SyncRun.Status.DONE
    link = OwnerLink.objects.get(hubspot_owner_id="501")
    assert link.user == ann
    won = PipelineStage.objects.get(hubspot_id="closedwon")
    assert won.is_won and won.is_closed and won.pipeline.hubspot_id == "default"
    acme = Account.objects.get(hubspot_id=ids["companies"]["c0"])
    assert (acme.name, acme.domain, acme.owner, acme.arr) == (
        "Company 0",
        "co0.example",
        ann,
        Decimal("1000.00"),
    )
    assert Deal.objects.filter(account=acme).count() == 2
    assert Deal.objects.get(hubspot_id=ids["deals"]["d0-1"]).stage == won
    # Only contacts of synced companies come in; the other one is counted as skipped.
    assert Contact.objects.filter(hubspot_id__isnull=False).count() == 3
    assert run.skipped == 1
    assert (run.records_done, run.records_estimated) == (3 + 6 + 4, 13)
    assert SyncChange.objects.filter(
        account=acme, field="created", source=SyncSource.IMPORT
    ).exists()
    # Incremental sync takes over from the import's start.
    assert SyncCursor.objects.filter(object_type="companies", since_ms__gt=0).exists()


def test_import_links_an_existing_account_by_domain_and_never_duplicates(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    mine = AccountFactory.create(name="Ours", domain="co0.example", hubspot_id=None)
    linked = AccountFactory.create(name="Linked", domain="co1.example", hubspot_id="999999")
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0)

    _import(client)
    _import(client)  # twice: nothing new

    mine.refresh_from_db()
    assert mine.hubspot_id == ids["companies"]["c0"] and mine.name == "Company 0"
    assert Account.objects.filter(domain="co0.example").count() == 1
    # co1's domain belongs to an account linked to another HubSpot company: quarantined.
    issue = SyncIssue.objects.get(hubspot_id=ids["companies"]["c1"])
    assert "already linked to HubSpot company 999999" in issue.reason
    assert Account.objects.get(pk=linked.pk).hubspot_id == "999999"
    assert Account.objects.count() == 2


def test_import_resumes_from_the_last_committed_page_after_a_crash(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    portfolio(sync_sandbox, companies=45, deals_per_company=0)
    pages: list[int] = []

    def crash_after_two_pages(run: SyncRun, result: Any) -> None:
        pages.append(run.records_done)
        if len(pages) == 2:
            # HubSpot goes down: every further call fails, past the client's retries.
            sync_sandbox.faults.queue(*[503] * 10)

    run = run_start(SyncRun.Kind.IMPORT)
    with pytest.raises(Exception, match="503"):
        import_run(run, client=client, page_size=10, on_page=crash_after_two_pages)

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and "503" in run.error
    assert Account.objects.count() == 20
    assert run.cursors["companies"] == {
        "after": str(int(run.cursors["companies"]["after"])),
        "done": False,
    }
    assert resumable_import() == run

    sync_sandbox.faults.configure(queued=[])
    seen_after_resume: list[int] = []
    import_run(
        run,
        client=client,
        page_size=10,
        on_page=lambda r, res: seen_after_resume.append(res.created),
    )

    run.refresh_from_db()
    assert run.status == SyncRun.Status.DONE
    assert Account.objects.count() == 45
    # The resumed run wrote only the 25 companies it had not written: three pages.
    assert seen_after_resume[:3] == [10, 10, 5]
    assert run.records_done == 45


def _page(
    client: HubSpotClient, object_type: str, size: int, after: str | None = None
) -> list[dict[str, Any]]:
    records, _ = client.list_page(
        object_type,
        properties=[
            "name",
            "domain",
            "hubspot_owner_id",
            "annualrevenue",
            "dealname",
            "amount",
            "closedate",
            "pipeline",
            "dealstage",
        ],
        associations=["companies"] if object_type == "deals" else [],
        page_size=size,
        after=after,
    )
    return records


@pytest.mark.parametrize("size", [10, 100])
def test_a_page_of_companies_costs_the_same_queries_whatever_its_size(
    client: HubSpotClient, sync_sandbox: Sandbox, size: int, django_assert_num_queries: Any
) -> None:
    portfolio(sync_sandbox, companies=size, deals_per_company=0)
    seed(sync_sandbox, {"companies": [{"properties": {"name": ""}}]})  # unmappable: no name
    records = _page(client, "companies", size)
    # A tenth already exist (updated), one matches by domain (linked), the rest are new.
    for r in records[: size // 10]:
        AccountFactory.create(hubspot_id=r["id"], name="Old name", domain=f"old-{r['id']}.example")
    AccountFactory.create(hubspot_id=None, domain=f"co{size - 1}.example")
    records.append(_page(client, "companies", 1, after=str(int(records[-1]["id"]) + 1))[0])
    ctx = SyncContext(source=SyncSource.IMPORT).load()
    # SAVEPOINT; 1 read of the page's twins (locked until the page commits); same-name
    # candidates of the new ones; insert accounts, their sync states, stage changes,
    # events; read and upsert the linked accounts' sync states; update changed accounts;
    # insert journal; upsert issues; resolve issues; RELEASE.
    with django_assert_num_queries(14):
        result = companies_page_write(records, ctx)
    assert (result.created, result.updated, result.quarantined) == (
        size - size // 10 - 1,
        size // 10 + 1,
        1,
    )


def test_a_page_of_deals_costs_the_same_queries_whatever_its_size(
    client: HubSpotClient, sync_sandbox: Sandbox, django_assert_num_queries: Any
) -> None:
    portfolio(sync_sandbox, companies=60, deals_per_company=1)
    _import(client)
    for size in (10, 50):
        # One deal of the page changed in HubSpot since the import.
        sync_sandbox.store.update(sync_sandbox.store.ordered("deals")[size - 1], {"amount": "900"})
        records = _page(client, "deals", size)
        ctx = SyncContext(source=SyncSource.POLL).load()
        # account lookup, deal twins, SAVEPOINT, bulk update, journal insert,
        # resolve issues, RELEASE.
        with django_assert_num_queries(7):
            deals_page_write(records, ctx)


def test_arr_can_be_the_sum_of_won_deals(client: HubSpotClient, sync_sandbox: Sandbox) -> None:
    ids = portfolio(sync_sandbox, companies=1, deals_per_company=2)
    seed(
        sync_sandbox,
        {
            "deals": [
                {
                    "key": "lost",
                    "properties": {
                        "dealname": "Lost",
                        "amount": "7000",
                        "pipeline": "default",
                        "dealstage": "closedlost",
                    },
                }
            ]
        },
    )
    _import(client, config=MappingConfig(arr_source="won_deals"))
    account = Account.objects.get(hubspot_id=ids["companies"]["c0"])
    assert account.arr == Decimal("1000.00")  # two won deals of 500; the lost one is not linked
    assert SyncChange.objects.filter(account=account, field="arr", new_value="1000.00").exists()


def test_hubspot_import_command_shows_progress_and_resumes_the_unfinished_run(
    sync_sandbox: Sandbox, hubspot_settings: None
) -> None:
    portfolio(sync_sandbox, companies=5, deals_per_company=1)
    crashed = SyncRun.objects.create(
        kind=SyncRun.Kind.IMPORT,
        status=SyncRun.Status.RUNNING,
        cursors={"companies": {"after": None, "done": True}},
        records_done=5,
    )
    out = io.StringIO()

    call_command("hubspot_import", stdout=out)

    text = out.getvalue()
    assert f"Resuming import #{crashed.pk}" in text
    assert "[##############################] 100%" in text
    crashed.refresh_from_db()
    # Companies were marked done before the crash, so only deals were asked for; they
    # are quarantined because their companies never came in.
    assert crashed.status == SyncRun.Status.DONE
    assert (crashed.records_done, crashed.quarantined) == (10, 5)
    assert SyncIssue.objects.filter(object_type="deals").count() == 5


def test_import_takes_the_primary_company_by_v4_type_id_not_the_first_listed(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    """A live portal names the primary link `deal_to_company` and the plain one
    `deal_to_company_unlabeled` in v3: only the v4 type id (5, contacts 1) tells them."""
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0)
    first, second = ids["companies"]["c0"], ids["companies"]["c1"]
    people = seed(
        sync_sandbox,
        {
            "deals": [
                {
                    "key": "d",
                    "properties": {
                        "dealname": "D",
                        "pipeline": "default",
                        "dealstage": "closedwon",
                    },
                }
            ],
            "contacts": [{"key": "p", "properties": {"email": "pat@co1.example"}}],
        },
    )
    deal, contact = people["deals"]["d"], people["contacts"]["p"]
    store = sync_sandbox.store
    store.associate("deals", deal, "companies", first, [341])
    store.associate("deals", deal, "companies", second, [5])
    store.associate("contacts", contact, "companies", first, [279])
    store.associate("contacts", contact, "companies", second, [1])

    _import(client)

    assert Deal.objects.get(hubspot_id=deal).account.hubspot_id == second
    assert Contact.objects.get(email="pat@co1.example").account.hubspot_id == second


def test_import_reads_deal_and_contact_companies_on_the_list_page(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    """One request per page: deals and contacts come with their companies inline (v3
    `associations=companies`), and a page whose records each name one company needs no
    associations v4 read (the call count a rate-limited import is bound by)."""
    portfolio(sync_sandbox, companies=30, deals_per_company=2, contacts_per_company=1)
    sync_sandbox.calls.clear()

    _import(client, page_size=25)

    calls = sync_sandbox.calls
    assert (calls["GET /crm/v3/objects/deals"], calls["GET /crm/v3/objects/contacts"]) == (3, 2)
    assert [k for k in calls if "/crm/v4/" in k] == []
    assert Deal.objects.filter(account__isnull=False).count() == 60
    assert Contact.objects.filter(account__isnull=False).count() == 30
