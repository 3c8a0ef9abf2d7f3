"""Every write to onboarding. Keyword-only, one transaction each.

Each plan action leaves two traces: a row in the plan's history and an event
on the account's timeline. After every change the plan's derived status and
progress are refreshed and copied onto the account for HubSpot's sake.
"""

from __future__ import annotations

from .plans import (
    milestone_add,
    milestone_complete,
    milestone_due_change,
    milestone_reassign,
    milestone_reopen,
    milestone_skip,
    plan_refresh,
    plan_start,
    plans_refresh_all,
    template_version_apply,
)
from .templates import (
    MILESTONE_TEMPLATE_FIELDS,
    TEMPLATE_FIELDS,
    milestone_template_delete,
    milestone_template_move,
    milestone_template_save,
    template_activate,
    template_archive,
    template_create,
    template_deactivate,
    template_duplicate,
    template_problems,
    template_update,
)

__all__ = [
    "MILESTONE_TEMPLATE_FIELDS",
    "TEMPLATE_FIELDS",
    "milestone_add",
    "milestone_complete",
    "milestone_due_change",
    "milestone_reassign",
    "milestone_reopen",
    "milestone_skip",
    "milestone_template_delete",
    "milestone_template_move",
    "milestone_template_save",
    "plan_refresh",
    "plan_start",
    "plans_refresh_all",
    "template_activate",
    "template_archive",
    "template_create",
    "template_deactivate",
    "template_duplicate",
    "template_problems",
    "template_update",
    "template_version_apply",
]
