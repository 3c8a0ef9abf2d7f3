from django.urls import path

from . import views, views_twoway

app_name = "hubspot"

urlpatterns = [
    path("hubspot/", views.status, name="status"),
    path("hubspot/import/", views.import_start, name="import_start"),
    path("hubspot/sync/", views.sync_start, name="sync_start"),
    path("hubspot/owners/<int:pk>/", views.owner_map, name="owner_map"),
    path("hubspot/issues/", views.issues, name="issues"),
    path("hubspot/issues/retry/", views.issues_retry, name="issues_retry"),
    path("hubspot/issues/<int:pk>/link/", views.issue_link, name="issue_link"),
    path("hubspot/issues/<int:pk>/new/", views.issue_create_new, name="issue_create_new"),
    path("hubspot/journal/", views.journal, name="journal"),
    path("hubspot/journal/account/<int:pk>/", views.account_journal, name="account_journal"),
    path("hubspot/webhooks/", views.webhook_receive, name="webhooks"),
    path("hubspot/fields/", views_twoway.field_rules, name="field_rules"),
    path("hubspot/fields/provision/", views_twoway.provision_start, name="provision_start"),
    path("hubspot/conflicts/", views_twoway.conflicts, name="conflicts"),
    path("hubspot/replay/", views_twoway.replay_start, name="replay_start"),
    path("hubspot/drift/", views_twoway.drift, name="drift"),
    path("hubspot/drift/reconcile/", views_twoway.reconcile_start, name="reconcile_start"),
    path("hubspot/drift/<int:pk>/repair/", views_twoway.drift_repair, name="drift_repair"),
    path(
        "hubspot/conflicts/<int:pk>/resolve/",
        views_twoway.conflict_resolve,
        name="conflict_resolve",
    ),
]
