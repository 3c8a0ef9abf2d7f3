from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("health/model/", views.model_list, name="models"),
    path("health/model/new-version/", views.model_new_version, name="model_new_version"),
    path("health/model/<int:pk>/edit/", views.model_edit, name="model_edit"),
    path("health/model/<int:pk>/preview/", views.model_preview, name="model_preview"),
    path("health/model/<int:pk>/activate/", views.model_activate, name="model_activate"),
    path("health/backtest/", views.backtest, name="backtest"),
    path("accounts/<int:pk>/health/", views.account_health, name="account"),
    path("accounts/<int:pk>/health/override/", views.override_set, name="override"),
    path("accounts/<int:pk>/health/override/end/", views.override_end, name="override_end"),
]
