from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.read_all, name="read_all"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("o/<str:token>/", views.open_signed, name="open_signed"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/", views.preferences, name="preferences"),
    path("settings/", views.admin_settings, name="settings"),
    path("settings/slack/new/", views.webhook_edit, name="webhook_create"),
    path("settings/slack/<int:pk>/", views.webhook_edit, name="webhook_edit"),
    path("settings/rules/<int:rule_pk>/", views.rule_setting_edit, name="rule_setting"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
