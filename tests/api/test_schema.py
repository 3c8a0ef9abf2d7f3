"""/api/schema/ and /api/docs/."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.test import APIClient


def test_schema_is_openapi_3_with_every_endpoint(viewer: Any, api_as: Any) -> None:
    response = api_as(viewer).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/",
        "/api/v1/accounts/{id}/stage/",
        "/api/v1/usage-snapshots/",
        "/api/v1/onboarding-plans/",
        "/api/v1/onboarding-plans/{id}/",
        "/api/v1/onboarding-milestones/{id}/",
        "/api/v1/onboarding-milestones/{id}/complete/",
        "/api/v1/success-plans/",
        "/api/v1/success-plans/{id}/",
        "/api/v1/objectives/{id}/",
        "/api/v1/objectives/{id}/progress/",
        "/api/v1/business-reviews/",
        "/api/v1/business-reviews/{id}/",
        "/api/v1/renewals/",
        "/api/v1/renewals/{id}/",
        "/api/v1/renewals/{id}/forecast/",
        "/api/v1/health-scores/",
        "/api/v1/health-scores/{id}/",
        "/api/v1/accounts/{id}/health/",
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/",
        "/api/v1/expansion-signals/",
        "/api/v1/expansion-signals/{id}/",
        "/api/v1/playbook-runs/",
        "/api/v1/playbook-runs/{id}/",
        "/api/v1/playbook-steps/{id}/",
        "/api/v1/playbook-steps/{id}/complete/",
        "/api/v1/playbook-steps/{id}/skip/",
    }
    ingest = schema["paths"]["/api/v1/usage-snapshots/"]["post"]
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(ingest["responses"])
    assert "Retry-After" in ingest["responses"]["429"]["headers"]
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_schema_needs_credentials() -> None:
    assert APIClient().get("/api/schema/").status_code == 401


def test_docs_are_served_from_our_own_static_files(client: Any, viewer: Any) -> None:
    client.force_login(viewer)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in s for s in sources)
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))]


def test_docs_send_anonymous_visitors_to_sign_in(client: Any) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# Values at the edges of what each query parameter accepts. For each, the schema and
# the API must agree: accepted by one, accepted by the other (issue 23, item 12).
EDGE_VALUES = {
    "account": ["0", "1", "-1", "9223372036854775808", ""],
    "rule": ["0", "1", ""],
    "owner": ["me", "none", "7", "abc", "", "1234567890123456789"],
    "page_size": ["0", "1", "1000", "1001", "x", ""],
    "updated_since": ["", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z"],
    "date_from": ["", "2026-01-01", "9999-12-31"],
    "renewal_to": ["", "2999-12-31", "3000-01-01"],
    "ordering": ["", "id", "nope"],
}


def _schema_accepts(parameter: dict[str, Any], value: str) -> bool:
    import jsonschema

    if value == "":
        return bool(parameter.get("allowEmptyValue"))
    schema = parameter["schema"]
    typed: Any = value
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?[0-9]+", value):
            return False
        typed = int(value)
    return jsonschema.Draft4Validator(schema).is_valid(typed)


def test_schema_accepts_exactly_the_query_values_the_api_accepts(viewer: Any, api_as: Any) -> None:
    client = api_as(viewer)
    schema = client.get("/api/schema/?format=json").json()
    checked = 0
    for path, item in schema["paths"].items():
        if "{" in path or "get" not in item:
            continue
        for parameter in item["get"].get("parameters", []):
            for value in EDGE_VALUES.get(parameter["name"], []):
                response = client.get(path, {parameter["name"]: value})
                assert response.status_code in (200, 400), (path, parameter["name"], value)
                api = response.status_code == 200
                assert api == _schema_accepts(parameter, value), (
                    path,
                    parameter["name"],
                    value,
                    response.content[:200],
                )
                checked += 1
    assert checked > 150


def test_usage_ingestion_schema_bounds_the_rows(viewer: Any, api_as: Any) -> None:
    schema = api_as(viewer).get("/api/schema/?format=json").json()
    rows = schema["components"]["schemas"]["UsageIngestRequest"]["properties"]["rows"]
    assert (rows["minItems"], rows["maxItems"]) == (1, 5000)
