"""Every write in the success app, one module per area. Import from here."""

from .plans import (
    objective_create,
    objective_progress_record,
    objective_status_set,
    objective_value_record,
    plan_create,
    plan_share,
    plan_share_revoke,
    plan_update,
    task_create,
    task_set_done,
)
from .renewals import (
    add_months,
    renewal_churn,
    renewal_create,
    renewal_forecast_change,
    renewal_pipeline_ensure,
    renewal_renew,
    renewals_create_due,
)
from .reviews import ActionItem, review_cancel, review_hold, review_schedule, review_snapshot

__all__ = [
    "ActionItem",
    "add_months",
    "objective_create",
    "objective_progress_record",
    "objective_status_set",
    "objective_value_record",
    "plan_create",
    "plan_share",
    "plan_share_revoke",
    "plan_update",
    "renewal_churn",
    "renewal_create",
    "renewal_forecast_change",
    "renewal_pipeline_ensure",
    "renewal_renew",
    "renewals_create_due",
    "review_cancel",
    "review_hold",
    "review_schedule",
    "review_snapshot",
    "task_create",
    "task_set_done",
]
