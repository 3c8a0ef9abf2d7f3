"""Write one page of HubSpot companies into accounts (fixed number of queries): new ones
created, changed ones updated, two-way fields compared three ways (inbound_compare),
unmappable ones quarantined with the accounts they may be."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.inbound import compare as inbound_compare
from accounts.hubspot.inbound.page_context import (
    ACCOUNT_FIELDS,
    PageJournal,
    PageResult,
    SyncContext,
    changed_fields,
    issues_save,
    owner_issues_save,
)
from accounts.hubspot.models import SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.mapping import Record, Unmappable
from accounts.models import (
    Account,
    Event,
    StageChange,
)


def companies_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert companies as Accounts: matched by hubspot_id, then by normalised domain
    (HubSpot's `domain` in any URL form, then its `hs_additional_domains`); a domain
    another linked account already holds is quarantined, never duplicated. An owner
    Lifecycle cannot name leaves the account without one and is reported on its own
    (`owner_issues_save`); the company's other fields apply."""
    result = PageResult()
    mapped, failed, ours_ids = _page_map(records, ctx)
    originals = {str(r["id"]): r for r in records}
    domains = {hid: mapping.company_domains(originals[hid]) for hid in mapped}
    # One transaction from reading the page's accounts (locked, FOR UPDATE, in id order)
    # to writing them: a Lifecycle edit saved meanwhile waits and lands after the page,
    # newer and due, instead of being overwritten by a pull read before it.
    with transaction.atomic():
        match = _Match(
            ctx=ctx,
            result=result,
            failed=failed,
            journal=PageJournal(ctx),
            now=timezone.now(),
            originals=originals,
            ours_ids=ours_ids,
            domains=domains,
        ).load(_accounts_known(mapped, ours_ids, domains, ctx))
        for hid, values in mapped.items():
            match.place(hid, values)
        new, changed, journal, now = match.new, match.changed, match.journal, match.now
        # A new company whose name an unlinked account has (and no domain tells them
        # apart) may be that account: a person decides, nothing is guessed.
        candidates = _name_candidates(new, ctx)
        for hid, found in candidates.items():
            del new[hid]
            names = ", ".join(c["name"] for c in found)
            failed[hid] = (
                f"may be account {names} (same name, no domain to tell them apart): "
                "link it to one, or create a new account",
                {},
            )
        # Records whose failure was found after mapping keep the original payload.
        failed = {hid: (reason, originals[hid]) for hid, (reason, _) in failed.items()}
        modified = {
            hid: mapping.parse_ms(mapping.prop(r, "hs_lastmodifieddate"))
            for hid, r in originals.items()
        }
        if new:
            _accounts_create(new, originals, modified, ctx, journal, now)
        _, unreadable, pulls = inbound_compare.inbound_compare(
            match.pairs, ctx.rules, modified_ms=modified, event_values=ctx.event_values
        )
        bulk.insert(StageChange, _pulls_journal(pulls, journal, changed, now))
        for hid, reason in unreadable.items():
            failed.setdefault(hid, (reason, originals[hid]))
        if changed:
            Account.objects.bulk_update(
                list(changed.values()), [*journal.changed_fields(), "updated_at"]
            )
        journal.save()
        issues_save(ctx, "companies", failed, mapped.keys() - failed.keys(), candidates)
        owner_issues_save(ctx, {h: r for h, r in originals.items() if h in mapped})
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


def _page_map(
    records: Sequence[Record], ctx: SyncContext
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, Record]], dict[str, int]]:
    """Each company's fields (or why it cannot be mapped), and our account id on the
    companies Lifecycle made."""
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            mapped[hid] = mapping.company_fields(record, config=ctx.config, owners=ctx.owners)
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
    # A company Lifecycle made carries our id: it links to its account even if we never
    # learnt the id HubSpot gave it (a crash between HubSpot's answer and our commit).
    ours_ids: dict[str, int] = {}
    for record in records:
        raw = str(mapping.prop(record, fieldspecs.ACCOUNT_ID_PROPERTY) or "")
        if raw.isdigit() and str(record["id"]) in mapped:
            ours_ids[str(record["id"])] = int(raw)
    return mapped, failed, ours_ids


