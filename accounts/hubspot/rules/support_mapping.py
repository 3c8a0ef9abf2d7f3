"""Pure functions from HubSpot tickets, feedback submissions and engagements to the
fields of `accounts.support` rows. No database, no HTTP.

Scope: a record is ours when it is associated with a company we sync, or else with a
contact we hold (the contact's account); other records are out of scope (skipped, as
contacts of unsynced companies are), never quarantined: a support desk serves prospects
and people we do not track too. What we cannot read (no subject, an unknown ticket
stage, a date or a score that is not one) is `Unmappable` and quarantined.

Owners: support agents are often not Lifecycle users, so an owner we cannot map leaves
the row without one instead of quarantining it (companies are stricter: their owner is
the CSM).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.html import strip_tags

from accounts.hubspot.rules.mapping import (
    OwnerRef,
    Record,
    Unmappable,
    associated_ids,
    parse_decimal,
    prop,
)

ENGAGEMENT_TYPES = ("notes", "calls", "meetings", "emails", "tasks")
SUPPORT_TYPES = ("tickets", "feedback_submissions", *ENGAGEMENT_TYPES)
ENGAGEMENT_KIND = {
    "notes": "note",
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
    "tasks": "task",
}
TICKET_PROPERTIES = (
    "subject",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_ticket_priority",
    "hs_ticket_category",
    "source_type",
    "createdate",
    "closed_date",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
)
FEEDBACK_PROPERTIES = (
    "hs_survey_type",
    "hs_survey_name",
    "hs_survey_id",
    "hs_survey_channel",
    "hs_value",
    "hs_response_group",
    "hs_sentiment",
    "hs_content",
    "hs_submission_timestamp",
    "hs_createdate",
    "hs_lastmodifieddate",
)
_ENGAGEMENT_COMMON = ("hs_timestamp", "hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate")
# Per type: (subject property, status property, direction property). Never an email's
# body (hs_email_text, hs_email_html): only its metadata.
_ENGAGEMENT_SPEC = {
    "notes": ("hs_note_body", "", ""),
    "calls": ("hs_call_title", "hs_call_status", "hs_call_direction"),
    "meetings": ("hs_meeting_title", "hs_meeting_outcome", ""),
    "emails": ("hs_email_subject", "hs_email_status", "hs_email_direction"),
    "tasks": ("hs_task_subject", "hs_task_status", ""),
}
_EXTRA = {
    "calls": ("hs_call_duration",),
    "meetings": ("hs_meeting_start_time", "hs_meeting_end_time"),
}
# Outcomes that mean nothing happened with the customer: not a touch.
NOT_A_TOUCH = frozenset({"NO_ANSWER", "BUSY", "FAILED", "CANCELED", "NO_SHOW", "BOUNCED"})
PRIORITIES = frozenset({"LOW", "MEDIUM", "HIGH", "URGENT"})
SURVEY_TYPES = frozenset({"NPS", "CSAT", "CES", "CUSTOM"})
GROUPS = frozenset({"PROMOTER", "PASSIVE", "DETRACTOR"})
NOTE_TEXT_MAX = 2000


@dataclass(frozen=True)
class TicketStageRef:
    pipeline_pk: int
    stage_pk: int
    is_closed: bool


@dataclass(frozen=True)
class ContactRef:
    pk: int
    account_pk: int


def support_properties(object_type: str) -> list[str]:
    """The properties sync asks HubSpot for, per support object type."""
    if object_type == "tickets":
        return list(TICKET_PROPERTIES)
    if object_type == "feedback_submissions":
        return list(FEEDBACK_PROPERTIES)
    subject, status, direction = _ENGAGEMENT_SPEC[object_type]
    wanted = [*_ENGAGEMENT_COMMON, subject, status, direction, *_EXTRA.get(object_type, ())]
    return [p for p in dict.fromkeys(wanted) if p]


def parse_datetime(value: str, *, field: str) -> datetime | None:
    """An aware datetime from HubSpot's ISO 8601 or epoch milliseconds; "" is None."""
    if value == "":
        return None
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise Unmappable(f"{field} is not a date and time: {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def lenient_owner(owner_id: str, owners: Mapping[str, OwnerRef]) -> int | None:
    ref = owners.get(owner_id) if owner_id else None
    return ref.user_pk if ref is not None else None


def scope(
    record: Record, *, accounts: Mapping[str, int], contacts: Mapping[str, ContactRef]
) -> tuple[int, int | None] | None:
    """(account pk, contact pk or None): the first synced company (primary first), else
    the account of the first contact we hold; None when the record is out of scope."""
    linked = [contacts[c] for c in associated_ids(record, "contacts") if c in contacts]
    contact = linked[0].pk if linked else None
    for company in associated_ids(record, "companies"):
        if company in accounts:
            return accounts[company], contact
    if linked:
        return linked[0].account_pk, contact
    return None


def ticket_fields(
    record: Record,
    *,
    stages: Mapping[tuple[str, str], TicketStageRef],
    accounts: Mapping[str, int],
    contacts: Mapping[str, ContactRef],
    owners: Mapping[str, OwnerRef],
) -> dict[str, Any] | None:
    """Ticket fields, or None when out of scope."""
    where = scope(record, accounts=accounts, contacts=contacts)
    if where is None:
        return None
    subject = prop(record, "subject")
    if not subject:
        raise Unmappable("the ticket has no subject")
    pipeline, stage_id = prop(record, "hs_pipeline") or "0", prop(record, "hs_pipeline_stage")
    stage = stages.get((pipeline, stage_id))
    if stage is None:
        raise Unmappable(f"unknown ticket stage {stage_id!r} in pipeline {pipeline!r}")
    opened = parse_datetime(prop(record, "createdate"), field="createdate")
    if opened is None:
        raise Unmappable("the ticket has no createdate")
    priority = prop(record, "hs_ticket_priority").upper()
    return {
        "account_id": where[0],
        "contact_id": where[1],
        "owner_id": lenient_owner(prop(record, "hubspot_owner_id"), owners),
        "subject": subject[:500],
        "pipeline_id": stage.pipeline_pk,
        "stage_id": stage.stage_pk,
        "priority": priority if priority in PRIORITIES else "",
        "category": prop(record, "hs_ticket_category")[:100],
        "source": prop(record, "source_type")[:40],
        "opened_at": opened,
        "closed_at": parse_datetime(prop(record, "closed_date"), field="closed_date"),
        "is_closed": stage.is_closed,
    }


def nps_group(score: Decimal | None) -> str:
    """NPS buckets: 9-10 promoters, 7-8 passives, 0-6 detractors."""
    if score is None:
        return ""
    return "PROMOTER" if score >= 9 else "PASSIVE" if score >= 7 else "DETRACTOR"


def feedback_fields(
    record: Record, *, accounts: Mapping[str, int], contacts: Mapping[str, ContactRef]
) -> dict[str, Any] | None:
    """Survey response fields, or None when out of scope."""
    where = scope(record, accounts=accounts, contacts=contacts)
    if where is None:
        return None
    survey_type = prop(record, "hs_survey_type").upper()
    survey_type = survey_type if survey_type in SURVEY_TYPES else "CUSTOM"
    raw = prop(record, "hs_value")
    score = parse_decimal(raw, field="hs_value") if raw else None
    if score is not None and not Decimal("-1000") < score < Decimal("1000"):
        raise Unmappable(f"hs_value is out of range: {raw!r}")
    group = prop(record, "hs_response_group").upper()
    if group not in GROUPS:
        group = nps_group(score) if survey_type == "NPS" else ""
    submitted = parse_datetime(
        prop(record, "hs_submission_timestamp") or prop(record, "hs_createdate"),
        field="hs_submission_timestamp",
    )
    if submitted is None:
        raise Unmappable("the response has no submission time")
    return {
        "account_id": where[0],
        "contact_id": where[1],
        "survey_type": survey_type,
        "survey_name": prop(record, "hs_survey_name")[:200],
        "survey_id": prop(record, "hs_survey_id")[:64],
        "channel": prop(record, "hs_survey_channel")[:40],
        "score": score,
        "response_group": group,
        "sentiment": prop(record, "hs_sentiment")[:20],
        "comment": prop(record, "hs_content"),
        "submitted_at": submitted,
    }


def _direction(value: str) -> str:
    value = value.upper()
    if value in ("INBOUND", "INCOMING_EMAIL"):
        return "inbound"
    if value in ("OUTBOUND", "EMAIL", "FORWARDED_EMAIL"):
        return "outbound"
    return ""


def _duration(object_type: str, record: Record) -> int | None:
    if object_type == "calls":
        raw = prop(record, "hs_call_duration")
        return int(parse_decimal(raw, field="hs_call_duration") / 1000) if raw else None
    if object_type == "meetings":
        start = parse_datetime(prop(record, "hs_meeting_start_time"), field="start time")
        end = parse_datetime(prop(record, "hs_meeting_end_time"), field="end time")
        return int((end - start).total_seconds()) if start and end and end >= start else None
    return None


def engagement_fields(
    object_type: str,
    record: Record,
    *,
    accounts: Mapping[str, int],
    contacts: Mapping[str, ContactRef],
    owners: Mapping[str, OwnerRef],
) -> dict[str, Any] | None:
    """Engagement fields (metadata; a note's text), or None when out of scope."""
    where = scope(record, accounts=accounts, contacts=contacts)
    if where is None:
        return None
    subject_prop, status_prop, direction_prop = _ENGAGEMENT_SPEC[object_type]
    occurred = parse_datetime(
        prop(record, "hs_timestamp") or prop(record, "hs_createdate"), field="hs_timestamp"
    )
    if occurred is None:
        raise Unmappable(f"the {ENGAGEMENT_KIND[object_type]} has no timestamp")
    text = " ".join(strip_tags(prop(record, subject_prop)).split())
    status = prop(record, status_prop).upper() if status_prop else ""
    owner_id = prop(record, "hubspot_owner_id")
    duration = _duration(object_type, record)
    direction = _direction(prop(record, direction_prop)) if direction_prop else ""
    return {
        "kind": ENGAGEMENT_KIND[object_type],
        "account_id": where[0],
        "contact_id": where[1],
        "owner_id": lenient_owner(owner_id, owners),
        "occurred_at": occurred,
        "subject": text[:500],
        "text": text[:NOTE_TEXT_MAX] if object_type == "notes" else "",
        "direction": direction,
        "status": status[:40],
        "duration_seconds": duration if duration is None or duration >= 0 else None,
        "is_touch": object_type != "tasks" and bool(owner_id) and status not in NOT_A_TOUCH,
    }


def ticket_stage_fields(stage: Record) -> dict[str, Any]:
    """A ticket stage's label, order and closed state (`metadata.ticketState`)."""
    meta = stage.get("metadata") or {}
    return {
        "label": str(stage.get("label", ""))[:200],
        "display_order": max(int(stage.get("displayOrder") or 0), 0),
        "is_closed": str(meta.get("ticketState", "")).upper() == "CLOSED",
    }
