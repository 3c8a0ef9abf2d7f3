from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    path("alerts/<int:pk>/close/", views.alert_close, name="close"),
    path("alerts/rules/", views.rule_list, name="rules"),
    path("alerts/rules/new/", views.rule_edit, name="rule_create"),
    path("alerts/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("alerts/rules/run/", views.rules_run, name="rules_run"),
    path("expansion/", views.signal_list, name="signals"),
    path("expansion/hints/", views.expansion_hint_edit, name="hints"),
    path("expansion/<int:pk>/follow-up/", views.signal_follow_up, name="signal_follow_up"),
    path("accounts/<int:pk>/expansion/new/", views.signal_raise, name="signal_raise"),
]
