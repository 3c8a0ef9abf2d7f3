"""One Lifecycle against one sandbox portal, driven in-process and deterministically.

- Time: both sides read one wall clock that the test shifts (`time_machine`, ticking), so
  "the later real edit" is a fact of one clock, backoffs and breaker cooldowns pass
  without waiting, and the sandbox's rate-limit windows refill when the client waits.
- Webhooks: the sandbox's own dispatcher builds each event (its payload, `changeSource`,
  `sourceId`), but it is never started: the events are taken from its queue after each
  operation and the test decides their fate with its seeded generator (held back for a
  few deliveries, duplicated, reordered in their batch, or dropped), then signs each batch
  and posts it to the real receiver view, which applies it inline (tasks are sync in tests).
- HubSpot's faults: the sandbox's fault queue (429, 502/503, dropped connections, slow
  answers past the client's read timeout) aimed at the next calls.
- A worker kill: `WorkerKilled` (a BaseException, as the process dying is nothing the
  code can catch) raised right after the Nth HubSpot call of a pass returns, so what that
  call wrote stays written and what the pass had not committed is rolled back.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from accounts.hubspot import tasks
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.webhooks import (
    WebhookDispatcher,
    WebhookSettings,
    signature_v3,
)
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.http_retries import Caller, RetryPolicy

WEBHOOK_PATH = "/hubspot/webhooks/"
WEBHOOK_URI = f"http://testserver{WEBHOOK_PATH}"  # what the view rebuilds from the request
WRITES = ("/batch/update", "/batch/create", "/batch/upsert", "/merge")


class WorkerKilled(BaseException):
    """The worker running a pass died: nothing in the code catches this."""


class KillingCaller(Caller):
    """The client's caller, able to die right after its Nth call returns."""

    kill_after: int | None = None
    made: int = 0

    def __call__(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        outcome = super().__call__(method, *args, **kwargs)
        self.made += 1
        if self.kill_after is not None and self.made >= self.kill_after:
            self.kill_after = None
            raise WorkerKilled(f"worker killed after HubSpot call {self.made} of the pass")
        return outcome


@dataclass
class Held:
    """A webhook event on its way: delivered once `wait` deliveries have passed."""

    event: dict[str, Any]
    wait: int


@dataclass
class WebhookChannel:
    """Between the sandbox's dispatcher and our receiver view, with seeded faults."""

    rng: random.Random
    secret: str
    dispatcher: WebhookDispatcher
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay_rate: float = 0.0
    reorder: bool = False
    held: list[Held] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def collect(self) -> int:
        """Take what the dispatcher queued since last time; decide each event's fate."""
        with self.dispatcher._cond:
            pending, self.dispatcher._pending = self.dispatcher._pending, []
        for _, event in pending:
            self.counts["webhook events made"] += 1
            if self.rng.random() < self.drop_rate:
                self.counts["webhook events dropped"] += 1
                continue
            copies = 2 if self.rng.random() < self.duplicate_rate else 1
            self.counts["webhook events duplicated"] += copies - 1
            for _ in range(copies):
                wait = self.rng.randint(1, 4) if self.rng.random() < self.delay_rate else 0
                self.counts["webhook events delayed"] += bool(wait)
                self.held.append(Held(dict(event), wait))
        return len(pending)

    def deliver(self, web: Client, *, everything: bool = False) -> int:
        """Post the events that are due (all with `everything`) to the receiver, in
        batches of up to 100, shuffled when reordering is on."""
        self.collect()
        due = [h for h in self.held if everything or h.wait <= 0]
        for h in self.held:
            h.wait -= 1
        self.held = [h for h in self.held if h not in due]
        events = [h.event for h in due]
        if self.reorder:
            self.rng.shuffle(events)
        for start in range(0, len(events), 100):
            body = json.dumps(events[start : start + 100])
            stamp = str(int(time.time() * 1000))
            signature = signature_v3(
                secret=self.secret, method="POST", uri=WEBHOOK_URI, body=body, timestamp=stamp
            )
            try:
                response = web.post(
                    WEBHOOK_PATH,
                    body,
                    content_type="application/json",
                    headers={
                        "X-HubSpot-Signature-v3": signature,
                        "X-HubSpot-Request-Timestamp": stamp,
                    },
                )
            except HubSpotError:
                # The apply task the view queued met HubSpot's trouble: tasks run inline
                # in tests, so it surfaces here; a worker would have failed it after the
                # view answered. The events are stored; a later pass applies them.
                self.counts["webhook apply tasks failed"] += 1
            else:
                assert response.status_code == 204, (response.status_code, response.content)
            self.counts["webhook deliveries"] += 1
        return len(events)


def webhook_channel(
    sandbox: Sandbox, rng: random.Random, *, secret: str, properties: list[str], seed: int
) -> WebhookChannel:
    """A dispatcher of the sandbox's own kind that is never started, subscribed as our
    app is, and listening to the sandbox's store."""
    settings = WebhookSettings(target_url=WEBHOOK_URI, client_secret=secret)
    dispatcher = WebhookDispatcher(settings, seed=seed)
    for kind in ("creation", "deletion", "merge", "restore"):
        dispatcher.subscribe(f"company.{kind}")
    for prop in properties:  # HubSpot subscribes to property changes one by one
        dispatcher.subscribe("company.propertyChange", prop)
    dispatcher.subscribe("deal.creation")
    sandbox.store.listeners.append(dispatcher.on_event)
    return WebhookChannel(rng=rng, secret=secret, dispatcher=dispatcher)


def scenario_client(
    server: SandboxServer, *, token: str, seed: int, wait: Callable[[float], None]
) -> tuple[HubSpotClient, KillingCaller]:
    """The real client, whose waits between retries move the shared clock on, and whose
    caller can be told to die after its Nth call."""
    client = HubSpotClient(
        access_token=token,
        base_url=server.url,
        timeout=(2.0, 0.5),  # a slow answer (fault "slow:0.8") is a read timeout
        # Its own draws: how many retries a pass makes must not shift the scenario's.
        policy=RetryPolicy(max_attempts=3, backoff_base=0.5, jitter=random.Random(seed).random),
        sleep=wait,
    )
    caller = client._call
    caller.__class__ = KillingCaller
    assert isinstance(caller, KillingCaller)
    return client, caller


def hubspot_writes(server: SandboxServer) -> int:
    return sum(
        n
        for (method, path), n in server.calls.items()
        if method in ("PATCH", "DELETE") or (method == "POST" and path.endswith(WRITES))
    )


def hubspot_calls(server: SandboxServer) -> int:
    return sum(n for (_, path), n in server.calls.items() if not path.startswith("/_sandbox"))


# The passes a worker runs, as the schedule and the webhook view queue them.
PASSES: dict[str, Callable[[], None]] = {
    "events": tasks.hubspot_events_apply,
    "poll": tasks.hubspot_poll,
    "push": tasks.hubspot_push,
    "sweep": tasks.hubspot_archived_sweep,
}
