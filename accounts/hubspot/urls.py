"""The HubSpot pages, included under /hubspot/ by lifecycle/urls.py when the app is installed."""

from django.urls import path

from . import views, views_twoway

app_name = "hubspot"

urlpatterns = [
    path("", views.status, name="status"),
    path("import/", views.import_start, name="import_start"),
    path("sync/", views.sync_start, name="sync_start"),
    path("owners/<int:pk>/", views.owner_map, name="owner_map"),
    path("issues/", views.issues, name="issues"),
    path("issues/retry/", views.issues_retry, name="issues_retry"),
    path("issues/<int:pk>/link/", views.issue_link, name="issue_link"),
    path("issues/<int:pk>/new/", views.issue_create_new, name="issue_create_new"),
    path("journal/", views.journal, name="journal"),
    path("journal/account/<int:pk>/", views.account_journal, name="account_journal"),
    path("webhooks/", views.webhook_receive, name="webhooks"),
    path("fields/", views_twoway.field_rules, name="field_rules"),
    path("fields/provision/", views_twoway.provision_start, name="provision_start"),
    path("conflicts/", views_twoway.conflicts, name="conflicts"),
    path("replay/", views_twoway.replay_start, name="replay_start"),
    path("drift/", views_twoway.drift, name="drift"),
    path("drift/reconcile/", views_twoway.reconcile_start, name="reconcile_start"),
    path("drift/<int:pk>/repair/", views_twoway.drift_repair, name="drift_repair"),
    path(
        "conflicts/<int:pk>/resolve/",
        views_twoway.conflict_resolve,
        name="conflict_resolve",
    ),
]
