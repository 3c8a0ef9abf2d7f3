"""One HubSpot call with our retry rules, around hubspot-api-client's generated methods.

hubspot-api-client's urllib3 Retry skips POST and PATCH (search, batch, create,
update) and raises urllib3's own errors when spent, so we disable it and retry here:
429 ten-secondly -> wait 10 s, search secondly -> 1 s, daily -> give up at once;
5xx, 423 and connection errors -> exponential backoff.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.owners import ApiException as OwnersApiException
from hubspot.crm.pipelines import ApiException as PipelinesApiException
from hubspot.crm.properties import ApiException as PropertiesApiException

from accounts.hubspot.transport.budget import RateBudget, UnlimitedBudget
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.guard import CallGuard, NoGuard

logger = logging.getLogger(__name__)

# Every generated package has its own ApiException class; these are the ones we call.
API_EXCEPTIONS: tuple[type[Exception], ...] = (
    ObjectsApiException,
    CompaniesApiException,
    ContactsApiException,
    DealsApiException,
    OwnersApiException,
    PipelinesApiException,
    PropertiesApiException,
    AssociationsApiException,
)
CONNECTION_ERRORS: tuple[type[Exception], ...] = (urllib3.exceptions.HTTPError, OSError)
RETRIED_STATUSES = {423, 500, 502, 503, 504}


@dataclass
class RetryPolicy:
    """How long to wait, and how often to try, per kind of failure."""

    max_attempts: int = 6
    ten_secondly_wait: float = 10.0
    search_secondly_wait: float = 1.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    jitter: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Exponential, with up to 25% jitter so workers do not retry in step."""
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * (1 + 0.25 * self.jitter())


@dataclass
class Outcome:
    """A successful response: status, parsed JSON body (None for 204) and headers."""

    status: int
    body: Any
    headers: dict[str, str]


class Caller:
    """Runs calls with a timeout, the shared budget and the retry policy."""

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float],
        budget: RateBudget | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        guard: CallGuard | None = None,
    ) -> None:
        self.timeout = timeout
        self.budget = budget or UnlimitedBudget()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        # Asked before each attempt and told how it ended (a circuit breaker): a guard
        # that refuses raises CircuitOpen, which ends the retries at once.
        self.guard: CallGuard = guard or NoGuard()

    def __call__(
        self,
        method: Callable[..., Any],
        *args: Any,
        search: bool = False,
        replayable: bool = True,
        **kwargs: Any,
    ) -> Outcome:
        """`replayable=False` for writes that are not idempotent (a batch create): a
        timeout, dropped connection or 5xx may come after HubSpot applied the write, so
        only refusals that promise nothing was written (429, 423) are retried."""
        name = getattr(method, "__name__", "call")
        attempt = 0
        while True:
            self.guard.before_call()
            self.budget.acquire(search=search)
            try:
                response = method(
                    *args, _request_timeout=self.timeout, _preload_content=False, **kwargs
                )
                outcome = _outcome(response)
                self.guard.succeeded()
                return outcome
            except API_EXCEPTIONS as exc:
                status = int(getattr(exc, "status", 0) or 0)
                error = HubSpotError.from_response(status, getattr(exc, "body", None))
                if status == 0:
                    error = _connection_error(exc)
            except CONNECTION_ERRORS as exc:
                error = _connection_error(exc)
            self.guard.failed(error)
            wait = self._wait_for(error, attempt)
            if not replayable and error.status not in (423, 429):
                wait = None
            if wait is None:
                raise error
            attempt += 1
            logger.warning(
                "HubSpot %s failed (%s %s); retry %s in %.1fs",
                name,
                error.status,
                error.category or error.policy_name,
                attempt,
                wait,
            )
            self.budget.record(retried=True)
            self.sleep(wait)

    def _wait_for(self, error: HubSpotError, attempt: int) -> float | None:
        """Seconds to wait before the next try, or None to give up."""
        if error.status == 429:
            self.budget.record(rate_limited=True)
        if attempt + 1 >= self.policy.max_attempts or error.is_daily_limit:
            return None
        if error.status == 429:
            if error.is_search_secondly_limit:
                return self.policy.search_secondly_wait
            return self.policy.ten_secondly_wait
        if error.status == 0 or error.status in RETRIED_STATUSES:
            return self.policy.backoff(attempt)
        return None


def _outcome(response: Any) -> Outcome:
    raw = response.data if hasattr(response, "data") else b""
    body = json.loads(raw) if raw else None
    return Outcome(status=response.status, body=body, headers=dict(response.headers or {}))


def _connection_error(exc: Exception) -> HubSpotError:
    return HubSpotError(status=0, message=f"{type(exc).__name__}: {exc}", category="CONNECTION")
