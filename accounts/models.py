"""Accounts, the people and deals around them, usage signals and the timeline.

CS fields that HubSpot should see (health, onboarding status, next business
review, renewal forecast) live here but are written only through
`accounts.services.account_cs_fields_update`, called by the app that owns them.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class User(AbstractUser):
    """A person who signs in. Roles are groups (see accounts.roles)."""

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMB = "smb", "SMB"


class Stage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTION = "adoption", "Adoption"
    VALUE_REALISED = "value_realised", "Value realised"
    RENEWAL = "renewal", "Renewal"
    EXPANSION = "expansion", "Expansion"
    AT_RISK = "at_risk", "At risk"
    CHURNED = "churned", "Churned"


class HealthBand(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class ForecastCategory(models.TextChoices):
    COMMIT = "commit", "Commit"
    LIKELY = "likely", "Likely"
    AT_RISK = "at_risk", "At risk"
    CHURN = "churn", "Churn"


MAX_ID = 2**63 - 1  # the largest id a database column holds (bigint)


def id_or_none(text: str) -> int | None:
    """A record id typed or sent as text ("42"), or None when it is not one: not
    digits, 0, or beyond any id column (SQLite raises OverflowError on such a value
    in a query, where PostgreSQL just finds nothing)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def normalise_domain(value: str) -> str:
    """A domain as HubSpot matches it: `https://www.Acme.com/path` -> `acme.com`.

    Lowercase; any scheme, user, port, path, query and fragment dropped; a trailing dot
    and one leading `www.` removed. Empty stays empty. Junk comes out as junk: use
    `domain_clean` where a person typed it."""
    value = (value or "").strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    elif value.startswith("//"):
        value = value[2:]
    value = re.split(r"[/?#\\]", value, maxsplit=1)[0]
    value = value.rsplit("@", 1)[-1]
    value = value.split(":", 1)[0].rstrip(".")
    if value.startswith("www.") and "." in value[4:]:
        value = value[4:]  # not from `www.io`, a host of its own
    return value


# Labels of letters (any script), digits and inner hyphens; a top-level label of letters
# or an IDNA (xn--) label.
_LABEL = r"(?!-)[^\W_](?:[^\W_]|-){0,62}(?<!-)"
_TOP = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+{_TOP}$")


def domain_clean(value: str) -> str:
    """A domain a person typed, normalised as HubSpot matches it (`normalise_domain`);
    ValidationError with what to type instead when it is not a domain. Empty is allowed."""
    from django.core.exceptions import ValidationError

    domain = normalise_domain(value)
    if (value or "").strip() and not _DOMAIN.match(domain):
        # The typed value travels as a parameter, never inside the message: DRF formats
        # every filter error's message with `%`, and a value holding "%s" answered 500.
        raise ValidationError(
            "%(value)s is not a domain: type one such as acme.com "
            "(a web address such as https://www.acme.com/ is fine too).",
            code="invalid_domain",
            params={"value": repr((value or "").strip()[:80])},
        )
    return domain


