"""Onboarding pages: admins configure templates; CSMs run plans; leaders read
the numbers."""

from __future__ import annotations

from .plans import (
    insights,
    milestone_action,
    milestone_add,
    my_onboarding,
    plan_detail,
    plan_start,
)
from .templates import (
    template_action,
    template_apply,
    template_create,
    template_detail,
    template_list,
    template_milestone_delete,
    template_milestone_edit,
    template_milestone_move,
)

__all__ = [
    "insights",
    "milestone_action",
    "milestone_add",
    "my_onboarding",
    "plan_detail",
    "plan_start",
    "template_action",
    "template_apply",
    "template_create",
    "template_detail",
    "template_list",
    "template_milestone_delete",
    "template_milestone_edit",
    "template_milestone_move",
]
