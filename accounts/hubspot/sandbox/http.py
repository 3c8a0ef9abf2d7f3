"""Request and response values passed between the HTTP server and the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import SandboxError, too_many_inputs


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    base_url: str = ""

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def flag(self, name: str) -> bool:
        return self.arg(name, "false").lower() == "true"

    def json(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise SandboxError(400, "Invalid input JSON: expected an object")
        return self.body


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def inputs(body: dict[str, Any], *, limit: int) -> list[dict[str, Any]]:
    """A batch body's `inputs`, or HubSpot's 400 when there are more than `limit`."""
    items = body.get("inputs")
    if not isinstance(items, list):
        raise SandboxError(400, "Invalid input JSON: inputs must be a list")
    if len(items) > limit:
        raise too_many_inputs(limit, len(items))
    return items
