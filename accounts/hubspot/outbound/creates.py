"""Companies in HubSpot for accounts made in Lifecycle (by hand or from a CSV).

An account with no HubSpot company, once the first import has had its chance to link
it, is looked up by its normalised domain as HubSpot holds domains (in a URL form, or
among a company's additional domains: a company HubSpot already has is linked, through
the same writer inbound sync uses) and otherwise created with a batch upsert
on the unique `lifecycle_account_id`: a write retried after a crash finds the company
it made instead of making another, and inbound sync links a company carrying our id
to its account even if we never learnt the id HubSpot gave it. The company is created
with the account's name, domain and the fields Lifecycle pushes, which become the
agreed base. A record HubSpot refuses is quarantined with its message and retried
once the account changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.inbound.objects import properties_for
from accounts.hubspot.inbound.writers import SyncContext, companies_page_write
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncSource, SyncState
from accounts.hubspot.outbound import failures
from accounts.hubspot.rules import field_rules, mapping, sync_state, threeway
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.mapping import MappingConfig, Record
from accounts.hubspot.rules.sync_state import FieldSync, Written
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import Account

logger = logging.getLogger(__name__)
BATCH = 50  # accounts per round: two domain spellings each stay within IN's 100 values
SEARCH_GROUPS = 5  # filter groups HubSpot allows in one search


@dataclass
class Created:
    linked: int = 0
    created: int = 0
    failed: int = 0
    calls: int = 0


def issue_key(account: Account | int) -> str:
    """The sync issue of an account whose company could not be created."""
    return f"lifecycle-account:{account if isinstance(account, int) else account.pk}"


def enabled() -> bool:
    """On unless turned off, and only once a full import has linked what it could."""
    if not getattr(settings, "HUBSPOT_CREATE_COMPANIES", True):
        return False
    return SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT, status=SyncRun.Status.DONE).exists()


def unlinked_accounts() -> Any:
    """Active accounts with no HubSpot company, but for those quarantined and unchanged
    since."""
    quarantined = SyncIssue.objects.filter(
        object_type="companies",
        source=SyncSource.PUSH,
        resolved_at__isnull=True,
        hubspot_id__startswith="lifecycle-account:",
    ).values_list("hubspot_id", "last_seen_at")
    held = Q()
    for key, seen in quarantined:
        held |= Q(pk=int(key.rsplit(":", 1)[1]), updated_at__lte=seen)
    found = Account.objects.filter(hubspot_id__isnull=True, status=Account.Status.ACTIVE)
    if held:
        found = found.exclude(held)
    return found.order_by("pk")


def companies_create(client: HubSpotClient, *, rules: list[threeway.Rule] | None = None) -> Created:
    """Link or create the HubSpot company of every unlinked account."""
    outcome = Created()
    if not enabled():
        return outcome
    rules = rules if rules is not None else field_rules.rules_load()
    last_pk = 0
    while True:
        chunk = list(unlinked_accounts().filter(pk__gt=last_pk)[:BATCH])
        if not chunk:
            return outcome
        last_pk = chunk[-1].pk
        _chunk(client, chunk, rules, outcome)


def _chunk(
    client: HubSpotClient, accounts: list[Account], rules: list[threeway.Rule], outcome: Created
) -> None:
    """Link the accounts HubSpot already has a company for, create the others."""
    rest = _link_existing(client, accounts, outcome)
    if not rest:
        return
    # The company starts with the fields Lifecycle pushes and with the account's owner
    # (HubSpot then owns it by default, but a new company has no owner of its own).
    written = [r for r in rules if r.pushes or r.key == "owner"]
    upserted = _upsert(client, rest, written, outcome)
    if upserted is not None:
        _made_record(rest, written, *upserted, outcome)


def _link_existing(
    client: HubSpotClient, accounts: list[Account], outcome: Created
) -> list[Account]:
    """Companies HubSpot already has for these domains (as its `domain`, in any URL
    form, or among its `hs_additional_domains`) are linked by the inbound writer. The
    accounts left to create; none when the lookup failed (they are tried next pass)."""
    domains = sorted({a.domain for a in accounts if a.domain})
    if not domains:
        return accounts
    try:
        records = companies_with_domains(client, domains, outcome)
    except HubSpotError as exc:
        logger.warning("HubSpot domain lookup failed; companies are created later: %s", exc)
        return []
    if not records:
        return accounts
    companies_page_write(records, SyncContext(source=SyncSource.MATCH).load())
    linked = set(
        Account.objects.filter(
            pk__in=[a.pk for a in accounts], hubspot_id__isnull=False
        ).values_list("pk", flat=True)
    )
    outcome.linked += len(linked)
    accounts = [a for a in accounts if a.pk not in linked]
    # A company HubSpot has with the domain that could not be linked (its own sync
    # issue says why, or it is another account's): never created twice; the account
    # waits until it changes.
    holders = {d: str(r["id"]) for r in records for d in mapping.company_domains(r)}
    held = {str(a.pk): a for a in accounts if a.domain in holders}
    if held:
        _quarantine(
            {
                pk: f"HubSpot company {holders[a.domain]} has the domain {a.domain} but "
                "could not be linked to it (see that company's sync issue, or the "
                "account it is linked to)"
                for pk, a in held.items()
            },
            held,
            timezone.now(),
        )
        outcome.failed += len(held)
    return [a for a in accounts if str(a.pk) not in held]


def companies_with_domains(
    client: HubSpotClient, domains: Sequence[str], outcome: Created
) -> list[Record]:
    """HubSpot's companies with any of these (normalised) domains, as HubSpot matches
    them. Search compares `domain` exactly, so one group asks for the plain spellings
    of every domain, and each domain adds a token search on `domain` (a URL form such as
    `https://www.acme.com/about`) and on `hs_additional_domains` (semicolon-separated);
    five groups a search. What comes back is kept only if a domain matches once
    normalised (a token search also finds `notacme.com`)."""
    wanted = set(domains)
    groups: list[Record] = [
        {
            "filters": [
                {
                    "propertyName": "domain",
                    "operator": "IN",
                    "values": [*domains, *(f"www.{d}" for d in domains)],
                }
            ]
        }
    ]
    for domain in domains:
        for prop in ("domain", mapping.ADDITIONAL_DOMAINS):
            token = {"propertyName": prop, "operator": "CONTAINS_TOKEN", "value": f"*{domain}"}
            groups.append({"filters": [token]})
    found: dict[str, Record] = {}
    properties = properties_for("companies", MappingConfig())
    for start in range(0, len(groups), SEARCH_GROUPS):
        after: str | None = None
        while True:
            page = client.search_page(
                "companies",
                filter_groups=groups[start : start + SEARCH_GROUPS],
                properties=properties,
                after=after,
            )
            outcome.calls += 1
            for record in page.results:
                if wanted & set(mapping.company_domains(record)):
                    found[str(record["id"])] = record
            after = page.after
            if not after:
                break
    return list(found.values())


def _upsert(
    client: HubSpotClient, accounts: list[Account], pushed: list[threeway.Rule], outcome: Created
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Create the accounts' companies, upserted on our id: ({account pk: company id},
    {account pk: why HubSpot refused it}); None when HubSpot is down or busy."""
    inputs = []
    for one in accounts:
        properties = {fieldspecs.ACCOUNT_ID_PROPERTY: str(one.pk), "name": one.name}
        if one.domain:
            properties["domain"] = one.domain
        for rule in pushed:
            properties[rule.property] = field_rules.ours_value(rule, one)
        inputs.append({"id": str(one.pk), "properties": properties})
    outcome.calls += 1
    try:
        result = client.batch_upsert(
            "companies", inputs, id_property=fieldspecs.ACCOUNT_ID_PROPERTY
        )
    except HubSpotError as exc:
        if not failures.from_error(exc).refused:
            # HubSpot is down or busy: nothing is wrong with these accounts, so nothing
            # is quarantined; they are still unlinked, and the next pass makes them.
            logger.warning("HubSpot companies not created yet, tried again later: %s", exc)
            outcome.failed += len(accounts)
            return None
        return {}, {str(a.pk): exc.message or str(exc) for a in accounts}
    made = {
        str((row.get("properties") or {}).get(fieldspecs.ACCOUNT_ID_PROPERTY, "")): str(row["id"])
        for row in result.results
    }
    errors = {
        str(pk): str(error.get("message", ""))
        for error in result.errors
        for pk in (error.get("context") or {}).get("ids") or []
    }
    return made, errors


