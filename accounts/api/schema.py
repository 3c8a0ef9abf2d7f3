"""OpenAPI post-processing: every operation documents the errors it can answer,
in the shapes DRF renders them, so clients (and the schema fuzz test) can rely
on them."""

from __future__ import annotations

from typing import Any

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field name (or `non_field_errors`) to the messages about it.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request.",
        "schema": {"type": "integer"},
    }
}
ERRORS: dict[str, tuple[str, bool]] = {
    # status: (description, applies to every operation)
    "400": ("Invalid input: field errors, or a body that is not valid JSON.", True),
    "401": ("Missing, invalid or revoked credentials.", True),
    "403": ("The user's role does not allow this.", True),
    "404": ("No such object.", False),
    "405": ("Method not allowed.", True),
    "406": ("Only application/json responses are available.", True),
    "413": ("The request body is too large.", False),
    "415": ("Send the body as application/json.", False),
    "429": ("Too many requests for this token; see Retry-After.", True),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = DETAIL
    schemas["FieldErrors"] = FIELD_ERRORS
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            has_body = "requestBody" in operation
            for status, (description, always) in ERRORS.items():
                applies = (
                    always
                    or (status == "404" and "{" in path)
                    or (status in {"413", "415"} and has_body)
                )
                if not applies:
                    continue
                shapes = [_ref("FieldErrors"), _ref("ErrorDetail")] if status == "400" else []
                existing = responses.get(status)
                if existing:
                    own = existing.get("content", {}).get("application/json", {}).get("schema")
                    if own and status == "400":
                        shapes.insert(0, own)
                    elif own:
                        continue
                schema = {"anyOf": shapes} if shapes else _ref("ErrorDetail")
                responses[status] = {
                    "description": (existing or {}).get("description") or description,
                    "content": {"application/json": {"schema": schema}},
                }
                if status == "429":
                    responses[status]["headers"] = RETRY_AFTER
    return result