class Account(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB)
    arr = models.DecimalField(
        "ARR",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    contract_start = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.ONBOARDING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    hubspot_id = models.CharField("HubSpot id", max_length=32, null=True, blank=True, unique=True)

    # CS fields, written by the owning apps through accounts.services.
    health_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    health_band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    onboarding_status = models.CharField(max_length=20, blank=True)
    onboarding_progress = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    next_business_review = models.DateField(null=True, blank=True)
    renewal_forecast_category = models.CharField(
        max_length=10, choices=ForecastCategory.choices, blank=True
    )
    renewal_forecast_arr = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )

    # When a person last did something with the customer (Event.activity_q),
    # kept by event_record; system events do not move it.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # When each field last changed in Lifecycle ({field name: epoch ms}), stamped by
    # accounts.services; two-way sync's "latest change wins" compares it with HubSpot's
    # property history. A field never stamped falls back to updated_at.
    field_changed_at = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"
            ),
            models.CheckConstraint(condition=Q(arr__gte=0), name="account_arr_non_negative"),
            models.CheckConstraint(
                condition=Q(health_score__isnull=True) | Q(health_score__lte=100),
                name="account_health_score_range",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["segment"]),
            # One per portfolio sort, ending in id (the tie-break the portfolio adds),
            # so a page of 25 reads 25 index entries instead of sorting every account;
            # renewal date and stage also serve their filters.
            models.Index(fields=["name", "id"], name="account_name_id"),
            models.Index(fields=["stage", "id"], name="account_stage_id"),
            models.Index(fields=["arr", "id"], name="account_arr_id"),
            # Not health: the health job rewrites every score that moves each day, and
            # an indexed column would make each of those writes a new row version in
            # every index of this table instead of a HOT update on its own page
            # (migration 0021, docs/performance.md). The health sort reads
            # AccountHealthSort instead.
            # Last activity's sort index (DESC NULLS LAST) is PostgreSQL-only, in
            # migration 0018: SQLite cannot index NULLS LAST.
            # Read from the index alone, without the wide account rows
            # (docs/performance.md): the portfolio (never archived accounts) counts
            # the book and finds a deep page's ids in name order on the first; a
            # person's accounts (alerts, My work, renewals: account__owner) and the
            # owner sort's ids come from the second, status a key column for the
            # portfolio's filter (not INCLUDE: SQLite has no non-key columns).
            # Migration 0017 also adds trigram indexes for the search on PostgreSQL.
            models.Index(
                fields=["name", "id"],
                name="account_live_name_id",
                condition=~models.Q(status="archived"),
            ),
            models.Index(fields=["owner", "id", "status"], name="account_owner_id"),
            # Renewal date of live accounts: the portfolio's renewal sort, and its
            # renewal-window filter counted from the index alone (0018).
            models.Index(
                fields=["renewal_date", "id"],
                name="account_live_renewal_id",
                condition=~models.Q(status="archived"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("account", args=[self.pk])

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            self.domain = domain_clean(self.domain)
        except ValidationError as exc:
            raise ValidationError({"domain": exc.messages}) from None
        if self.currency:
            self.currency = self.currency.upper()

        if self.domain:
            twin = Account.objects.exclude(pk=self.pk).filter(domain=self.domain).first()
            if twin:
                raise ValidationError(
                    {"domain": f"{twin.name} already has the domain {self.domain}."}
                )
        if self.contract_start and self.renewal_date and self.renewal_date <= self.contract_start:
            raise ValidationError(
                {"renewal_date": "The renewal date must be after contract start."}
            )


class LiveAccountCount(models.Model):
    """How many live (not archived) accounts each owner has in each segment and stage
    (`owner_key` 0: unassigned). The portfolio's exact counts, for every owner,
    segment and stage filter, are sums of these rows instead of counting up to
    100,000 index entries a request (docs/performance.md, "Pages at 100,000
    accounts").

    On PostgreSQL triggers on the account table keep it (migration 0019), in the same
    transaction as each account insert, delete, archive or restore and change of
    owner, segment or stage, so a read sees exactly what `COUNT(*)` would in the same
    snapshot. Nothing else writes it; elsewhere (SQLite) it stays empty and the pages
    count (`accounts.selectors.live_account_counts`)."""

    # The owner's id, 0 for the unassigned (ids start at 1). Not a foreign key: a
    # deleted owner's accounts become unassigned through the account's own SET NULL,
    # which the trigger counts, and the owner's rows stay at 0.
    owner_key = models.BigIntegerField()
    segment = models.CharField(max_length=20)
    stage = models.CharField(max_length=20)
    accounts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "segment", "stage"], name="live_account_count_key"
            ),
        ]

    def __str__(self) -> str:
        owner = self.owner_key or "unassigned"
        return f"{owner}, {self.segment}, {self.stage}: {self.accounts}"


