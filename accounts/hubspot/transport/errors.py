"""Our own HubSpot error, and how to read one out of hubspot-api-client's exceptions."""

from __future__ import annotations

import json
from typing import Any


class HubSpotError(Exception):
    """A failed HubSpot call, after any retries.

    `status` is the HTTP status (0 for connection errors and timeouts); `category` is
    HubSpot's (`VALIDATION_ERROR`, `RATE_LIMITS`, ...) or ours (`CONNECTION`,
    `DAILY_BUDGET`); `policy_name` is set on rate-limit answers.
    """

    def __init__(
        self,
        *,
        status: int,
        message: str,
        correlation_id: str = "",
        category: str = "",
        policy_name: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        reference = f" (correlationId {correlation_id})" if correlation_id else ""
        super().__init__(f"HubSpot {status} {category or policy_name}: {message}{reference}")
        self.status = status
        self.message = message
        self.correlation_id = correlation_id
        self.category = category
        self.policy_name = policy_name
        self.body = body or {}

    @classmethod
    def from_response(cls, status: int, raw: bytes | str | None) -> HubSpotError:
        """Build from a status and a (maybe non-JSON) HubSpot error body."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=status,
            message=str(body.get("message") or text[:200] or f"HTTP {status}"),
            correlation_id=str(body.get("correlationId", "")),
            category=str(body.get("category", "") or body.get("errorType", "")),
            policy_name=str(body.get("policyName", "")),
            body=body,
        )

    @property
    def is_daily_limit(self) -> bool:
        return self.status == 429 and self.policy_name == "DAILY"

    @property
    def is_search_secondly_limit(self) -> bool:
        return (
            self.status == 429
            and (self.category == "RATE_LIMITS" or "secondly limit" in self.message)
            and not self.policy_name
        )

    @property
    def is_ten_secondly_limit(self) -> bool:
        return self.status == 429 and not self.is_daily_limit and not self.is_search_secondly_limit
