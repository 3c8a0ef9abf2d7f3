"""Pure functions between HubSpot records and our fields. No database, no HTTP.

A record that cannot be mapped raises `Unmappable` with a reason a person can act on;
the engine quarantines it (`SyncIssue`) instead of dropping it. Enumerations are
matched by internal value (`closedwon`, an owner id), never by label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.models import normalise_domain

Record = dict[str, Any]

OWNER_PROPERTY = "hubspot_owner_id"
ADDITIONAL_DOMAINS = "hs_additional_domains"
COMPANY_PROPERTIES = ("name", "domain", ADDITIONAL_DOMAINS, OWNER_PROPERTY, "annualrevenue")
DEAL_PROPERTIES = ("dealname", "amount", "closedate", "pipeline", "dealstage")
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "jobtitle")
MODIFIED_PROPERTY = {
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    # Tickets, feedback submissions and engagements (rules/support_mapping.py).
    **{
        t: "hs_lastmodifieddate"
        for t in (
            "tickets",
            "feedback_submissions",
            "notes",
            "calls",
            "meetings",
            "emails",
            "tasks",
        )
    },
}
WON_DEALS = "won_deals"


class Unmappable(Exception):
    """A HubSpot record we cannot turn into ours; `reason` says what to fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MappingConfig:
    """What the admin can configure. `arr_source` is a company property name, or
    `won_deals` for the sum of the account's deals in won stages."""

    arr_source: str = "annualrevenue"

    @property
    def arr_property(self) -> str | None:
        return None if self.arr_source == WON_DEALS else self.arr_source

    def company_properties(self) -> list[str]:
        extra = [self.arr_property] if self.arr_property else []
        return list(dict.fromkeys([*COMPANY_PROPERTIES, *extra]))


@dataclass(frozen=True)
class StageRef:
    pipeline_pk: int
    stage_pk: int
    is_won: bool


@dataclass(frozen=True)
class OwnerRef:
    email: str
    user_pk: int | None


def prop(record: Record, name: str) -> str:
    """A property as a stripped string; HubSpot sends empty values as "" or not at all."""
    value = (record.get("properties") or {}).get(name)
    return "" if value is None else str(value).strip()


def parse_decimal(value: str, *, field: str) -> Decimal:
    """HubSpot numbers are strings; "" clears the value (0 for amounts)."""
    if value == "":
        return Decimal("0")
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise Unmappable(f"{field} is not a number: {value!r}") from None
    if not number.is_finite():
        raise Unmappable(f"{field} is not a number: {value!r}")
    return number.quantize(Decimal("0.01"))