class LiveAccountSearch(models.Model):
    """What the portfolio search reads of each live account: its name and domain in
    upper case, joined by SEARCH_SEPARATOR, one narrow row an account (archived
    ones have none). The search's count at 100,000 accounts rechecks every trigram
    match on its row; here that is about a tenth of the pages of the account table
    and one LIKE a row instead of two UPPERs and two LIKEs (docs/performance.md,
    "The search's count").

    On PostgreSQL triggers on the account table keep it (migration 0020) in the
    transaction that inserts, deletes, renames, archives or restores an account, so
    a count from it is what `COUNT(*)` of `name ILIKE %q% OR domain ILIKE %q%` finds
    in the same snapshot (a term holding the separator excepted: those are counted
    on the accounts). Nothing else writes it; elsewhere (SQLite) it stays empty and
    the portfolio counts on the accounts (`accounts.portfolio_sql.live_search_count`)."""

    # The account's id. Not a foreign key: the triggers delete the row with the
    # account, and the ORM's delete collector would only read it again.
    account_id = models.BigIntegerField(primary_key=True)
    text = models.TextField()

    def __str__(self) -> str:
        return f"{self.account_id}: {self.text}"


class AccountHealthSort(models.Model):
    """Each account's health score, for the portfolio's health sort: one narrow row
    an account, indexed by (score, account id), so a page of 25 in health order reads
    25 index entries (`accounts.portfolio_sql`).

    The score is not indexed on the account table itself: the health job rewrites
    every score that moved each day, and an index on it would turn each of those
    writes into a new entry in all of the account table's indexes; without one they
    are HOT updates on the row's own page (migration 0021 leaves room on each page
    for them; docs/performance.md, "Health scoring: the account update"). On
    PostgreSQL triggers keep this table in the transaction that inserts, deletes or
    rescores an account, so the health sort reads what the accounts hold in the same
    snapshot. Nothing else writes it; elsewhere (SQLite) it stays empty and the sort
    reads the accounts."""

    # The account's id. Not a foreign key, as in LiveAccountSearch: the triggers
    # delete the row with the account.
    account_id = models.BigIntegerField(primary_key=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["health_score", "account_id"], name="account_health_sort"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.health_score}"


# Between the name and the domain in LiveAccountSearch.text: a term holding it could
# match across the two, which the search (either field) would not.
SEARCH_SEPARATOR = "\n"


