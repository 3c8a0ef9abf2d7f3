"""Property values as HubSpot checks and stores them (docs/hubspot-facts.md, "Values").

Every value is a string once stored. Writes are checked against the property's type:
numbers must be numbers (and are stored normalised, "1500.00" -> "1500"), booleans
"true"/"false", datetimes epoch milliseconds or ISO 8601 (stored and returned as ISO),
dates midnight UTC (returned as YYYY-MM-DD), enumerations one of their options, a deal's
stage one of its pipeline's. Since April 2025 HubSpot also refuses surrounding spaces on
any non-string value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .clock import iso_from_ms, ms_from_text

DAY_MS = 86_400_000


class InvalidValue(Exception):
    """One property value HubSpot would refuse: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def as_text(raw: Any) -> str:
    """A JSON value as the string HubSpot receives (true -> "true", null -> "")."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return str(raw).lower()
    return str(raw)


def _number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValue("INVALID_INTEGER", f"{text} was not a valid number.") from None
    if not number.is_finite():
        raise InvalidValue("INVALID_INTEGER", f"{text} was not a valid number.")
    normal = number.normalize()
    return "0" if normal.is_zero() else format(normal, "f")


def _instant(text: str, code: str) -> int:
    ms = ms_from_text(text)
    if ms is None:
        raise InvalidValue(code, f"{text} was not a valid long.")
    return ms


def _date(text: str) -> str:
    ms = _instant(text, "INVALID_DATE")
    at = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % DAY_MS:
        clock = at.strftime("%H:%M:%S.") + f"{ms % 1000:03d}"
        raise InvalidValue("INVALID_DATE", f"{text} is at {clock} UTC, not midnight!")
    return at.date().isoformat()


def _options(prop: dict[str, Any], text: str) -> str:
    allowed = [str(o["value"]) for o in prop.get("options") or []]
    for value in text.split(";"):
        if value not in allowed:
            raise InvalidValue(
                "INVALID_OPTION",
                f"{value} was not one of the allowed options: [{', '.join(allowed)}]",
            )
    return text


def coerce(prop: dict[str, Any], raw: Any) -> str:
    """The stored form of `raw` for `prop`, or InvalidValue. "" clears any property."""
    text = as_text(raw)
    kind = prop.get("type", "string")
    if text == "" or kind in {"string", "phone_number"}:
        return text
    if text != text.strip():
        raise InvalidValue(
            "INVALID_PROPERTY_VALUE", f"{text!r} has leading or trailing whitespace."
        )
    if kind == "number":
        return _number(text)
    if kind == "bool":
        if text.lower() not in {"true", "false"}:
            raise InvalidValue("INVALID_BOOLEAN", f"{text} was not a valid boolean.")
        return text.lower()
    if kind == "datetime":
        return iso_from_ms(_instant(text, "INVALID_DATETIME"))
    if kind == "date":
        return _date(text)
    if kind == "enumeration":
        return _options(prop, text)
    return text


def stage_problem(pipelines: list[dict[str, Any]], pipeline: str, stage: str) -> str | None:
    """Why a deal may not sit in `stage` of `pipeline` ("" pipeline: the default one)."""
    found = next((p for p in pipelines if p["id"] == (pipeline or "default")), None)
    if found is None:
        return f"{pipeline} is not a valid pipeline."
    if stage and stage not in {s["id"] for s in found["stages"]}:
        return f"{stage} is not a valid dealstage for pipeline {found['id']}."
    return None


def validation_body(problems: list[tuple[str, str, str, str]]) -> tuple[str, dict[str, Any]]:
    """HubSpot's message and `errors` for invalid values: (code, name, message, value)."""
    details = [
        {
            "isValid": False,
            "message": message,
            "error": code,
            "name": name,
            "localizedErrorMessage": message,
            "propertyValue": value,
        }
        for code, name, message, value in problems
    ]
    message = f"Property values were not valid: {json.dumps(details, separators=(',', ':'))}"
    errors = [
        {"message": message_, "code": code, "context": {"propertyName": [name]}}
        for code, name, message_, _ in problems
    ]
    return message, {"errors": errors}
