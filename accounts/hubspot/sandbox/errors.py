"""HubSpot-shaped error bodies, raised inside handlers and rendered by the app."""

from __future__ import annotations

import uuid
from typing import Any


def correlation_id() -> str:
    return str(uuid.uuid4())


class SandboxError(Exception):
    """An error response: status plus HubSpot's `{status, message, correlationId, category}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        category: str = "VALIDATION_ERROR",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
        }
        if self.category:
            body["category"] = self.category
        body.update(self.extra)
        return body


def not_found(object_type: str, object_id: str) -> SandboxError:
    return SandboxError(
        404,
        f"resource not found: {object_type} {object_id}",
        category="OBJECT_NOT_FOUND",
    )


def too_many_inputs(limit: int, got: int) -> SandboxError:
    return SandboxError(
        400,
        f"Too many inputs: the limit is {limit}, {got} were provided.",
        category="VALIDATION_ERROR",
        extra={"context": {"limit": [str(limit)]}},
    )


def item_error(category: str, message: str, **context: list[str]) -> dict[str, Any]:
    """One entry of a batch response's `errors[]` (all StandardError fields present)."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "links": {},
        "errors": [],
    }