class StageChange(models.Model):
    """Every lifecycle stage change, dated, with who made it and why."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_stage} -> {self.to_stage}"


class Contact(models.Model):
    class Role(models.TextChoices):
        CHAMPION = "champion", "Champion"
        EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
        USER = "user", "User"
        BILLING = "billing", "Billing"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.USER)
    hubspot_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    # Deleted in HubSpot: kept (plans and reviews may name them) but out of lists.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Pipeline(models.Model):
    label = models.CharField(max_length=200)
    is_renewal = models.BooleanField(
        default=False, help_text="Renewal deals are created in this pipeline."
    )
    hubspot_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_renewal"], condition=Q(is_renewal=True), name="one_renewal_pipeline"
            )
        ]

    def __str__(self) -> str:
        return self.label


class PipelineStage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    label = models.CharField(max_length=200)
    display_order = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    probability = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    hubspot_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["pipeline", "display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "hubspot_id"], name="stage_hubspot_id_unique_per_pipeline"
            ),
            models.CheckConstraint(
                condition=Q(is_won=False) | Q(is_closed=True), name="won_stage_is_closed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.label} · {self.label}"


class Deal(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", "New business"
        RENEWAL = "renewal", "Renewal"
        EXPANSION = "expansion", "Expansion"
        CONTRACTION = "contraction", "Contraction"

    name = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="deals")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    close_date = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NEW)
    hubspot_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    # Deals made in Lifecycle (renewals, expansions) are Lifecycle's: pushed to HubSpot,
    # never overwritten from it. `hubspot_pushed_at`: when HubSpot last took them.
    created_in_lifecycle = models.BooleanField(default=False, editable=False)
    # Deleted in HubSpot: kept (renewals may point at it) but out of lists and ARR.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    hubspot_pushed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A hash of the properties HubSpot last took: a re-check writes only what differs.
    hubspot_pushed_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-close_date", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            raise ValidationError({"stage": "This stage belongs to another pipeline."})


class OwnerLink(models.Model):
    """A HubSpot owner and the Lifecycle user it stands for (matched by email)."""

    hubspot_owner_id = models.CharField(max_length=32, unique=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hubspot_owner_links",
    )

    def __str__(self) -> str:
        return f"{self.hubspot_owner_id} ({self.email})"


class UsageSnapshot(models.Model):
    """One dated reading of how an account uses the product."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_snapshots")
    date = models.DateField()
    active_users = models.PositiveIntegerField(null=True, blank=True)
    seats_purchased = models.PositiveIntegerField(null=True, blank=True)
    seats_used = models.PositiveIntegerField(null=True, blank=True)
    logins_30d = models.PositiveIntegerField("logins (30 days)", null=True, blank=True)
    core_features_adopted = models.PositiveSmallIntegerField(null=True, blank=True)
    open_tickets = models.PositiveIntegerField(null=True, blank=True)
    csat = models.DecimalField(
        "CSAT",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    nps = models.SmallIntegerField(
        "NPS",
        null=True,
        blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="usage_one_per_account_day"),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | (Q(nps__gte=-100) & Q(nps__lte=100)),
                name="usage_nps_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} @ {self.date}"


class Event(models.Model):
    """The account timeline. Every app writes here through `event_record`."""

    class Kind(models.TextChoices):
        ACCOUNT_CREATED = "account_created", "Account created"
        ACCOUNT_UPDATED = "account_updated", "Account updated"
        STAGE_CHANGED = "stage_changed", "Stage changed"
        OWNER_CHANGED = "owner_changed", "Owner changed"
        CONTACT_ADDED = "contact_added", "Contact added"
        CONTACT_UPDATED = "contact_updated", "Contact updated"
        DEAL_ADDED = "deal_added", "Deal added"
        DEAL_UPDATED = "deal_updated", "Deal updated"
        USAGE_IMPORTED = "usage_imported", "Usage imported"
        NOTE = "note", "Note"
        # Kinds written by other apps; the timeline shows their summary.
        ONBOARDING = "onboarding", "Onboarding"
        SUCCESS = "success", "Success plan"
        REVIEW = "review", "Business review"
        RENEWAL = "renewal", "Renewal"
        HEALTH = "health", "Health"
        ALERT = "alert", "Alert"
        EXPANSION = "expansion", "Expansion signal"
        HUBSPOT = "hubspot", "HubSpot"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=500)
    link = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "-occurred_at"])]

    def __str__(self) -> str:
        return self.summary

    @classmethod
    def activity_q(cls) -> Q:
        """Events that are what a person did with the customer: the account's
        last activity. A note (a logged touch), onboarding work, the success
        plan, business reviews and renewal forecasts or closings, by a person.
        System events (sync, imports, the daily jobs opening renewals and
        alerts, scoring) have no actor; data edits, reassignment, stage
        changes, health overrides and alert triage are about the account, not
        with the customer. All go to the timeline; only these bump it."""
        return Q(actor__isnull=False, kind__in=ACTIVITY_KINDS)

    @classmethod
    def is_activity(cls, *, kind: str, actor: Any) -> bool:
        return actor is not None and kind in ACTIVITY_KINDS


ACTIVITY_KINDS = frozenset(
    {
        Event.Kind.NOTE,
        Event.Kind.ONBOARDING,
        Event.Kind.SUCCESS,
        Event.Kind.REVIEW,
        Event.Kind.RENEWAL,
    }
)


class ImportBatch(models.Model):
    """An uploaded CSV waiting for confirmation, and what came of it."""

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Accounts"
        USAGE = "usage", "Usage snapshots"

    class Status(models.TextChoices):
        PREVIEW = "preview", "Awaiting confirmation"
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    # The file checked once, row by row (accounts.imports.parsing.Preview.to_json),
    # in the worker: null until then. Pages and the import read it, never the file.
    preview = models.JSONField(null=True, blank=True, editable=False)
    valid_only = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    # Rows the worker has written so far: the progress bar, and where a retried
    # import resumes (each chunk commits with its count).
    rows_done = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename}"


class ApiToken(models.Model):
    """A credential an integration sends as `Authorization: Bearer <token>`.

    The token acts as its user, so the user's role decides what it may do, as
    in the browser. Only a sha256 of the token is stored; the visible prefix
    lets admins tell tokens apart without the secret.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'Usage pipeline'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(key: str) -> str:
        """What is stored instead of the secret. A plain sha256 suffices: the
        secret is 256 random bits, so there is nothing to brute-force."""
        return hashlib.sha256(key.encode()).hexdigest()