def parse_date(value: str, *, field: str) -> date | None:
    """A HubSpot date: epoch milliseconds, an ISO datetime (UTC) or an ISO date."""
    if value == "":
        return None
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC).date()
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise Unmappable(f"{field} is not a date: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


def parse_ms(value: str) -> int:
    """hs_lastmodifieddate as epoch ms (0 when absent or unreadable)."""
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def owner_problem(owner_id: str, owners: Mapping[str, OwnerRef]) -> str:
    """Why a HubSpot owner id names no Lifecycle user ("" when it does, or is empty)."""
    if not owner_id:
        return ""
    ref = owners.get(owner_id)
    if ref is None:
        return f"unknown HubSpot owner {owner_id}"
    if ref.user_pk is None:
        return f"HubSpot owner {owner_id} ({ref.email or 'no email'}) is not mapped to a user"
    return ""


def owner_user(owner_id: str, owners: Mapping[str, OwnerRef]) -> int | None:
    """The Lifecycle user behind a HubSpot owner id; None for no owner, and for an owner
    Lifecycle cannot name (`owner_problem` says why): the account is left without an
    owner, never held back, and the owner is reported on its own."""
    if owner_problem(owner_id, owners):
        return None
    return owners[owner_id].user_pk if owner_id else None


def company_domains(record: Record) -> list[str]:
    """Every domain of a company as HubSpot matches them, normalised: its `domain`
    first, then `hs_additional_domains` (semicolon-separated)."""
    extra = re.split(r"[;,\s]+", prop(record, ADDITIONAL_DOMAINS))
    found = (normalise_domain(d) for d in [prop(record, "domain"), *extra])
    return list(dict.fromkeys(d for d in found if d))


def company_fields(
    record: Record, *, config: MappingConfig, owners: Mapping[str, OwnerRef]
) -> dict[str, Any]:
    """Account fields from a company: name, domain, owner and (from a property) ARR."""
    name = prop(record, "name")
    if not name:
        raise Unmappable("the company has no name")
    fields: dict[str, Any] = {
        "name": name[:200],
        "domain": normalise_domain(prop(record, "domain"))[:253],
        "owner_id": owner_user(prop(record, OWNER_PROPERTY), owners),
    }
    if config.arr_property:
        arr = parse_decimal(prop(record, config.arr_property), field=config.arr_property)
        if arr < 0:
            raise Unmappable(f"{config.arr_property} is negative: {arr}")
        fields["arr"] = arr
    return fields


# v4 association type ids of a deal's, a contact's or a ticket's primary company
# (deal->company 5, contact->company 1, ticket->company 26; their unlabeled links are 341,
# 279 and 339). v3 type names cannot tell: live portals call the primary
# `deal_to_company` and the plain link `deal_to_company_unlabeled`.
PRIMARY_TYPE_IDS = frozenset({1, 5, 26})


def associated_ids(record: Record, to_type: str) -> list[str]:
    """Associated ids of one type, primary associations first. Rows carry the v4
    `typeIds` of the link (as the engine reads them from associations v4)."""
    rows = ((record.get("associations") or {}).get(to_type) or {}).get("results") or []
    primary = [str(r["id"]) for r in rows if PRIMARY_TYPE_IDS & set(r.get("typeIds") or ())]
    others = [str(r["id"]) for r in rows if str(r["id"]) not in primary]
    return list(dict.fromkeys([*primary, *others]))


def deal_fields(
    record: Record,
    *,
    stages: Mapping[tuple[str, str], StageRef],
    accounts: Mapping[str, int],
) -> dict[str, Any]:
    """Deal fields: name, amount, close date, pipeline and stage (by internal ids), and
    the account of its (primary) associated company."""
    name = prop(record, "dealname")
    if not name:
        raise Unmappable("the deal has no name")
    pipeline, stage_id = prop(record, "pipeline"), prop(record, "dealstage")
    stage = stages.get((pipeline, stage_id))
    if stage is None:
        raise Unmappable(f"unknown stage {stage_id!r} in pipeline {pipeline!r}")
    companies = associated_ids(record, "companies")
    account = next((accounts[c] for c in companies if c in accounts), None)
    if account is None:
        reason = (
            f"its company {companies[0]} is not synced"
            if companies
            else "the deal has no associated company"
        )
        raise Unmappable(reason)
    return {
        "name": name[:200],
        "amount": parse_decimal(prop(record, "amount"), field="amount"),
        "close_date": parse_date(prop(record, "closedate"), field="closedate"),
        "pipeline_id": stage.pipeline_pk,
        "stage_id": stage.stage_pk,
        "account_id": account,
    }


def contact_fields(record: Record, *, accounts: Mapping[str, int]) -> dict[str, Any] | None:
    """Contact fields, or None when no associated company is synced (out of scope)."""
    account = next(
        (accounts[c] for c in associated_ids(record, "companies") if c in accounts), None
    )
    if account is None:
        return None
    email = prop(record, "email")
    name = " ".join(p for p in (prop(record, "firstname"), prop(record, "lastname")) if p)
    if not (name or email):
        raise Unmappable("the contact has neither a name nor an email")
    if email and "@" not in email:
        raise Unmappable(f"email is not valid: {email!r}")
    return {
        "name": (name or email)[:200],
        "email": email[:254],
        "title": prop(record, "jobtitle")[:200],
        "account_id": account,
    }


def stage_is_won(stage: Record) -> bool:
    """HubSpot has no won flag: a closed stage with probability 1 is a won stage."""
    meta = stage.get("metadata") or {}
    closed = str(meta.get("isClosed", "false")).lower() == "true"
    try:
        probability = Decimal(str(meta.get("probability", "0")))
    except InvalidOperation:
        probability = Decimal("0")
    return closed and probability >= 1


def stage_fields(stage: Record) -> dict[str, Any]:
    meta = stage.get("metadata") or {}
    try:
        probability = Decimal(str(meta.get("probability", "0"))).quantize(Decimal("0.01"))
    except InvalidOperation:
        probability = Decimal("0")
    return {
        "label": str(stage.get("label", ""))[:200],
        "display_order": max(int(stage.get("displayOrder") or 0), 0),
        "is_closed": str(meta.get("isClosed", "false")).lower() == "true",
        "is_won": stage_is_won(stage),
        "probability": min(max(probability, Decimal("0")), Decimal("1")),
    }


def display(value: Any) -> str:
    """A field value as the journal stores it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def mapping_config() -> MappingConfig:
    """The configured mapping (settings.HUBSPOT_ARR_SOURCE: a company property, or
    `won_deals` for the sum of won deals)."""
    from django.conf import settings

    return MappingConfig(arr_source=getattr(settings, "HUBSPOT_ARR_SOURCE", "annualrevenue"))
