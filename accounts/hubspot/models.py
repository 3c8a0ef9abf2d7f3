"""The HubSpot app's models. Their tables keep the names they had when they belonged
to accounts (`accounts_syncrun`...): moving them to this app moved no data.

The shared HubSpot rate-limit budget: call counts per time window, in the database so
the web process and every worker draw on the one limit HubSpot enforces per portal."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.hubspot.field_state import FieldStatesField


class HubSpotRateWindow(models.Model):
    """Calls made to HubSpot in one window of one bucket, plus the 429s and retries met.

    The ten-second bucket uses 100 ms windows (summed for the rolling ten seconds), the
    search bucket one-second windows; the daily bucket uses one row per UTC day.
    """

    class Bucket(models.TextChoices):
        TEN_SECONDS = "ten_seconds", "Ten-second rolling"
        SEARCH = "search", "Search, per second"
        DAILY = "daily", "Daily"

    bucket = models.CharField(max_length=16, choices=Bucket.choices)
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "accounts_hubspotratewindow"
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="hubspot_rate_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="hubspot_rate_window_start")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start:%Y-%m-%d %H:%M:%S}: {self.calls} calls"


# -- the inbound sync (accounts/hubspot/inbound) -----------------------------------------


class SyncSource(models.TextChoices):
    IMPORT = "import", "Import"
    POLL = "poll", "Incremental sync"
    WEBHOOK = "webhook", "Webhook"
    PUSH = "push", "Push to HubSpot"
    RESOLVE = "resolve", "Conflict resolved"
    REPAIR = "repair", "Drift repaired"
    REPLAY = "replay", "Replay of a time window"
    MATCH = "match", "Matched by a person"


class SyncRun(models.Model):
    """One full import or incremental sync, with its progress and, for imports, the
    `after` cursor of each object type, saved with each committed page so a crashed
    import resumes from the last page it wrote."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Full import"
        POLL = "poll", "Incremental sync"
        ARCHIVED = "archived", "Archived sweep"
        RETRY = "retry", "Quarantine retry"
        REPLAY = "replay", "Replay of a time window"
        RECONCILE = "reconcile", "Reconciliation"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=20, blank=True)
    # {"companies": {"after": "1234", "done": false}, ...}
    cursors = models.JSONField(default=dict, blank=True)
    records_done = models.PositiveIntegerField(default=0)
    records_estimated = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_syncrun"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def elapsed_seconds(self) -> float:
        if not self.started_at:
            return 0.0
        end = self.finished_at or timezone.now()
        return max((end - self.started_at).total_seconds(), 0.0)

    @property
    def rate(self) -> float:
        """Records per second so far."""
        elapsed = self.elapsed_seconds
        return self.records_done / elapsed if elapsed > 0 else 0.0

    @property
    def percent(self) -> int:
        if not self.records_estimated:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.records_done / self.records_estimated))

    @property
    def seconds_left(self) -> float | None:
        if self.status != self.Status.RUNNING or not self.rate:
            return None
        return max(self.records_estimated - self.records_done, 0) / self.rate


class SyncCursor(models.Model):
    """Where incremental sync stands per object type: the next search starts at
    `since_ms` (HubSpot's modified date, epoch ms); the last (modified, id) pair seen."""

    object_type = models.CharField(max_length=20, unique=True)
    since_ms = models.BigIntegerField(default=0)
    modified_ms = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_synccursor"

    def __str__(self) -> str:
        return f"{self.object_type} @ {self.modified_ms}/{self.last_id}"


class SyncIssue(models.Model):
    """A HubSpot record we could not map (unknown stage, bad date, unmapped owner...).
    Kept with its reason and payload until a later sync or retry maps it."""

    object_type = models.CharField(max_length=20)
    hubspot_id = models.CharField(max_length=32)
    reason = models.CharField(max_length=500)
    payload = models.JSONField(default=dict, blank=True)
    # Accounts the record may be ([{"id", "name"}]): a person links one or creates new.
    candidates = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=SyncSource.choices)
    attempts = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_syncissue"
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "hubspot_id"], name="hubspot_sync_issue_unique"
            )
        ]
        indexes = [models.Index(fields=["resolved_at"], name="hubspot_sync_issue_open")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.hubspot_id}: {self.reason}"


class SyncChangeStatus(models.TextChoices):
    APPLIED = "applied", "Applied"  # a change made here (or to HubSpot and confirmed)
    SENT = "sent", "Sent, unconfirmed"
    CONFIRMED = "confirmed", "Sent and confirmed"
    FAILED = "failed", "Sent, refused"


