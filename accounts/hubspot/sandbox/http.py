"""Request and response values passed between the HTTP server and the handlers."""

from __future__ import annotations

from collections.abc import Sequence
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


def missing_fields(model: str, missing: Sequence[str]) -> SandboxError:
    """HubSpot's 400 for a body without a field its schema requires."""
    return SandboxError(
        400,
        f"Invalid input JSON on line 1, column 1: Cannot build {model}, some of required "
        f"attributes are not set [{', '.join(missing)}]",
        category="VALIDATION_ERROR",
    )


def require(body: Any, fields: Sequence[str], *, model: str) -> None:
    """Every field of `fields` present (null counts as missing), or HubSpot's 400."""
    if not isinstance(body, dict):
        raise SandboxError(400, f"Invalid input JSON: {model} must be an object")
    missing = [name for name in fields if body.get(name) is None]
    if missing:
        raise missing_fields(model, missing)


def inputs(
    body: dict[str, Any],
    *,
    limit: int,
    required: Sequence[str] = (),
    model: str = "BatchInput",
    body_required: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """A batch body's `inputs` (each with its `required` fields), or HubSpot's 400 when
    a field is missing or there are more than `limit`."""
    require(body, ("inputs", *body_required), model=model)
    items = body["inputs"]
    if not isinstance(items, list):
        raise SandboxError(400, "Invalid input JSON: inputs must be a list")
    if len(items) > limit:
        raise too_many_inputs(limit, len(items))
    for item in items:
        require(item, required, model=model)
    return items
