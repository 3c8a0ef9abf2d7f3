"""django-q2 tasks of the HubSpot sync: thin, take ids, call one engine function."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts.hubspot import services, twoway
from accounts.hubspot.inbound.importer import import_run
from accounts.hubspot.inbound.poller import archived_sweep, poll_run
from accounts.hubspot.models import SyncRun
from accounts.hubspot.outbound.breaker import PushBreaker
from accounts.hubspot.outbound.tasks_push import tasks_push
from accounts.hubspot.repair.quarantine import issues_retry
from accounts.hubspot.rules.field_rules import Outcome
from accounts.hubspot.rules.mapping import mapping_config
from accounts.hubspot.runs import RunTaken, kind_busy
from accounts.hubspot.transport.client import HubSpotClient, client_from_settings
from accounts.hubspot.transport.errors import HubSpotError
from lifecycle.ops.queues import enqueue, enqueue_in

logger = logging.getLogger(__name__)


@contextmanager
def _unless_taken() -> Iterator[None]:
    """A duplicate delivery of a run's task (django-q2 re-delivers, the watchdog or a
    button queued it again) returns at once when another worker holds the run."""
    try:
        yield
    except RunTaken as exc:
        logger.info("HubSpot run skipped: %s", exc)


def _queued(run_id: int, kind: str) -> SyncRun | None:
    """The run a page queued, unless it is gone or already taken by another worker."""
    return SyncRun.objects.filter(pk=run_id, kind=kind, status=SyncRun.Status.QUEUED).first()


def hubspot_import(run_id: int) -> None:
    """Run or resume the full import `run_id` (the admin page or hubspot_import queues it)."""
    run = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.IMPORT).first()
    if run is None or run.status == SyncRun.Status.DONE:
        return
    with _unless_taken():
        import_run(run, client=client_from_settings(), config=mapping_config())


def hubspot_poll(run_id: int | None = None) -> None:
    """Incremental sync (scheduled every HUBSPOT_POLL_MINUTES); skipped while an
    import or another sync is running, since they would write the same rows."""
    if run_id is None:
        if kind_busy(SyncRun.Kind.POLL) or kind_busy(SyncRun.Kind.IMPORT):
            logger.info("HubSpot sync skipped: another run is in progress")
            return
        run = SyncRun.objects.create(kind=SyncRun.Kind.POLL)
    else:
        found = _queued(run_id, SyncRun.Kind.POLL)
        if found is None:
            return
        run = found
    client = client_from_settings()
    with _unless_taken():
        poll_run(run, client=client, config=mapping_config())
    # Webhook events a failed apply left behind (HubSpot was down, say) go in now.
    services.events_apply_locked(client=client, config=mapping_config())


def hubspot_archived_sweep() -> None:
    """List archived records and archive their local twins (missed deletion webhooks)."""
    run = SyncRun.objects.create(kind=SyncRun.Kind.ARCHIVED)
    archived_sweep(run, client=client_from_settings(), config=mapping_config())


def hubspot_events_apply() -> None:
    """Apply stored webhook events (queued by the webhook view, at most one pending);
    returns at once if another worker is applying (it looks again when done)."""
    cache.delete(services.APPLY_QUEUED_KEY)  # from now on a new event queues a task
    services.events_apply_locked(client=client_from_settings(), config=mapping_config())


def hubspot_runs_recover() -> None:
    """The watchdog (WORK_RECOVER_HOOKS: every minute and when a worker starts, see
    lifecycle/ops/jobs.py): resume runs whose worker died mid-run."""
    for run in services.runs_recover_queue():
        logger.warning("HubSpot %s resumed after its worker died", run)


def hubspot_issues_retry(run_id: int) -> None:
    run = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.RETRY).first()
    if run is None:
        return
    with _unless_taken():
        issues_retry(run, client=client_from_settings(), config=mapping_config())


PUSH_QUEUED_KEY = "hubspot:push-queued"
# Set by a push turned away by the lock, for the pass holding it to queue one more.
PUSH_WANTED_KEY = "hubspot:push-wanted"
PUSH_WANTED_SECONDS = 600
PROVISIONED_KEY = "hubspot:provisioned"


# A queued push that never ran (its worker died) stops holding the window after this;
# one that merely waits longer in the queue lets a second one be queued, which is
# harmless (passes take turns on the push lock and the second finds little to write).
PUSH_QUEUED_GRACE_SECONDS = 5


def push_soon(account_ids: list[int] | None = None) -> None:
    """Queue one push pass for a burst of edits: the first edit of a window queues a
    task due HUBSPOT_PUSH_DELAY_SECONDS later, the ones before it runs ride along (the
    pass reads the current values, so ten edits of one record are one write). The
    window is a key in the shared cache, so edits on every web host and worker share
    it, and no worker sleeps through it."""
    if not settings.HUBSPOT_PUSH_ENABLED or not settings.HUBSPOT_ACCESS_TOKEN:
        return
    delay = settings.HUBSPOT_PUSH_DELAY_SECONDS
    if cache.add(PUSH_QUEUED_KEY, True, timeout=delay + PUSH_QUEUED_GRACE_SECONDS):
        # django-q2's ORM broker closes "old" connections when called outside a
        # transaction, which would break a caller iterating a queryset (the renewals
        # job makes deals in a loop): enqueue inside one.
        with transaction.atomic():
            enqueue_in(
                delay,
                "accounts.hubspot.tasks.hubspot_push",
                task_name="hubspot-push",
                group="hubspot",
            )


def hubspot_push(delay: float = 0.0) -> None:
    """Push what Lifecycle changed, then keep the portal's properties provisioned. Queued
    by push_soon when its window closes, and scheduled every minute to catch bulk writes
    (the daily health job) and pushes that failed. When another pass holds the push
    lock this one hands its turn back at once: a new window is queued, which reads
    whatever that pass did not. A pass with many accounts due queues helpers that push
    some of its partitions on other workers (push_fan_out). (`delay` is ignored: tasks
    queued before 2026-11 pass it.)"""
    cache.delete(PUSH_QUEUED_KEY)
    guard = PushBreaker()
    if guard.paused():
        # HubSpot is down: what changed stays due, and the first pass after the cooldown
        # probes (outbound/breaker.py).
        logger.info("HubSpot push paused: the circuit breaker is open")
        return
    client = client_from_settings()
    client.guard = guard
    try:
        outcome = _push_locked(client)
    except HubSpotError as exc:  # provisioning met the outage; the pass itself never raises
        logger.warning("HubSpot push not run: %s", exc)
        return
    finally:
        client.guard = None
    if outcome is None:
        return
    # A pass turned away while this one ran, or one of ours that found a partition held
    # (then the holder queues the next pass when it ends), wants another.
    if not outcome.deferred and cache.get(PUSH_WANTED_KEY):
        push_soon()
    if outcome.pushed or outcome.failed:
        logger.info(
            "HubSpot push: %s companies written, %s failed, %s calls",
            outcome.pushed,
            outcome.failed,
            outcome.calls,
        )


def _push_wanted() -> None:
    cache.set(PUSH_WANTED_KEY, True, timeout=PUSH_WANTED_SECONDS)


def push_fan_out(due: int) -> None:
    """A pass with HUBSPOT_PUSH_FAN_OUT_MIN accounts due or more queues helpers: each
    idle worker that takes one pushes the partitions nobody holds yet (inline in sync
    mode, where it pushes them all before the pass goes on)."""
    if due < settings.HUBSPOT_PUSH_FAN_OUT_MIN:
        return
    for _ in range(settings.HUBSPOT_PUSH_HELPERS):
        with transaction.atomic():  # the ORM broker: see push_soon
            enqueue(
                "accounts.hubspot.tasks.hubspot_push_helper",
                task_name="hubspot-push-helper",
                group="hubspot",
            )


def hubspot_push_helper() -> None:
    """Queued by a large push pass: push the due accounts of the partitions no other
    process holds (only accounts: creates, deals and tasks stay with the pass)."""
    guard = PushBreaker()
    if guard.paused():
        return
    client = client_from_settings()
    client.guard = guard
    try:
        outcome = twoway.accounts_push(client)
    finally:
        client.guard = None
    if cache.get(PUSH_WANTED_KEY):  # a pass found a partition this helper held
        push_soon()
    if outcome.pushed or outcome.failed:
        logger.info(
            "HubSpot push helper: %s companies written, %s failed, %s calls",
            outcome.pushed,
            outcome.failed,
            outcome.calls,
        )


def _push_locked(client: HubSpotClient) -> Outcome | None:
    """Provision if due, then one push pass under the push lock; None when another pass
    holds it (this one hands its worker back at once)."""
    provisioned = f"{PROVISIONED_KEY}:{settings.HUBSPOT_BASE_URL}"  # one per portal
    if not cache.get(provisioned):
        twoway.provision(client)
        cache.set(provisioned, True, timeout=3600)
    with twoway.push_lock(wait_seconds=0) as locked:
        if not locked:
            # The running pass queues one more window when it ends, which reads what it
            # did not (and the minute's pass would anyway).
            _push_wanted()
            logger.info("HubSpot push deferred: another pass holds the lock")
            return None
        cache.delete(PUSH_WANTED_KEY)
        outcome = twoway.push_pass(client, fan_out=push_fan_out, on_deferred=_push_wanted)
        pushed_tasks = tasks_push(client)  # playbook tasks as HubSpot tasks
    if outcome.failed:
        # A refusal may be a property someone deleted in HubSpot since it was provisioned:
        # the next pass provisions again rather than trusting the hour-long mark.
        cache.delete(provisioned)
    if pushed_tasks.created or pushed_tasks.updated or pushed_tasks.failed:
        logger.info(
            "HubSpot tasks: %s created, %s found, %s updated, %s failed, %s calls",
            pushed_tasks.created,
            pushed_tasks.found,
            pushed_tasks.updated,
            pushed_tasks.failed,
            pushed_tasks.calls,
        )
    return outcome


def hubspot_provision() -> None:
    """Create or update Lifecycle's property group and properties in the portal."""
    done = twoway.provision(client_from_settings())
    logger.info("HubSpot provisioned: created %s, updated %s", done.created, done.updated)


def hubspot_replay(run_id: int) -> None:
    """Re-apply what HubSpot modified in the run's window (queued from the status page)."""
    from accounts.hubspot.repair.reconcile import replay_run

    run = _queued(run_id, SyncRun.Kind.REPLAY)
    if run is None:
        return
    with _unless_taken():
        replay_run(run, client=client_from_settings())


def hubspot_reconcile(run_id: int | None = None) -> None:
    """Compare both sides and record drift (scheduled daily; also from the drift page)."""
    from accounts.hubspot.repair.reconcile import reconcile_run

    if run_id is None:
        run = SyncRun.objects.create(kind=SyncRun.Kind.RECONCILE)
    else:
        found = _queued(run_id, SyncRun.Kind.RECONCILE)
        if found is None:
            return
        run = found
    with _unless_taken():
        reconcile_run(run, client=client_from_settings())