@transaction.atomic
def _made_record(
    accounts: list[Account],
    pushed: list[threeway.Rule],
    made: dict[str, str],
    errors: dict[str, str],
    outcome: Created,
) -> None:
    """Link each account to the company made for it, with the agreed base and a journal
    row; quarantine what HubSpot refused (or a company another account already has)."""
    now = timezone.now()
    by_pk = {str(a.pk): a for a in accounts}
    states, journal = [], []
    holders = dict(
        Account.objects.filter(hubspot_id__in=list(made.values())).values_list("hubspot_id", "name")
    )
    for pk, hid in made.items():
        account = by_pk.get(pk)
        if account is None:
            continue
        if hid in holders:
            errors[pk] = f"HubSpot company {hid} is already linked to account {holders[hid]}"
            continue
        Account.objects.filter(pk=account.pk, hubspot_id__isnull=True).update(hubspot_id=hid)
        account.hubspot_id = hid
        states.append(_agreed_state(account, pushed, now))
        journal.append(_created_row(account, hid, now))
        outcome.created += 1
    if states:
        bulk.upsert(SyncState, states, unique=["account"], update=sync_state.STATE_FIELDS)
    SyncChange.objects.bulk_create(journal)
    SyncIssue.objects.filter(
        object_type="companies",
        hubspot_id__in=[issue_key(int(pk)) for pk in made if pk not in errors],
        resolved_at__isnull=True,
    ).update(resolved_at=now)
    if errors:
        _quarantine(errors, by_pk, now)
        outcome.failed += len(errors)


