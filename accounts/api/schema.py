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


# What the filters, pagination and validators accept, where drf-spectacular cannot see
# it (custom filter fields, the date range, list bounds checked in to_internal_value).
YEAR_IN_RANGE = r"^(19[0-9]{2}|2[0-9]{3})-"  # accounts.dates: 1900-01-01..2999-12-31
QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "account": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "rule": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "owner": {"type": "string", "pattern": r"^(me|none|[0-9]{1,18})$"},
    "hubspot_id": {"type": "string", "maxLength": 32},
    # accounts.models.domain_clean: a host name, or a web address on it.
    "domain": {
        "type": "string",
        "maxLength": 253,
        "pattern": r"^(https?://)?([a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\.){1,3}[a-z]{2,10}/?$",
    },
    # Opaque: only what a `next` or `previous` link carries is accepted.
    "cursor": {
        "type": "string",
        "description": "The cursor of a `next` or `previous` link, unchanged.",
    },
}


def _bound_dates(schema: Any) -> None:
    """Every date and date-time in a schema, however nested, carries the year range."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and schema.get("format") in ("date", "date-time"):
            schema["pattern"] = YEAR_IN_RANGE
        for value in schema.values():
            _bound_dates(value)
    elif isinstance(schema, list):
        for value in schema:
            _bound_dates(value)


def describe_accepted_input(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Make the schema say what the API accepts, so clients and the conformance checks
    of the schema fuzz test agree with it: an empty optional query parameter counts as
    absent (except `ordering`, which must name a field); ids start at 1; `owner` is an
    id, `me` or `none`; `page_size` is 1..max; dates lie in the accepted range; usage
    ingestion takes 1..API_USAGE_INGEST_MAX_ROWS rows."""
    from django.conf import settings

    from .pagination import ApiCursorPagination

    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                name = parameter["name"]
                if name in QUERY_SCHEMAS:
                    parameter["schema"] = dict(QUERY_SCHEMAS[name])
                if name == ApiCursorPagination.page_size_query_param:
                    parameter["schema"] = {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": ApiCursorPagination.max_page_size,
                    }
                if not parameter.get("required") and name != "ordering":
                    parameter["allowEmptyValue"] = True
                _bound_dates(parameter.get("schema"))
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request"):  # what comes in; answers may carry older dates
            _bound_dates(schema)
        rows = schema.get("properties", {}).get("rows")
        if name.startswith("UsageIngest") and name.endswith("Request") and rows:
            rows["minItems"] = 1
            rows["maxItems"] = settings.API_USAGE_INGEST_MAX_ROWS
    return result
