from django.urls import path

from . import views

app_name = "playbooks"

urlpatterns = [
    path("playbooks/", views.playbook_list, name="list"),
    path("playbooks/new/", views.playbook_edit, name="create"),
    path("playbooks/run-now/", views.playbooks_run_now, name="run_now"),
    path("playbooks/runs/", views.run_list, name="runs"),
    path("playbooks/runs/<int:pk>/", views.run_detail, name="run"),
    path("playbooks/runs/<int:pk>/snooze/", views.run_snooze, name="run_snooze"),
    path("playbooks/runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("playbooks/steps/<int:pk>/complete/", views.step_complete, name="step_complete"),
    path("playbooks/steps/<int:pk>/skip/", views.step_skip, name="step_skip"),
    path("playbooks/<int:pk>/", views.playbook_detail, name="detail"),
    path("playbooks/<int:pk>/edit/", views.playbook_edit, name="edit"),
    path("accounts/<int:pk>/playbooks/start/", views.run_start, name="start"),
]