class SyncChange(models.Model):
    """The sync journal: one applied change of one field of one local record."""

    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hubspot_changes",
    )
    # About the linked record, not the customer: stays when accounts merge.
    account_merge_stays = True

    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField(help_text="Our primary key of the changed record.")
    hubspot_id = models.CharField(max_length=32, blank=True)
    field = models.CharField(max_length=50)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=SyncSource.choices)
    change_source = models.CharField(max_length=40, blank=True)
    note = models.CharField(
        max_length=100, blank=True, help_text="Why, when a policy decided between two edits."
    )
    # Who set the value this change replaced, when another author's ("CRM_UI userId:9").
    old_by = models.CharField(max_length=80, blank=True)
    # The outbox: a write to HubSpot is journaled SENT before the call and CONFIRMED
    # once HubSpot answers, so a worker killed between the two leaves "sent, unconfirmed".
    status = models.CharField(
        max_length=10, choices=SyncChangeStatus.choices, default=SyncChangeStatus.APPLIED
    )
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_syncchange"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["account", "-at"], name="hubspot_change_account_at"),
            models.Index(fields=["-at"], name="hubspot_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id}.{self.field}: {self.new_value}"


class WebhookEvent(models.Model):
    """One event of a HubSpot webhook delivery, stored before we answer.

    `dedupe_key` is a hash of what the event says (HubSpot's eventId is not unique and
    retries resend events), so a repeated event is dropped by the insert itself."""

    dedupe_key = models.CharField(max_length=64, unique=True)
    subscription_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=32)
    occurred_ms = models.BigIntegerField()
    portal_id = models.CharField(max_length=32, blank=True)
    change_source = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "accounts_webhookevent"
        ordering = ["occurred_ms", "id"]
        indexes = [
            models.Index(fields=["processed_at", "occurred_ms"], name="hubspot_webhook_pending")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_type} {self.object_id} @ {self.occurred_ms}"


# -- two-way sync (accounts/hubspot/twoway.py) --------------------------------------------


class FieldRule(models.Model):
    """Who owns one synced account field (see accounts/hubspot/rules/fields.py for the fields
    and their defaults): HubSpot (pull only), Lifecycle (push only) or both, with a
    policy for edits on both sides since the last agreed value."""

    class Owner(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot (pull only)"
        LIFECYCLE = "lifecycle", "Lifecycle (push only)"
        TWO_WAY = "two_way", "Two-way"

    class Policy(models.TextChoices):
        LATEST = "latest", "Latest change wins"
        ASK = "ask", "Ask a person"

    field = models.CharField(max_length=40, unique=True)
    property = models.CharField("HubSpot property", max_length=100)
    owner = models.CharField(max_length=10, choices=Owner.choices)
    policy = models.CharField(max_length=10, choices=Policy.choices, default=Policy.LATEST)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "accounts_fieldrule"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.field} <-> {self.property} ({self.owner})"


class SyncState(models.Model):
    """Per linked account: per synced field, both sides as sync knows them (`fields`: one
    `FieldSync` each, keyed by rule key: the agreed base and when, HubSpot's value as
    last seen with when and by whom it was set, and what we last wrote), plus the
    record's modified time. Sync compares both sides with the base, so a crash loses
    nothing: the next pass sees the same differences."""

    # About the linked record, not the customer: stays when accounts merge.
    account_merge_stays = True

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="hubspot_state"
    )
    fields = FieldStatesField(default=dict, blank=True)
    remote_ms = models.BigIntegerField(default=0)
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_failures = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_syncstate"

    def __str__(self) -> str:
        return f"sync state of account {self.account_id}"


class SyncConflict(models.Model):
    """Both sides changed one two-way field to different values (policy: ask), or a
    HubSpot edit arrived that our later write had already overwritten. Waits for a
    person; the resolution is written to whichever side needs it and journaled."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    # About the linked record, not the customer: stays when accounts merge.
    account_merge_stays = True

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="hubspot_conflicts"
    )
    field = models.CharField(max_length=40)
    base_value = models.TextField(blank=True)
    ours = models.TextField(blank=True)
    ours_at = models.DateTimeField(null=True, blank=True)
    ours_by = models.CharField(max_length=200, blank=True)
    theirs = models.TextField(blank=True)
    theirs_at = models.DateTimeField(null=True, blank=True)
    theirs_by = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_syncconflict"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "field"],
                condition=models.Q(status="open"),
                name="hubspot_conflict_one_open_per_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}.{self.field}: {self.ours!r} vs {self.theirs!r}"


class Drift(models.Model):
    """What a reconciliation found different between HubSpot and Lifecycle: every
    account whose values differ, with the reason as far as sync knows it (a push due or
    retrying, a refusal, an open conflict, a HubSpot edit not yet read, or none)."""

    class Kind(models.TextChoices):
        FIELDS = "fields", "Fields differ"
        MISSING_HERE = "missing_here", "In HubSpot, not linked here"
        MISSING_THERE = "missing_there", "Linked here, gone from HubSpot"

    account_merge_stays = True  # about the linked record: stays when accounts merge

    class Reason(models.TextChoices):
        PUSH_REFUSED = "push_refused", "HubSpot refused our write (see sync issues)"
        PUSH_RETRYING = "push_retrying", "Push failed for a transient reason; retried by itself"
        PUSH_DUE = "push_due", "Changed in Lifecycle; the next push writes it"
        CONFLICT = "conflict", "Changed on both sides; waits in the conflict inbox"
        NOT_READ = "not_read", "Changed in HubSpot since sync last read it"
        UNEXPLAINED = "unexplained", "Sync is not working on it"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="drifts")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    reason = models.CharField(max_length=15, choices=Reason.choices, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hubspot_id = models.CharField(max_length=32)
    # {field key: [ours, HubSpot's]} for Kind.FIELDS
    fields = models.JSONField(default=dict, blank=True)
    found_at = models.DateTimeField(default=timezone.now)
    repaired_at = models.DateTimeField(null=True, blank=True)
    repaired_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "accounts_drift"
        ordering = ["-found_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.hubspot_id}"
