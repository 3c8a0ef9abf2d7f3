"""The HubSpot pages, included under /hubspot/ by lifecycle/urls.py when the app is installed."""

from django.urls import path

from accounts.hubspot.views import sync_runs, two_way

app_name = "hubspot"

urlpatterns = [
    path("", sync_runs.status, name="status"),
    path("import/", sync_runs.import_start, name="import_start"),
    path("sync/", sync_runs.sync_start, name="sync_start"),
    path("owners/<int:pk>/", sync_runs.owner_map, name="owner_map"),
    path("issues/", sync_runs.issues, name="issues"),
    path("issues/retry/", sync_runs.issues_retry, name="issues_retry"),
    path("issues/<int:pk>/link/", sync_runs.issue_link, name="issue_link"),
    path("issues/<int:pk>/new/", sync_runs.issue_create_new, name="issue_create_new"),
    path("issues/<int:pk>/owner/", sync_runs.owner_issue_map, name="owner_issue_map"),
    path("journal/", sync_runs.journal, name="journal"),
    path("journal/account/<int:pk>/", sync_runs.account_journal, name="account_journal"),
    path("webhooks/", sync_runs.webhook_receive, name="webhooks"),
    path("fields/", two_way.field_rules, name="field_rules"),
    path("fields/provision/", two_way.provision_start, name="provision_start"),
    path("conflicts/", two_way.conflicts, name="conflicts"),
    path("replay/", two_way.replay_start, name="replay_start"),
    path("drift/", two_way.drift, name="drift"),
    path("drift/reconcile/", two_way.reconcile_start, name="reconcile_start"),
    path("drift/<int:pk>/repair/", two_way.drift_repair, name="drift_repair"),
    path(
        "conflicts/<int:pk>/resolve/",
        two_way.conflict_resolve,
        name="conflict_resolve",
    ),
]