def _accounts_known(
    mapped: dict[str, dict[str, Any]],
    ours_ids: dict[str, int],
    domains: dict[str, list[str]],
    ctx: SyncContext,
) -> list[Account]:
    """The page's accounts, in one query, locked until the page commits: by HubSpot id,
    by any of the companies' domains, or by our id."""
    return list(
        Account.objects.select_for_update(of=("self",))
        .filter(
            Q(hubspot_id__in=list(mapped))
            | Q(domain__in={d for found in domains.values() for d in found})
            | Q(pk__in=list(ours_ids.values()), hubspot_id__isnull=True)
        )
        .order_by("pk")
        .only(
            "pk",
            "hubspot_id",
            "status",
            "updated_at",
            "field_changed_at",
            *[f.removesuffix("_id") for f in ACCOUNT_FIELDS],
            *[r.spec.attribute for r in ctx.rules],
        )
    )


@dataclass
class _Match:
    """Where each company of a page goes: a new account, an existing one (its copied
    fields changed or not), or quarantine (a domain another account holds)."""

    ctx: SyncContext
    result: PageResult
    failed: dict[str, tuple[str, Record]]
    journal: PageJournal
    now: datetime
    originals: dict[str, Record]
    ours_ids: dict[str, int]
    domains: dict[str, list[str]]
    by_hid: dict[str, Account] = field(default_factory=dict)
    by_domain: dict[str, Account] = field(default_factory=dict)
    unlinked: dict[int, Account] = field(default_factory=dict)
    compared: set[str] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)
    placed: set[int] = field(default_factory=set)  # unlinked accounts a company took
    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[int, Account] = field(default_factory=dict)
    pairs: list[tuple[Account, Record]] = field(default_factory=list)

    def load(self, existing: list[Account]) -> _Match:
        # Fields HubSpot does not own alone are compared three ways (compare.py), not
        # copied; so is the owner, whatever its rule: a record that is the echo of our
        # own push must never set it back.
        self.compared = {
            r.spec.attribute
            for r in self.ctx.rules
            if r.owner != fieldspecs.HUBSPOT or r.key == "owner"
        }
        self.by_hid = {a.hubspot_id: a for a in existing if a.hubspot_id}
        self.by_domain = {a.domain: a for a in existing if a.domain}
        self.unlinked = {a.pk: a for a in existing if not a.hubspot_id}
        return self

    def place(self, hid: str, values: dict[str, Any]) -> None:
        account = self.by_hid.get(hid) or self.unlinked.get(self.ours_ids.get(hid, 0))
        twin = self.by_domain.get(values["domain"]) if values["domain"] else None
        if account is None:
            # A CSV-imported or hand-made account with one of the company's domains
            # (its own first, then its additional ones): link it, do not duplicate.
            account = self._unlinked_by_domain(hid)
        reason = self._refused(account, twin, values["domain"])
        if reason:
            self.failed[hid] = (reason, {})
            return
        if values["domain"]:
            self.claimed.add(values["domain"])
        if account is None:
            self.new[hid] = {
                **values,
                **inbound_compare.pulled_values(self.originals[hid], self.ctx.rules),
                "hubspot_id": hid,
                "created_at": self.now,
                "updated_at": self.now,
            }
            return
        self._update(account, hid, values)

    def _unlinked_by_domain(self, hid: str) -> Account | None:
        for domain in self.domains.get(hid, []):
            found = self.by_domain.get(domain)
            if found is not None and not found.hubspot_id and found.pk not in self.placed:
                self.placed.add(found.pk)
                return found
        return None

    def _refused(self, account: Account | None, twin: Account | None, domain: str) -> str:
        if twin is not None and account is not None and twin.pk != account.pk:
            return f"domain {domain} belongs to account {twin.name}"
        if account is None and twin is not None:
            return (
                f"domain {domain} is already linked to HubSpot company "
                f"{twin.hubspot_id} ({twin.name})"
            )
        if domain and domain in self.claimed:
            return f"domain {domain} appears twice in one page"
        return ""

    def _update(self, account: Account, hid: str, values: dict[str, Any]) -> None:
        self.pairs.append((account, self.originals[hid]))
        copied = {k: v for k, v in values.items() if k not in self.compared}
        old = changed_fields(account, copied, ACCOUNT_FIELDS)
        if account.hubspot_id != hid:
            old["hubspot_id"] = account.hubspot_id
            values = {**values, "hubspot_id": hid}
        if not old:
            self.result.unchanged += 1
            return
        self.journal.apply(
            account,
            object_type="account",
            hubspot_id=hid,
            account_id=account.pk,
            old=old,
            values=values,
        )
        account.updated_at = self.now
        self.changed[account.pk] = account


