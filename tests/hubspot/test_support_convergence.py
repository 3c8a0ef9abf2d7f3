# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Support records converge under faults: people create, move, rename, delete and
restore tickets, log notes and calls and answer surveys in HubSpot, while the sandbox
answers 5xx, slow and dropped responses and 429 bursts, and duplicates and reorders its
webhooks. After the edits stop, a few sync cycles and one archived sweep leave our
tickets, survey answers and engagements equal to HubSpot's: same values, deletions
archived, no duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.hubspot import tasks
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.inbound.poller import archived_sweep
from accounts.hubspot.models import SyncRun
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.clock import iso_from_ms
from accounts.models import Account
from accounts.support.models import Engagement, FeedbackSubmission, Ticket

from .sync_support import (  # noqa: F401
    SECRET,
    capture,
    clock_of,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)
from .test_two_way_convergence import HUBSPOT_USER, URL, Harness

pytestmark = pytest.mark.django_db
ROUNDS = 4
EDITS_PER_ROUND = 25
ENGAGEMENTS = {"notes": ("note", 190), "calls": ("call", 182)}


def _subscribe(sandbox: Sandbox, capture: dict[str, Any]) -> None:
    webhook = sandbox.webhooks.settings
    webhook.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    webhook.client_secret = SECRET
    webhook.batch_window_s = 0.01
    for kind in ("creation", "deletion", "restore"):
        sandbox.webhooks.subscribe(f"ticket.{kind}")
        for name in ("note", "call", "feedback_submission"):
            sandbox.webhooks.subscribe(f"object.{kind}", object_name=name)
    for prop in ("subject", "hs_pipeline_stage"):
        sandbox.webhooks.subscribe("ticket.propertyChange", prop)


class People:
    """What people do in HubSpot, at random."""

    def __init__(self, h: Harness, companies: list[str], contacts: list[str]) -> None:
        self.h, self.store = h, h.sandbox.store
        self.companies, self.contacts = companies, contacts

    def act(self) -> None:
        rng, store = self.h.rng, self.store
        live = [r for r in store.records["tickets"].values() if not r.archived]
        gone = [r for r in store.records["tickets"].values() if r.archived]
        what = rng.choice(["ticket", "ticket", "move", "rename", "delete", "restore", "log"])
        if what == "move" and live:
            stage = rng.choice("1234")
            store.update(rng.choice(live), {"hs_pipeline_stage": stage}, source=HUBSPOT_USER)
        elif what == "rename" and live:
            name = f"Issue {rng.randrange(10**6)}"
            store.update(rng.choice(live), {"subject": name}, source=HUBSPOT_USER)
        elif what == "delete" and live:
            store.archive(rng.choice(live), source=HUBSPOT_USER)
        elif what == "restore" and gone:
            store.restore(rng.choice(gone), source=HUBSPOT_USER)
        elif what == "log":
            self.log()
        else:
            ticket = store.create(
                "tickets",
                {"subject": f"Issue {rng.randrange(10**6)}", "hs_pipeline_stage": "1"},
                source=HUBSPOT_USER,
            )
            store.associate("tickets", ticket.id, "companies", rng.choice(self.companies), [26])
        self.h.counts[what] += 1

    def log(self) -> None:
        rng, store = self.h.rng, self.store
        when = iso_from_ms(clock_of(self.h.sandbox).now_ms())
        if rng.random() < 0.3:
            answer = store.create(
                "feedback_submissions",
                {"hs_survey_type": "NPS", "hs_value": str(rng.randrange(11))},
                source=HUBSPOT_USER,
                allow_read_only=True,
            )
            store.associate(
                "feedback_submissions", answer.id, "contacts", rng.choice(self.contacts), [98]
            )
            return
        object_type = rng.choice(list(ENGAGEMENTS))
        record = store.create(
            object_type, {"hs_timestamp": when, "hubspot_owner_id": ""}, source=HUBSPOT_USER
        )
        store.associate(
            object_type,
            record.id,
            "companies",
            rng.choice(self.companies),
            [ENGAGEMENTS[object_type][1]],
        )
        if rng.random() < 0.2:
            store.archive(record, source=HUBSPOT_USER)


def _differences(sandbox: Sandbox) -> list[str]:
    found = []
    ours = {t.hubspot_id: t for t in Ticket.objects.select_related("stage")}
    for record in sandbox.store.records["tickets"].values():
        ticket = ours.get(record.id)
        props = record.properties
        if ticket is None:
            if not record.archived:
                found.append(f"ticket {record.id} missing")
            continue
        if record.archived:
            # Deleted: archived here with what we last read (HubSpot's search and reads
            # no longer show a deleted record's later values).
            if ticket.archived_at is None:
                found.append(f"ticket {record.id} deleted in HubSpot, live here")
            continue
        closed = props.get("hs_pipeline_stage") == "4"
        mine = (
            ticket.subject,
            ticket.stage.hubspot_id,
            ticket.is_closed,
            ticket.archived_at is not None,
        )
        theirs = (props.get("subject"), props.get("hs_pipeline_stage"), closed, record.archived)
        if mine != theirs:
            found.append(f"ticket {record.id}: ours {mine}, HubSpot's {theirs}")
    for object_type, (kind, _) in ENGAGEMENTS.items():
        ours_e = {e.hubspot_id: e for e in Engagement.objects.filter(kind=kind)}
        for record in sandbox.store.records[object_type].values():
            row = ours_e.get(record.id)
            if row is None and not record.archived:
                found.append(f"{kind} {record.id} missing")
            elif row is not None and (row.archived_at is not None) != record.archived:
                found.append(f"{kind} {record.id}: archived ours {row.archived_at}")
    answers = {str(h) for h in FeedbackSubmission.objects.values_list("hubspot_id", flat=True)}
    expected = {r.id for r in sandbox.store.records["feedback_submissions"].values()}
    if answers != expected:
        found.append(f"survey answers: ours {sorted(answers)}, HubSpot's {sorted(expected)}")
    return found


@pytest.mark.parametrize("seed", [17])
def test_support_records_converge_under_faults(
    seed: int,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    capture: dict[str, Any],
    hubspot_settings: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(seed, sync_sandbox, sync_server, capture)
    monkeypatch.setattr(tasks, "client_from_settings", lambda: h.client)
    sync_sandbox.limiter.set_tier("free")
    ids = portfolio(sync_sandbox, companies=20, deals_per_company=0, contacts_per_company=1)
    import_run(run_start(SyncRun.Kind.IMPORT), client=h.client)
    clock_of(sync_sandbox).advance(seconds=3600)  # to now, where the import left the cursor
    _subscribe(sync_sandbox, capture)
    h.faults_on()
    people = People(h, list(ids["companies"].values()), list(ids["contacts"].values()))
    for _ in range(ROUNDS):
        for _ in range(EDITS_PER_ROUND):
            clock_of(sync_sandbox).advance(seconds=1)
            people.act()
        h.cycle()

    for _ in range(3):  # edits stop; faults stay on
        h.cycle()
    sync_sandbox.faults.configure(error_rate=0, slow_rate=0, drop_rate=0)
    h.cycle()
    archived_sweep(run_start(SyncRun.Kind.ARCHIVED), client=h.client)

    assert _differences(sync_sandbox) == [], dict(h.counts)
    assert Ticket.objects.count() == len(set(Ticket.objects.values_list("hubspot_id", flat=True)))
    assert h.counts["ticket"] and h.counts["delete"] and h.counts["429 bursts"]
    assert Account.objects.count() == 20
