"""Support tickets, survey responses and customer conversations, per account.

Rows come from HubSpot (Service Hub tickets, feedback submissions, engagements) through
the HubSpot plug-in's inbound sync, which keys them by `hubspot_id`; nothing here
depends on HubSpot being installed. A record deleted in HubSpot keeps its row with
`archived_at` set (figures and lists leave it out; a restore clears it), like deals
and contacts.

The figures pages and health read (open tickets, escalated open, opened in 30 days,
median time to close, NPS, CSAT, detractors, last touch) are in `selectors.py`; every
one of them reads one of the indexes declared here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, Contact

LIVE = Q(archived_at__isnull=True)


def hubspot_record_url(object_type_id: str, hubspot_id: str | None) -> str:
    """The record in HubSpot's app when the portal id is configured, else ""."""
    portal = getattr(settings, "HUBSPOT_PORTAL_ID", "")
    if not (portal and hubspot_id):
        return ""
    base = getattr(settings, "HUBSPOT_APP_URL", "https://app.hubspot.com").rstrip("/")
    return f"{base}/contacts/{portal}/record/{object_type_id}/{hubspot_id}"


class TicketPipeline(models.Model):
    """A support pipeline (HubSpot: /crm/v3/pipelines/tickets), e.g. "Support"."""

    label = models.CharField(max_length=200)
    hubspot_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class TicketStage(models.Model):
    """A stage of a support pipeline; `is_closed` is HubSpot's `ticketState: CLOSED`."""

    pipeline = models.ForeignKey(TicketPipeline, on_delete=models.CASCADE, related_name="stages")
    label = models.CharField(max_length=200)
    display_order = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(default=False)
    hubspot_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["pipeline", "display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "hubspot_id"], name="ticket_stage_hubspot_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.label} · {self.label}"


