from django.urls import path

from . import views

app_name = "onboarding"

urlpatterns = [
    path("", views.my_onboarding, name="my"),
    path("insights/", views.insights, name="insights"),
    path("accounts/<int:pk>/start/", views.plan_start, name="plan_start"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/milestones/new/", views.milestone_add, name="milestone_add"),
    path(
        "plans/<int:pk>/milestones/<int:mpk>/<str:action>/",
        views.milestone_action,
        name="milestone_action",
    ),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template"),
    path("templates/<int:pk>/apply/", views.template_apply, name="template_apply"),
    path("templates/<int:pk>/<str:action>/", views.template_action, name="template_action"),
    path(
        "templates/<int:pk>/milestones/new/",
        views.template_milestone_edit,
        name="template_milestone_create",
    ),
    path(
        "templates/<int:pk>/milestones/<int:mpk>/",
        views.template_milestone_edit,
        name="template_milestone_edit",
    ),
    path(
        "templates/<int:pk>/milestones/<int:mpk>/move/",
        views.template_milestone_move,
        name="template_milestone_move",
    ),
    path(
        "templates/<int:pk>/milestones/<int:mpk>/delete/",
        views.template_milestone_delete,
        name="template_milestone_delete",
    ),
]
