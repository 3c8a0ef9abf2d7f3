from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lifecycle.ops import health

from . import views, views_metrics

handler403 = "lifecycle.views.permission_denied"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.settings_home, name="settings"),
    path("accounts/", views.portfolio, name="portfolio"),
    path("accounts/export.csv", views.portfolio_export, name="portfolio_export"),
    path("accounts/<int:pk>/", views.account_overview, name="account"),
    path("metrics/", views_metrics.metrics_dashboard, name="metrics"),
    path("metrics/export.csv", views_metrics.metrics_export, name="metrics_export"),
    path("metrics/<slug:metric>/", views_metrics.metrics_drill, name="metrics_drill"),
    path(
        "metrics/<slug:metric>/export.csv",
        views_metrics.metrics_drill_export,
        name="metrics_drill_export",
    ),
    path("", include("accounts.urls")),
    path("", include("success.health.urls")),
    path("", include("success.alerts.urls")),
    path("", include("success.playbooks.urls")),
    path("onboarding/", include("onboarding.urls")),
    path("", include("success.urls")),
    path("notifications/", include("lifecycle.notifications.urls")),
    path("api/", include("lifecycle.api_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_BARE_VIEW:
    # The yardstick bench_pages measures every page against: the same middleware
    # (session, user, CSRF, messages...), no query of its own, no template.
    urlpatterns.append(path("_bench/bare/", views.bench_bare, name="bench_bare"))

# The HubSpot integration is a plug-in app: its pages exist only when it is installed.
if apps.is_installed("accounts.hubspot"):
    urlpatterns.append(path("hubspot/", include("accounts.hubspot.urls")))