def _created_row(account: Account, hid: str, now: Any) -> SyncChange:
    return SyncChange(
        account_id=account.pk,
        object_type="account",
        object_id=account.pk,
        hubspot_id=hid,
        field="created in HubSpot",
        old_value="",
        new_value=account.name,
        source=SyncSource.PUSH,
        at=now,
    )


def _quarantine(errors: dict[str, str], by_pk: dict[str, Account], now: Any) -> None:
    """Sync issues for accounts whose company could not be made ({pk: message})."""
    SyncIssue.objects.bulk_create(
        [
            SyncIssue(
                object_type="companies",
                hubspot_id=issue_key(int(pk)),
                reason=f"Creating the HubSpot company of {by_pk[pk].name} failed: {message}"[:500],
                payload={"account": int(pk)},
                source=SyncSource.PUSH,
                first_seen_at=now,
                last_seen_at=now,
            )
            for pk, message in errors.items()
            if pk in by_pk
        ],
        update_conflicts=True,
        unique_fields=["object_type", "hubspot_id"],
        update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
    )


def _agreed_state(account: Account, rules: list[threeway.Rule], now: Any) -> dict[str, Any]:
    """What both sides hold once the company is made: what we wrote."""
    ms = field_rules.epoch_ms(now)
    fields: dict[str, FieldSync] = {}
    for r in rules:
        value = field_rules.ours_value(r, account)
        fields[r.key] = FieldSync(
            prop=r.property,
            base=value,
            base_ms=ms,
            remote=value,
            written=Written(value, ms, 0, field_rules.ours_ms(r, account)),
        )
    fields[sync_state.ID_KEY] = FieldSync(
        prop=sync_state.ID_KEY,
        base=str(account.pk),
        base_ms=ms,
        written=Written(str(account.pk), ms),
    )
    return {
        "account_id": account.pk,
        "fields": fields,
        "remote_ms": 0,
        "pushed_at": now,
        "push_failures": 0,
        "checked_at": now - field_rules.CHECK_MARGIN,
    }
