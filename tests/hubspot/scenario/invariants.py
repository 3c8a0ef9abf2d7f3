"""The checks run once sync has settled. Invariants, not snapshots:

1. every synced field of every live linked account is equal on both sides (or waits in
   an open conflict), and its value is the one its rule says (shadow.py);
2. no edit a person made is lost without a journal row (SyncChange) naming its value;
3. no duplicate company, account or deal; deletions and merges left what HubSpot holds;
4. nothing stays quarantined, failing or "sent, unconfirmed" after transient failures;
5. calls settle: a further round writes nothing and the push makes no call.

A failure raises ScenarioFailed, whose message names the seed, how to replay it, every
problem found and the operation log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.hubspot import twoway
from accounts.hubspot.models import (
    SyncChange,
    SyncChangeStatus,
    SyncConflict,
    SyncIssue,
    SyncState,
)
from accounts.hubspot.rules.field_rules import local_value
from accounts.hubspot.rules.mapping import display
from accounts.models import Account, Deal
from tests.hubspot.scenario.shadow import HUBSPOT, LIFECYCLE, CompanyShadow
from tests.hubspot.scenario.world import hubspot_writes

if TYPE_CHECKING:
    from tests.hubspot.scenario.generator import Scenario


class ScenarioFailed(AssertionError):
    pass


def _survivor(scenario: Scenario, company: CompanyShadow) -> CompanyShadow:
    while company.merged_into:
        company = scenario.shadow.companies[company.merged_into]
    return company


def _fields(scenario: Scenario, company: CompanyShadow, problems: list[str]) -> None:
    account = Account.objects.get(pk=company.account_pk)
    record = scenario.company(company.company_id)
    rules = {r.key: r for r in twoway.rules_load()}  # the owner directory as it is now
    conflicts = {c.field: c for c in SyncConflict.objects.filter(account=account, status="open")}
    where = f"account {account.pk} / company {company.company_id}"
    for key, rule in sorted(rules.items()):
        ours = rule.spec.canonical_local(getattr(account, rule.spec.attribute))
        theirs = rule.spec.canonical_remote(record.properties.get(rule.property, ""))
        conflict = conflicts.get(key)
        shadow = company.fields.get(key)
        if shadow is None:  # a field nobody edits (domain, health band): equal is enough
            if ours != theirs and conflict is None:
                problems.append(f"{where} {key}: Lifecycle {ours!r} != HubSpot {theirs!r}")
            continue
        expected = shadow.expected(rule.owner, rule.policy)
        scenario.counts["checked: edited fields"] += bool(shadow.edits)
        if conflict is not None:
            scenario.counts["checked: open conflicts"] += 1
            held = (conflict.ours, conflict.theirs)
            if expected.conflict is None or held != expected.conflict:
                problems.append(
                    f"{where} {key}: open conflict holds {held}, expected "
                    f"{expected.conflict or 'no conflict'} (value {expected.value!r})"
                )
            elif (ours, theirs) != held:
                problems.append(
                    f"{where} {key}: open conflict holds {held} but the sides hold "
                    f"Lifecycle {ours!r}, HubSpot {theirs!r}"
                )
            continue
        if ours != theirs:
            problems.append(f"{where} {key}: Lifecycle {ours!r} != HubSpot {theirs!r}")
        elif ours != expected.value:
            last = shadow.latest()
            problems.append(
                f"{where} {key} ({rule.owner}/{rule.policy}): both sides hold {ours!r}, the "
                f"rule says {expected.value!r} (edits: {shadow.edits}; latest step "
                f"{last.step if last else '-'})"
            )
        # No person's edit lost without a journal row naming it: each side's last edit
        # either is the value that stands, or the journal carried it to the other side
        # (new value) or says what overwrote it (old value).
        journaled = list(
            SyncChange.objects.filter(account=account, field=rule.spec.attribute).values_list(
                "old_value", "new_value"
            )
        )
        for side in (LIFECYCLE, HUBSPOT):
            edit = shadow.last(side)
            if edit is None or edit.value == ours:
                continue
            # Inbound rows name values as the account holds them (ARR "31313.00", an
            # owner as the user's pk), push rows as HubSpot does ("31313", owner "502").
            names = {edit.value, display(local_value(rule, edit.value))}
            scenario.counts[f"checked: {side} edits overwritten, journaled"] += 1
            if not any(names & set(pair) for pair in journaled):
                problems.append(
                    f"{where} {key}: the {side} edit {edit.value!r} (step {edit.step}) was "
                    f"lost without a journal row; journal: {journaled}"
                )


def _companies(scenario: Scenario, problems: list[str]) -> None:
    store = scenario.sandbox.store
    for company in scenario.shadow.companies.values():
        account = Account.objects.get(pk=company.account_pk)
        if company.merged_into:
            survivor = _survivor(scenario, company)
            kept = Account.objects.filter(hubspot_id=survivor.company_id)
            if account.status == Account.Status.ACTIVE:
                problems.append(
                    f"account {account.pk}: company {company.company_id} was merged into "
                    f"{survivor.company_id}, yet the account is still active"
                )
            if [a.pk for a in kept] != [survivor.account_pk]:
                problems.append(
                    f"merge into {survivor.company_id}: linked accounts "
                    f"{[a.pk for a in kept]}, expected [{survivor.account_pk}]"
                )
        elif company.deleted:
            if account.status == Account.Status.ACTIVE:
                problems.append(
                    f"account {account.pk}: company {company.company_id} is deleted in "
                    "HubSpot, yet the account is active"
                )
        elif account.status != Account.Status.ACTIVE or account.hubspot_id != company.company_id:
            problems.append(
                f"account {account.pk}: company {company.company_id} is live, yet the account "
                f"is {account.status} linked to {account.hubspot_id!r}"
            )
        else:
            _fields(scenario, company, problems)

    # No duplicates: one live company per active linked account, and back.
    live = {r.id for r in store.ordered("companies")}
    active = Account.objects.filter(status=Account.Status.ACTIVE)
    linked = sorted(str(i) for i in active.values_list("hubspot_id", flat=True))
    if sorted(live) != linked:
        problems.append(f"live companies {sorted(live)} != active accounts' {sorted(linked)}")
    if active.count() != len(scenario.shadow.live()):
        problems.append(
            f"{active.count()} active accounts, {len(scenario.shadow.live())} live companies"
        )
    ids = [
        r.properties.get("lifecycle_account_id")
        for r in store.ordered("companies")
        if r.properties.get("lifecycle_account_id")
    ]
    if len(ids) != len(set(ids)):
        problems.append(f"two live companies share a lifecycle_account_id: {ids}")

    # Deals: each made once on each side, each linked to its twin.
    remote = store.ordered("deals")
    made_here = [str(r.properties.get("lifecycle_deal_id") or "") for r in remote]
    made_here = [m for m in made_here if m]
    if len(made_here) != len(set(made_here)):
        problems.append(f"two live deals share a lifecycle_deal_id: {sorted(made_here)}")
    ours = Deal.objects.filter(account__status=Account.Status.ACTIVE)
    missing = set(ours.filter(created_in_lifecycle=True).values_list("pk", flat=True)) - {
        int(m) for m in made_here
    }
    if missing:
        problems.append(f"Lifecycle deals never made in HubSpot: {sorted(missing)}")
    remote_ids = {r.id for r in remote}
    stray = set(ours.filter(hubspot_id__gt="").values_list("hubspot_id", flat=True)) - remote_ids
    if stray:
        problems.append(f"deals linked to no live HubSpot deal: {sorted(map(str, stray))}")
    unlinked = {r.id for r in remote} - set(Deal.objects.values_list("hubspot_id", flat=True))
    if unlinked:
        problems.append(f"HubSpot deals with no deal here: {sorted(unlinked)}")


def _recovery(scenario: Scenario, problems: list[str]) -> None:
    # A write to a company a person deleted is refused (404) and its issue may stay
    # while the company stays deleted: that is no transient failure. Every other open
    # issue is one.
    deleted = {c.company_id for c in scenario.shadow.companies.values() if not c.live}
    for issue in SyncIssue.objects.filter(resolved_at__isnull=True):
        if issue.object_type == "companies" and issue.hubspot_id in deleted:
            scenario.counts["issues left on deleted companies"] += 1
            continue
        problems.append(
            f"open sync issue {issue.object_type} {issue.hubspot_id}: {issue.reason} "
            f"(source {issue.source}, {issue.attempts} attempts)"
        )
    # An archived account (its company deleted or merged away) is not pushed at all; it
    # is held to this once it is active again.
    backing_off = SyncState.objects.filter(
        push_failures__gt=0, account__status=Account.Status.ACTIVE
    ).select_related("account")
    for state in backing_off:
        problems.append(
            f"account {state.account_id} still backing off after transient failures: "
            f"{state.push_failures} in a row, last attempt {state.pushed_at}, checked "
            f"{state.checked_at}, account {state.account.status} updated "
            f"{state.account.updated_at}"
        )
    sent = SyncChange.objects.filter(status=SyncChangeStatus.SENT)
    if sent.exists():
        problems.append(
            "journal rows still 'sent, unconfirmed': "
            + ", ".join(f"{c.account_id}.{c.field}={c.new_value!r}" for c in sent)
        )


def _settled(scenario: Scenario, problems: list[str]) -> None:
    if scenario.settled_after is None:
        problems.append("sync did not settle: every quiet round still wrote or journaled")
        return
    writes, journal = hubspot_writes(scenario.server), SyncChange.objects.count()
    made = scenario.channel.counts["webhook events made"]
    outcome = twoway.push_pass(scenario.client)
    if outcome.calls:
        problems.append(f"a further push made {outcome.calls} HubSpot calls")
    for name in ("events", "poll", "sweep"):
        scenario.run_pass(name)
    scenario.channel.deliver(scenario.web, everything=True)
    if hubspot_writes(scenario.server) != writes:
        problems.append(f"a further round wrote {hubspot_writes(scenario.server) - writes} times")
    if SyncChange.objects.count() != journal:
        problems.append("a further round journaled changes")
    if scenario.channel.counts["webhook events made"] != made:
        problems.append("a further round made HubSpot send webhooks")


def scenario_check(scenario: Scenario) -> None:
    problems: list[str] = []
    _settled(scenario, problems)
    _companies(scenario, problems)
    _recovery(scenario, problems)
    if problems:
        seed = scenario.config.seed
        raise ScenarioFailed(
            f"scenario seed {seed} ({scenario.config.steps} steps, "
            f"{scenario.config.companies} companies) broke {len(problems)} invariant(s).\n"
            f"Replay: HUBSPOT_SCENARIO_SEEDS={seed} HUBSPOT_SCENARIO_STEPS="
            f"{scenario.config.steps} HUBSPOT_SCENARIO_COMPANIES={scenario.config.companies} "
            f"pytest tests/hubspot/test_scenario.py  (or --scenario-seed {seed})\n\n"
            + "\n".join(f"- {p}" for p in problems)
            + f"\n\ncounts: {dict(sorted(scenario.counts.items()))}; "
            f"seconds: { {k: round(v, 1) for k, v in scenario.timing.items()} }; "
            f"webhooks: {dict(sorted(scenario.channel.counts.items()))}\n"
            "operation log:\n" + "\n".join(scenario.log)
        )
