from django.urls import path

from . import views

app_name = "success"

urlpatterns = [
    path("my-work/", views.my_work, name="my_work"),
    path("accounts/<int:pk>/plan/", views.plan, name="plan"),
    path("accounts/<int:pk>/plan/new/", views.plan_create, name="plan_create"),
    path("accounts/<int:pk>/tasks/new/", views.task_create, name="task_create"),
    path("accounts/<int:pk>/reviews/new/", views.review_create, name="review_create"),
    path("plans/<int:plan_pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_pk>/share/", views.plan_share, name="plan_share"),
    path("plans/<int:plan_pk>/objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/value/", views.objective_value, name="objective_value"),
    path("objectives/<int:pk>/status/", views.objective_status, name="objective_status"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("shared/plans/<str:token>/", views.shared_plan, name="shared_plan"),
    path("reviews/<int:pk>/", views.review, name="review"),
    path("reviews/<int:pk>/hold/", views.review_hold, name="review_hold"),
    path("reviews/<int:pk>/cancel/", views.review_cancel, name="review_cancel"),
    path("renewals/", views.renewals, name="renewals"),
    path("renewals/export.csv", views.renewals_export, name="renewals_export"),
    path("renewals/<int:pk>/", views.renewal, name="renewal"),
    path("renewals/<int:pk>/forecast/", views.renewal_forecast, name="renewal_forecast"),
    path("renewals/<int:pk>/close/", views.renewal_close, name="renewal_close"),
    path(
        "renewals/<int:pk>/deal/recreate/",
        views.renewal_deal_recreate,
        name="renewal_deal_recreate",
    ),
]
