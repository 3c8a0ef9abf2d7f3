from django.urls import path

from .views import my_work, plans, renewals, reviews

app_name = "success"

urlpatterns = [
    path("my-work/", my_work.my_work, name="my_work"),
    path("accounts/<int:pk>/plan/", plans.plan, name="plan"),
    path("accounts/<int:pk>/plan/new/", plans.plan_create, name="plan_create"),
    path("accounts/<int:pk>/tasks/new/", plans.task_create, name="task_create"),
    path("accounts/<int:pk>/reviews/new/", reviews.review_create, name="review_create"),
    path("plans/<int:plan_pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:plan_pk>/share/", plans.plan_share, name="plan_share"),
    path("plans/<int:plan_pk>/objectives/new/", plans.objective_create, name="objective_create"),
    path("objectives/<int:pk>/value/", plans.objective_value, name="objective_value"),
    path("objectives/<int:pk>/status/", plans.objective_status, name="objective_status"),
    path("tasks/<int:pk>/done/", plans.task_done, name="task_done"),
    path("shared/plans/<str:token>/", plans.shared_plan, name="shared_plan"),
    path("reviews/<int:pk>/", reviews.review, name="review"),
    path("reviews/<int:pk>/hold/", reviews.review_hold, name="review_hold"),
    path("reviews/<int:pk>/cancel/", reviews.review_cancel, name="review_cancel"),
    path("renewals/", renewals.renewals, name="renewals"),
    path("renewals/export.csv", renewals.renewals_export, name="renewals_export"),
    path("renewals/<int:pk>/", renewals.renewal, name="renewal"),
    path("renewals/<int:pk>/forecast/", renewals.renewal_forecast, name="renewal_forecast"),
    path("renewals/<int:pk>/close/", renewals.renewal_close, name="renewal_close"),
    path(
        "renewals/<int:pk>/deal/recreate/",
        renewals.renewal_deal_recreate,
        name="renewal_deal_recreate",
    ),
]
