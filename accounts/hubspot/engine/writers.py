"""Write one page of HubSpot records into our tables with a fixed number of queries.

Each `*_page_write` reads the page's local twins in one query, then writes new rows,
changed rows, journal rows and quarantine rows in one bulk statement each, inside one
transaction (the caller's, with the cursor). Never a query per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import bulk
from accounts.models import (
    Account,
    Contact,
    Deal,
    Event,
    OwnerLink,
    Pipeline,
    PipelineStage,
    StageChange,
)

from .. import fields as fieldspecs
from .. import mapping
from ..mapping import MappingConfig, OwnerRef, Record, StageRef, Unmappable
from ..models import SyncChange, SyncIssue, SyncRun, SyncState
from . import twoway

ACCOUNT_FIELDS = ("name", "domain", "owner_id", "arr")
# archived_at: a record HubSpot sends is not deleted there, so a restore un-archives it.
DEAL_FIELDS = (
    "name",
    "amount",
    "close_date",
    "pipeline_id",
    "stage_id",
    "account_id",
    "archived_at",
)
CONTACT_FIELDS = ("name", "email", "title", "account_id", "archived_at")


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: int = 0

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.quarantined + self.skipped

    def add(self, other: PageResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.skipped += other.skipped


@dataclass
class SyncContext:
    """What a run writes with: its source, its mapping and the lookups every page needs
    (owners, stages), loaded once per run with `load()`."""

    source: str
    run: SyncRun | None = None
    config: MappingConfig = field(default_factory=MappingConfig)
    # HubSpot's changeSource per record id, when a webhook told us.
    change_sources: dict[str, str] = field(default_factory=dict)
    # Company property values webhook events carried: {id: [(name, value, ms)]}.
    event_values: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    owners: dict[str, OwnerRef] = field(default_factory=dict)
    stages: dict[tuple[str, str], StageRef] = field(default_factory=dict)
    renewal_pipelines: set[int] = field(default_factory=set)
    rules: list[twoway.Rule] = field(default_factory=list)
    # Companies a person chose to import as new accounts despite a same-name account.
    create_new: set[str] = field(default_factory=set)

    def load(self) -> SyncContext:
        self.rules = twoway.rules_load(self.config)
        self.owners = {
            link.hubspot_owner_id: OwnerRef(email=link.email, user_pk=link.user_id)
            for link in OwnerLink.objects.all()
        }
        self.stages = {
            (s.pipeline.hubspot_id or "", s.hubspot_id or ""): StageRef(
                pipeline_pk=s.pipeline_id, stage_pk=s.pk, is_won=s.is_won
            )
            for s in PipelineStage.objects.select_related("pipeline").filter(
                hubspot_id__isnull=False, pipeline__hubspot_id__isnull=False
            )
        }
        self.renewal_pipelines = set(
            Pipeline.objects.filter(is_renewal=True).values_list("pk", flat=True)
        )
        return self


@dataclass
class _Journal:
    ctx: SyncContext
    at: datetime = field(default_factory=timezone.now)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        *,
        object_type: str,
        object_id: int,
        hubspot_id: str,
        account_id: int | None,
        field: str,
        old: Any,
        new: Any,
        note: str = "",
    ) -> None:
        self.rows.append(
            {
                "account_id": account_id,
                "object_type": object_type,
                "object_id": object_id,
                "hubspot_id": hubspot_id,
                "field": field,
                "old_value": mapping.display(old),
                "new_value": mapping.display(new),
                "source": self.ctx.source,
                "change_source": self.ctx.change_sources.get(hubspot_id, "")[:40],
                "run_id": self.ctx.run.pk if self.ctx.run else None,
                "note": note[:100],
                "at": self.at,
            }
        )

    def apply(
        self,
        obj: Any,
        *,
        object_type: str,
        hubspot_id: str,
        account_id: int | None,
        old: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> None:
        """Set each changed field on `obj` and journal its old and new value."""
        for name, previous in old.items():
            setattr(obj, name, values[name])
            self.add(
                object_type=object_type,
                object_id=obj.pk,
                hubspot_id=hubspot_id,
                account_id=account_id,
                field=name,
                old=previous,
                new=values[name],
            )

    def created(
        self, pk: int, name: str, *, object_type: str, hubspot_id: str, account_id: int | None
    ) -> None:
        """Journal a record created from HubSpot (once the insert gave it a pk)."""
        self.add(
            object_type=object_type,
            object_id=pk,
            hubspot_id=hubspot_id,
            account_id=account_id,
            field="created",
            old="",
            new=name,
        )

    def changed_fields(self) -> list[str]:
        """The fields this page changed, for bulk_update."""
        return sorted({c["field"] for c in self.rows if c["field"] != "created"})

    def save(self) -> None:
        bulk.insert(SyncChange, self.rows)


def _issues_save(
    ctx: SyncContext,
    object_type: str,
    failed: Mapping[str, tuple[str, Record]],
    ok: Iterable[str],
    candidates: Mapping[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Quarantine what failed (one upsert) and resolve what now maps (one update)."""
    now = timezone.now()
    candidates = candidates or {}
    if failed:
        SyncIssue.objects.bulk_create(
            [
                SyncIssue(
                    object_type=object_type,
                    hubspot_id=hid,
                    reason=reason[:500],
                    payload=record,
                    candidates=candidates.get(hid, []),
                    source=ctx.source,
                    first_seen_at=now,
                    last_seen_at=now,
                    resolved_at=None,
                )
                for hid, (reason, record) in failed.items()
            ],
            update_conflicts=True,
            unique_fields=["object_type", "hubspot_id"],
            update_fields=[
                "reason",
                "payload",
                "candidates",
                "source",
                "last_seen_at",
                "resolved_at",
            ],
        )
    ok = list(ok)
    if ok:
        SyncIssue.objects.filter(
            object_type=object_type, hubspot_id__in=ok, resolved_at__isnull=True
        ).update(resolved_at=now)


