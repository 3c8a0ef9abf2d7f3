from django.urls import path

from . import token_views, views

app_name = "accounts"

urlpatterns = [
    path("accounts/new/", views.account_create, name="create"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:pk>/stage/", views.account_stage, name="stage"),
    path("accounts/<int:pk>/reassign/", views.account_reassign, name="reassign"),
    path("accounts/<int:pk>/contacts/new/", views.contact_edit, name="contact_create"),
    path("accounts/<int:pk>/contacts/<int:contact_pk>/", views.contact_edit, name="contact_edit"),
    path("accounts/<int:pk>/deals/new/", views.deal_edit, name="deal_create"),
    path("accounts/<int:pk>/deals/<int:deal_pk>/", views.deal_edit, name="deal_edit"),
    path("imports/<str:kind>/new/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_preview, name="import_preview"),
    path("imports/<int:pk>/skipped.csv", views.import_skipped, name="import_skipped"),
    path("settings/api-tokens/", token_views.api_tokens, name="api_tokens"),
    path(
        "settings/api-tokens/<int:pk>/revoke/",
        token_views.api_token_revoke,
        name="api_token_revoke",
    ),
]
