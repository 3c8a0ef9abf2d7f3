"""The REST API: /api/v1/ (one include per app), the OpenAPI schema and its docs.

Apps add their endpoints here, e.g.
`path("v1/onboarding/", include("onboarding.api.urls"))`, and reuse the
plumbing in accounts.api (token auth, pagination, throttling, error schema),
which REST_FRAMEWORK makes the default for every API view."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api.views import api_not_found

app_name = "api"

urlpatterns = [
    path("v1/", include("accounts.api.urls")),
    path("v1/", include("onboarding.api")),
    path("v1/", include("success.api.urls")),
    path("v1/", include("success.health.api")),
    path("v1/", include("success.alerts.api")),
    path("v1/", include("success.playbooks.api")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs page is for people in the browser: anonymous visitors sign in first.
    path(
        "docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
    re_path(r"", api_not_found),
]