class Ticket(models.Model):
    """A support ticket of the account. `is_closed` copies the stage's state onto the
    row (kept by the sync and by a stage changing state), so "open tickets" reads one
    partial index instead of joining stages."""

    class Priority(models.TextChoices):
        # HubSpot's internal values of hs_ticket_priority.
        LOW = "LOW", "Low"
        MEDIUM = "MEDIUM", "Medium"
        HIGH = "HIGH", "High"
        URGENT = "URGENT", "Urgent"

    # High and urgent tickets are the escalated ones (figures, alerts).
    ESCALATED = (Priority.HIGH, Priority.URGENT)

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets")
    # The first associated contact we hold (primary first); null when we hold none.
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_tickets",
    )
    hubspot_id = models.CharField("HubSpot id", max_length=32, null=True, blank=True, unique=True)
    subject = models.CharField(max_length=500)
    pipeline = models.ForeignKey(TicketPipeline, on_delete=models.PROTECT, related_name="tickets")
    stage = models.ForeignKey(TicketStage, on_delete=models.PROTECT, related_name="tickets")
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    # hs_ticket_category's internal value (PRODUCT_ISSUE, FEATURE_REQUEST, ...): portals
    # add their own, so it is not a closed list here.
    category = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=40, blank=True)  # source_type: EMAIL, CHAT...
    opened_at = models.DateTimeField()  # createdate
    closed_at = models.DateTimeField(null=True, blank=True)  # closed_date
    is_closed = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # Opened in a window (last 30 days, the trend) and the panel's latest.
            models.Index(fields=["account", "-opened_at"], name="ticket_account_opened"),
            # Closed in a window: median time to close.
            models.Index(
                fields=["account", "closed_at"],
                condition=Q(closed_at__isnull=False, archived_at__isnull=True),
                name="ticket_account_closed",
            ),
            # Open tickets (and escalated ones among them) per account.
            models.Index(
                fields=["account", "priority", "opened_at"],
                condition=Q(is_closed=False, archived_at__isnull=True),
                name="ticket_account_open",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_escalated(self) -> bool:
        return self.priority in self.ESCALATED

    @property
    def hubspot_url(self) -> str:
        return hubspot_record_url("0-5", self.hubspot_id)


class FeedbackSubmission(models.Model):
    """One answer to an NPS, CSAT or CES survey. Read-only in HubSpot: we only read.

    `score` is the answer as given (NPS 0-10, CSAT on the survey's scale, CES 1-7);
    `response_group` is HubSpot's promoter / passive / detractor bucket."""

    class SurveyType(models.TextChoices):
        NPS = "NPS", "NPS"
        CSAT = "CSAT", "CSAT"
        CES = "CES", "CES"
        CUSTOM = "CUSTOM", "Custom"

    class Group(models.TextChoices):
        PROMOTER = "PROMOTER", "Promoter"
        PASSIVE = "PASSIVE", "Passive"
        DETRACTOR = "DETRACTOR", "Detractor"

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="feedback_submissions"
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_submissions",
    )
    hubspot_id = models.CharField("HubSpot id", max_length=32, null=True, blank=True, unique=True)
    survey_type = models.CharField(max_length=10, choices=SurveyType.choices)
    survey_name = models.CharField(max_length=200, blank=True)
    survey_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=40, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    response_group = models.CharField(max_length=10, choices=Group.choices, blank=True)
    sentiment = models.CharField(max_length=20, blank=True)  # hs_sentiment
    comment = models.TextField(blank=True)  # hs_content
    submitted_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # NPS over 90 days, CSAT average, the panel's latest answers.
            models.Index(
                fields=["account", "survey_type", "-submitted_at"],
                condition=Q(archived_at__isnull=True),
                name="feedback_account_type",
            ),
            # Detractor responses (the panel, the detractor alert).
            models.Index(
                fields=["account", "-submitted_at"],
                condition=Q(response_group="DETRACTOR", archived_at__isnull=True),
                name="feedback_account_detractor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_type} {self.score} ({self.account_id})"

    @property
    def hubspot_url(self) -> str:
        return hubspot_record_url("0-19", self.hubspot_id)


class Engagement(models.Model):
    """A note, call, meeting, email or task with the customer: its metadata only, never
    an email's body. A note keeps its text (plain, cut at `NOTE_TEXT_MAX`) because
    the note is the content, and expansion hints are read from it.

    `is_touch`: a person did this with the customer (a note, call, meeting or email
    by a HubSpot user, not a task and not an automated send); the latest touch up to
    now is the account's last touch."""

    NOTE_TEXT_MAX = 2000

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        TASK = "task", "Task"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="engagements")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagements"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="engagements",
    )
    hubspot_id = models.CharField("HubSpot id", max_length=32, null=True, blank=True)
    occurred_at = models.DateTimeField()  # hs_timestamp
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)  # notes only
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    # The call's status, the meeting's outcome, the task's status, the email's status.
    status = models.CharField(max_length=40, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    is_touch = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Tasks made or changed in Lifecycle (a playbook's steps): when the change HubSpot has
    # not been told of was made (the CRM plug-in pushes rows where it is set, and clears
    # it only if no later change came meanwhile), and when a create was sent whose answer
    # may have been lost (the next attempt looks the task up before creating another).
    push_wanted_at = models.DateTimeField(null=True, blank=True, editable=False)
    create_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # HubSpot ids are unique per object type; notes and calls may share one.
            models.UniqueConstraint(
                fields=["kind", "hubspot_id"], name="engagement_kind_hubspot_id_unique"
            ),
        ]
        indexes = [
            # The account timeline (newest first).
            models.Index(fields=["account", "-occurred_at"], name="engagement_account_time"),
            # Last touch and last touches per account.
            models.Index(
                fields=["account", "-occurred_at"],
                condition=Q(is_touch=True, archived_at__isnull=True),
                name="engagement_account_touch",
            ),
            # The CRM push reads the tasks it owes HubSpot.
            models.Index(
                fields=["push_wanted_at"],
                condition=Q(push_wanted_at__isnull=False),
                name="engagement_push_wanted",
            ),
        ]

    # HubSpot's object type id per kind (for links into HubSpot).
    TYPE_IDS = {"note": "0-46", "call": "0-48", "meeting": "0-47", "email": "0-49", "task": "0-27"}

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def hubspot_url(self) -> str:
        return hubspot_record_url(self.TYPE_IDS.get(self.kind, ""), self.hubspot_id)
