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