def _diff(obj: Any, values: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """{field: old value} for each mapped field whose value changes."""
    return {f: getattr(obj, f) for f in fields if f in values and getattr(obj, f) != values[f]}


def companies_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert companies as Accounts: matched by hubspot_id, then by normalised domain;
    a domain another linked account already holds is quarantined, never duplicated."""
    result = PageResult()
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            mapped[hid] = mapping.company_fields(record, config=ctx.config, owners=ctx.owners)
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
    domains = {v["domain"] for v in mapped.values() if v["domain"]}
    # A company Lifecycle made carries our id: it links to its account even if we never
    # learnt the id HubSpot gave it (a crash between HubSpot's answer and our commit).
    ours_ids: dict[str, int] = {}
    for record in records:
        raw = str(mapping.prop(record, fieldspecs.ACCOUNT_ID_PROPERTY) or "")
        if raw.isdigit() and str(record["id"]) in mapped:
            ours_ids[str(record["id"])] = int(raw)
    existing = list(
        Account.objects.filter(
            Q(hubspot_id__in=list(mapped))
            | Q(domain__in=domains)
            | Q(pk__in=list(ours_ids.values()), hubspot_id__isnull=True)
        ).only(
            "pk",
            "hubspot_id",
            "status",
            "updated_at",
            "field_changed_at",
            *[f.removesuffix("_id") for f in ACCOUNT_FIELDS],
            *[r.spec.attribute for r in ctx.rules],
        )
    )
    # Fields HubSpot does not own alone are compared three ways (twoway.py), not copied.
    compared = {r.spec.attribute for r in ctx.rules if r.owner != fieldspecs.HUBSPOT}
    pairs: list[tuple[Account, Record]] = []
    originals = {str(r["id"]): r for r in records}
    by_hid = {a.hubspot_id: a for a in existing if a.hubspot_id}
    by_domain = {a.domain: a for a in existing if a.domain}
    unlinked = {a.pk: a for a in existing if not a.hubspot_id}
    journal = _Journal(ctx)
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed: dict[int, Account] = {}
    claimed: set[str] = set()
    for hid, values in mapped.items():
        account = by_hid.get(hid) or unlinked.get(ours_ids.get(hid, 0))
        twin = by_domain.get(values["domain"]) if values["domain"] else None
        if account is None and twin is not None and twin.hubspot_id in (None, ""):
            account = twin  # a CSV-imported or hand-made account: link it, do not duplicate
        if twin is not None and account is not None and twin.pk != account.pk:
            failed[hid] = (f"domain {values['domain']} belongs to account {twin.name}", {})
            continue
        if account is None and twin is not None:
            failed[hid] = (
                f"domain {values['domain']} is already linked to HubSpot company "
                f"{twin.hubspot_id} ({twin.name})",
                {},
            )
            continue
        if values["domain"] and values["domain"] in claimed:
            failed[hid] = (f"domain {values['domain']} appears twice in one page", {})
            continue
        if values["domain"]:
            claimed.add(values["domain"])
        if account is None:
            new[hid] = {
                **values,
                **twoway.pulled_values(originals[hid], ctx.rules),
                "hubspot_id": hid,
                "created_at": now,
                "updated_at": now,
            }
            continue
        pairs.append((account, originals[hid]))
        copied = {k: v for k, v in values.items() if k not in compared}
        old = _diff(account, copied, ACCOUNT_FIELDS)
        if account.hubspot_id != hid:
            old["hubspot_id"] = account.hubspot_id
            values = {**values, "hubspot_id": hid}
        if not old:
            result.unchanged += 1
            continue
        journal.apply(
            account,
            object_type="account",
            hubspot_id=hid,
            account_id=account.pk,
            old=old,
            values=values,
        )
        account.updated_at = now
        changed[account.pk] = account
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
    with transaction.atomic():
        if new:
            created = bulk.insert(Account, list(new.values()), returning=["id", "hubspot_id"])
            pks = {hid: pk for pk, hid in created}
            stage = Account._meta.get_field("stage").get_default()
            if ctx.rules:
                bulk.insert(
                    SyncState,
                    [
                        twoway.initial_state(
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
                    pks[hid],
                    values["name"],
                    object_type="account",
                    hubspot_id=hid,
                    account_id=pks[hid],
                )
        _, unreadable, pulls = twoway.inbound_compare(
            pairs, ctx.rules, modified_ms=modified, event_values=ctx.event_values
        )
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
        bulk.insert(StageChange, stage_changes)
        for hid, reason in unreadable.items():
            failed.setdefault(hid, (reason, originals[hid]))
        if changed:
            Account.objects.bulk_update(
                list(changed.values()), [*journal.changed_fields(), "updated_at"]
            )
        journal.save()
        _issues_save(ctx, "companies", failed, mapped.keys() - failed.keys(), candidates)
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


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


def _accounts_for(records: Sequence[Record]) -> dict[str, int]:
    """Local account pks of every company the records are associated with (one query)."""
    ids = {c for r in records for c in mapping.associated_ids(r, "companies")}
    if not ids:
        return {}
    rows = Account.objects.filter(hubspot_id__in=ids).values_list("hubspot_id", "pk")
    return {str(h): pk for h, pk in rows}


def _lifecycle_deals_link(
    records: Sequence[Record], result: PageResult
) -> tuple[list[Record], set[str]]:
    """Deals Lifecycle made come back from HubSpot carrying `lifecycle_deal_id`: linked
    (their id noted, if a crash kept us from noting it at push time), never duplicated.
    HubSpot's edits to them (a rep closing the renewal) are applied like any deal's
    when our copy is as we last pushed it; when ours changed too, ours is pushed over
    them. Returns the records to write, and the ids of our deals among them, whose
    pushed fingerprint must follow what HubSpot now holds."""
    from ..fields import DEAL_ID_PROPERTY

    ours = {
        str(r["id"]): mapping.prop(r, DEAL_ID_PROPERTY)
        for r in records
        if mapping.prop(r, DEAL_ID_PROPERTY).isdigit()
    }
    if not ours:
        return list(records), set()
    deals = {
        str(d.pk): d
        for d in Deal.objects.filter(
            pk__in=[int(v) for v in ours.values()], created_in_lifecycle=True
        ).select_related("pipeline", "stage")
    }
    follow: set[str] = set()
    for hid, pk in ours.items():
        deal = deals.get(pk)
        if deal is None:
            continue
        if deal.hubspot_id != hid:
            Deal.objects.filter(pk=deal.pk).update(hubspot_id=hid)
            continue  # not yet confirmed pushed: the push pass upserts ours
        if deal.hubspot_pushed_hash and _pushed_as_is(deal):
            follow.add(hid)
    result.skipped += sum(1 for hid, pk in ours.items() if pk in deals and hid not in follow)
    return [r for r in records if ours.get(str(r["id"])) not in deals or r["id"] in follow], follow


def _pushed_as_is(deal: Deal) -> bool:
    """Our deal holds what we last wrote to HubSpot (no edit of ours waits to go)."""
    try:
        return twoway.deal_fingerprint(deal) == deal.hubspot_pushed_hash
    except ValueError:
        return False


def _fingerprints_follow(hids: set[str]) -> None:
    """Our deals that took HubSpot's edits: what HubSpot holds is now what we hold, so
    the push pass has nothing to send back."""
    now = timezone.now()
    for deal in Deal.objects.filter(hubspot_id__in=list(hids)).select_related("pipeline", "stage"):
        Deal.objects.filter(pk=deal.pk).update(
            hubspot_pushed_hash=twoway.deal_fingerprint(deal),
            hubspot_pushed_at=max(now, deal.updated_at),
        )


def deals_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert deals by hubspot_id; stage by internal pipeline and stage ids; account by
    the (primary) associated company. Recomputes ARR when it is the sum of won deals."""
    result = PageResult()
    records, follow = _lifecycle_deals_link(records, result)
    accounts = _accounts_for(records)
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            mapped[hid] = {
                **mapping.deal_fields(record, stages=ctx.stages, accounts=accounts),
                "archived_at": None,
            }
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
    existing = {
        d.hubspot_id: d
        for d in Deal.objects.filter(hubspot_id__in=list(mapped)).only(
            "pk", "hubspot_id", *DEAL_FIELDS
        )
    }
    renewal_pipelines = ctx.renewal_pipelines
    journal = _Journal(ctx)
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed: list[Deal] = []
    touched_accounts: set[int] = set()
    for hid, values in mapped.items():
        deal = existing.get(hid)
        if deal is None:
            kind = (
                Deal.Kind.RENEWAL if values["pipeline_id"] in renewal_pipelines else Deal.Kind.NEW
            )
            new[hid] = {
                **values,
                "hubspot_id": hid,
                "kind": kind,
                "created_at": now,
                "updated_at": now,
            }
            touched_accounts.add(values["account_id"])
            continue
        old = _diff(deal, values, DEAL_FIELDS)
        if not old:
            result.unchanged += 1
            continue
        touched_accounts |= {deal.account_id, values["account_id"]}
        journal.apply(
            deal,
            object_type="deal",
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        deal.updated_at = now
        changed.append(deal)
    with transaction.atomic():
        if new:
            for pk, hid in bulk.insert(Deal, list(new.values()), returning=["id", "hubspot_id"]):
                journal.created(
                    pk,
                    new[hid]["name"],
                    object_type="deal",
                    hubspot_id=hid,
                    account_id=new[hid]["account_id"],
                )
        if changed:
            Deal.objects.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
            followed = follow & {d.hubspot_id for d in changed if d.hubspot_id}
            if followed:
                _fingerprints_follow(followed)
        if ctx.config.arr_source == mapping.WON_DEALS and touched_accounts:
            arr_from_won_deals(touched_accounts, journal)
        journal.save()
        _issues_save(ctx, "deals", failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


def arr_from_won_deals(account_pks: Iterable[int], journal: _Journal) -> None:
    """ARR = the sum of each account's deals in won stages (two queries)."""
    accounts = list(
        Account.objects.filter(pk__in=list(account_pks))
        .annotate(
            won=Sum(
                "deals__amount",
                filter=Q(deals__stage__is_won=True, deals__archived_at__isnull=True),
            )
        )
        .only("pk", "arr", "hubspot_id")
    )
    changed = []
    for account in accounts:
        won = (account.won or Decimal("0")).quantize(Decimal("0.01"))
        if account.arr != won:
            journal.add(
                object_type="account",
                object_id=account.pk,
                hubspot_id=account.hubspot_id or "",
                account_id=account.pk,
                field="arr",
                old=account.arr,
                new=won,
            )
            account.arr = won
            account.updated_at = timezone.now()
            changed.append(account)
    if changed:
        Account.objects.bulk_update(changed, ["arr", "updated_at"])


def contacts_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert contacts of synced companies; contacts of companies we do not sync are
    counted as skipped."""
    result = PageResult()
    accounts = _accounts_for(records)
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            values = mapping.contact_fields(record, accounts=accounts)
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
            continue
        if values is None:
            result.skipped += 1
        else:
            mapped[hid] = {**values, "archived_at": None}
    existing = {
        c.hubspot_id: c
        for c in Contact.objects.filter(hubspot_id__in=list(mapped)).only(
            "pk", "hubspot_id", *CONTACT_FIELDS
        )
    }
    journal = _Journal(ctx)
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed: list[Contact] = []
    for hid, values in mapped.items():
        contact = existing.get(hid)
        if contact is None:
            new[hid] = {**values, "hubspot_id": hid, "created_at": now, "updated_at": now}
            continue
        old = _diff(contact, values, CONTACT_FIELDS)
        if not old:
            result.unchanged += 1
            continue
        journal.apply(
            contact,
            object_type="contact",
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        contact.updated_at = now
        changed.append(contact)
    with transaction.atomic():
        if new:
            inserted = bulk.insert(Contact, list(new.values()), returning=["id", "hubspot_id"])
            for pk, hid in inserted:
                journal.created(
                    pk,
                    new[hid]["name"],
                    object_type="contact",
                    hubspot_id=hid,
                    account_id=new[hid]["account_id"],
                )
        if changed:
            Contact.objects.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
        journal.save()
        _issues_save(ctx, "contacts", failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


PAGE_WRITERS = {
    "companies": companies_page_write,
    "deals": deals_page_write,
    "contacts": contacts_page_write,
}


def records_archive(object_type: str, hubspot_ids: Sequence[str], ctx: SyncContext) -> int:
    """A HubSpot deletion archives the local account (never deletes it or its CS data).
    Deals and contacts are archived: out of lists and ARR, kept for the CS data that
    names them, and back when HubSpot restores them."""
    ids = [str(i) for i in hubspot_ids]
    if not ids:
        return 0
    journal = _Journal(ctx)
    if object_type == "companies":
        accounts = list(
            Account.objects.filter(hubspot_id__in=ids)
            .exclude(status=Account.Status.ARCHIVED)
            .only("pk", "hubspot_id", "status")
        )
        for account in accounts:
            journal.add(
                object_type="account",
                object_id=account.pk,
                hubspot_id=account.hubspot_id or "",
                account_id=account.pk,
                field="status",
                old=account.status,
                new=Account.Status.ARCHIVED,
            )
        with transaction.atomic():
            Account.objects.filter(pk__in=[a.pk for a in accounts]).update(
                status=Account.Status.ARCHIVED, updated_at=timezone.now()
            )
            journal.save()
        return len(accounts)
    model: type[Deal] | type[Contact] = Deal if object_type == "deals" else Contact
    rows = list(
        model.objects.filter(hubspot_id__in=ids, archived_at__isnull=True).values_list(
            "pk", "hubspot_id", "account_id"
        )
    )
    for pk, hid, account_id in rows:
        journal.add(
            object_type=object_type.removesuffix("s"),
            object_id=pk,
            hubspot_id=hid or "",
            account_id=account_id,
            field="archived",
            old="",
            new="deleted in HubSpot",
        )
    with transaction.atomic():
        model.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            archived_at=timezone.now(), updated_at=timezone.now()
        )
        touched = {account_id for _, _, account_id in rows}
        if object_type == "deals" and ctx.config.arr_source == mapping.WON_DEALS and touched:
            arr_from_won_deals(touched, journal)
        journal.save()
    return len(rows)


def account_restore(hubspot_id: str, ctx: SyncContext) -> bool:
    """A restored HubSpot company makes its archived account active again."""
    account = Account.objects.filter(hubspot_id=hubspot_id, status=Account.Status.ARCHIVED).first()
    if account is None:
        return False
    journal = _Journal(ctx)
    journal.add(
        object_type="account",
        object_id=account.pk,
        hubspot_id=hubspot_id,
        account_id=account.pk,
        field="status",
        old=account.status,
        new=Account.Status.ACTIVE,
    )
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            status=Account.Status.ACTIVE, updated_at=timezone.now()
        )
        journal.save()
    return True


def record_merge(
    object_type: str, *, survivor_id: str, merged_ids: Sequence[str], ctx: SyncContext
) -> None:
    """HubSpot merged records: point our record at the survivor's id and keep our data.

    When we hold several of the merged records, the one already linked to the survivor
    (else the first we find) keeps the link; the others move their deals and contacts
    to it, are unlinked and (accounts) archived, so no CS data is lost or duplicated."""
    ids = list(dict.fromkeys([survivor_id, *merged_ids]))
    model: Any = {"companies": Account, "deals": Deal, "contacts": Contact}[object_type]
    label = object_type.removesuffix("s").replace("companie", "account")
    rows = sorted(model.objects.filter(hubspot_id__in=ids), key=lambda r: ids.index(r.hubspot_id))
    if not rows:
        return
    keeper, others = rows[0], rows[1:]
    journal = _Journal(ctx)

    def account_of(row: Any) -> int | None:
        return row.pk if object_type == "companies" else row.account_id

    with transaction.atomic():
        for row in others:
            journal.add(
                object_type=label,
                object_id=row.pk,
                hubspot_id=row.hubspot_id,
                account_id=account_of(row),
                field="merged_into",
                old=row.hubspot_id,
                new=f"{survivor_id} (ours: #{keeper.pk})",
            )
            if object_type == "companies":
                Deal.objects.filter(account=row).update(account=keeper)
                Contact.objects.filter(account=row).update(account=keeper)
                model.objects.filter(pk=row.pk).update(
                    hubspot_id=None, status=Account.Status.ARCHIVED
                )
            else:
                model.objects.filter(pk=row.pk).update(hubspot_id=None)
        if keeper.hubspot_id != survivor_id:
            journal.add(
                object_type=label,
                object_id=keeper.pk,
                hubspot_id=survivor_id,
                account_id=account_of(keeper),
                field="hubspot_id",
                old=keeper.hubspot_id,
                new=survivor_id,
            )
            model.objects.filter(pk=keeper.pk).update(hubspot_id=survivor_id)
        journal.save()
