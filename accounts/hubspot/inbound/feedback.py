"""HubSpot feedback submissions (NPS, CSAT and CES answers): the page writer. They are
read-only in HubSpot, so nothing of ours ever goes back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.hubspot.inbound.page_context import PageResult, SyncContext
from accounts.hubspot.inbound.support_pages import SupportSpec, support_page_write
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.rules.support_mapping import ContactRef, feedback_fields
from accounts.support.models import FeedbackSubmission
from accounts.support.services import support_synced_notify

FEEDBACK_FIELDS = (
    "account_id",
    "contact_id",
    "survey_type",
    "survey_name",
    "survey_id",
    "channel",
    "score",
    "response_group",
    "sentiment",
    "comment",
    "submitted_at",
    "archived_at",
)


def _map(
    record: Record, ctx: SyncContext, accounts: dict[str, int], contacts: dict[str, ContactRef]
) -> dict[str, Any] | None:
    return feedback_fields(record, accounts=accounts, contacts=contacts)


FEEDBACK = SupportSpec(
    object_type="feedback_submissions",
    model=FeedbackSubmission,
    fields=FEEDBACK_FIELDS,
    mapper=_map,
    title_field="survey_type",
    # Detractor answers open alerts soon after they arrive, not only at the daily run.
    after=lambda ids: support_synced_notify(object_type="feedback_submissions", account_ids=ids),
)


def feedback_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    return support_page_write(records, ctx, FEEDBACK)