def _accounts_create(
    new: dict[str, dict[str, Any]],
    originals: dict[str, Record],
    modified: dict[str, int],
    ctx: SyncContext,
    journal: PageJournal,
    now: datetime,
) -> None:
    """Insert the page's new accounts with their sync state, first stage, timeline event
    and journal rows, one bulk statement each."""
    created = bulk.insert(Account, list(new.values()), returning=["id", "hubspot_id"])
    pks = {hid: pk for pk, hid in created}
    stage = Account._meta.get_field("stage").get_default()
    if ctx.rules:
        bulk.insert(
            SyncState,
            [
                inbound_compare.initial_state(
                    pks[hid], originals[hid], ctx.rules, modified_ms=modified[hid]
                )
                for hid in new
            ],
        )
    bulk.insert(
        StageChange,
        [
            {
                "account_id": pks[hid],
                "to_stage": new[hid].get("stage", stage),
                "reason": "Created from HubSpot",
                "changed_at": now,
            }
            for hid in new
        ],
    )
    bulk.insert(
        Event,
        [
            {
                "account_id": pks[hid],
                "kind": Event.Kind.HUBSPOT,
                "summary": f"Account created from HubSpot company {hid}",
                "occurred_at": now,
            }
            for hid in new
        ],
    )
    for hid, values in new.items():
        journal.created(
            pks[hid], values["name"], object_type="account", hubspot_id=hid, account_id=pks[hid]
        )


def _pulls_journal(
    pulls: Sequence[Any], journal: PageJournal, changed: dict[int, Account], now: datetime
) -> list[dict[str, Any]]:
    """Journal what the three-way comparison took from HubSpot (or set aside); the
    accounts it changed join `changed`. The stage changes to record, returned."""
    stage_changes = []
    for pull in pulls:
        account = pull.account
        journal.add(
            object_type="account",
            object_id=account.pk,
            hubspot_id=account.hubspot_id or "",
            account_id=account.pk,
            field=pull.attribute,
            old=pull.old,
            new=getattr(account, pull.attribute) if pull.applied else pull.new,
            note=pull.note,
        )
        if not pull.applied:
            continue
        if pull.attribute == "stage":
            stage_changes.append(
                {
                    "account_id": account.pk,
                    "from_stage": pull.old,
                    "to_stage": account.stage,
                    "reason": "Changed in HubSpot",
                    "changed_at": now,
                }
            )
        account.updated_at = now
        changed[account.pk] = account
    return stage_changes


def _name_candidates(
    new: Mapping[str, Mapping[str, Any]], ctx: SyncContext
) -> dict[str, list[dict[str, Any]]]:
    """{hubspot id: [{"id", "name"}]}: unlinked active accounts with a new company's
    name whose domains do not tell them apart (one query for the page)."""
    wanted = {hid: str(v["name"]).lower() for hid, v in new.items() if hid not in ctx.create_new}
    if not wanted:
        return {}
    rows = list(
        Account.objects.filter(hubspot_id__isnull=True, status=Account.Status.ACTIVE)
        .annotate(lname=Lower("name"))
        .filter(lname__in=set(wanted.values()))
        .values("pk", "name", "domain", "lname")
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for hid, name in wanted.items():
        domain = new[hid].get("domain") or ""
        matches = [
            {"id": r["pk"], "name": r["name"]}
            for r in rows
            if r["lname"] == name and not (domain and r["domain"])
        ]
        if matches:
            found[hid] = matches
    return found
