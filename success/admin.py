from django.contrib import admin

from accounts.dates import AdminDatesInRange

from .models import (
    ArrMovement,
    BusinessReview,
    ChurnReason,
    ForecastChange,
    Objective,
    ObjectiveUpdate,
    Renewal,
    SuccessPlan,
    SuccessTask,
)


class ObjectiveInline(AdminDatesInRange, admin.TabularInline):
    model = Objective
    extra = 0
    fields = ["title", "metric", "baseline", "target", "current_value", "due_date", "status"]


@admin.register(SuccessPlan)
class SuccessPlanAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "created_at", "replaced_at", "shared_at"]
    list_filter = [("replaced_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["account__name", "desired_outcomes"]
    raw_id_fields = ["account", "created_by"]
    readonly_fields = ["share_token"]
    inlines = [ObjectiveInline]


@admin.register(Objective)
class ObjectiveAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["title", "plan", "status", "current_value", "target", "due_date"]
    list_filter = ["status"]
    search_fields = ["title", "metric", "plan__account__name"]
    raw_id_fields = ["plan"]


@admin.register(ObjectiveUpdate)
class ObjectiveUpdateAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["objective", "from_value", "to_value", "from_status", "to_status", "by", "at"]
    list_filter = ["to_status", "at"]
    search_fields = ["objective__title", "note"]
    raw_id_fields = ["objective", "by"]


@admin.register(SuccessTask)
class SuccessTaskAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["title", "account", "assignee_user", "assignee_contact", "due_date", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "due_date"]
    search_fields = ["title", "account__name"]
    raw_id_fields = ["account", "objective", "review", "assignee_user", "assignee_contact"]


@admin.register(BusinessReview)
class BusinessReviewAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "kind", "scheduled_for", "status", "held_on", "sentiment", "owner"]
    list_filter = ["kind", "status", "sentiment"]
    search_fields = ["account__name", "agenda", "outcomes"]
    raw_id_fields = ["account", "owner", "created_by"]
    filter_horizontal = ["attendee_users"]
    date_hierarchy = "scheduled_for"


@admin.register(ChurnReason)
class ChurnReasonAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["label", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active"]
    search_fields = ["label"]


class ForecastChangeInline(AdminDatesInRange, admin.TabularInline):
    model = ForecastChange
    extra = 0
    can_delete = False
    readonly_fields = [
        "from_category",
        "to_category",
        "from_arr",
        "to_arr",
        "reason",
        "changed_by",
        "changed_at",
    ]


@admin.register(Renewal)
class RenewalAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = [
        "account",
        "renewal_date",
        "status",
        "current_arr",
        "forecast_category",
        "forecast_arr",
    ]
    list_filter = ["status", "forecast_category", "account__segment"]
    search_fields = ["account__name"]
    raw_id_fields = ["account", "deal", "closed_by"]
    date_hierarchy = "renewal_date"
    inlines = [ForecastChangeInline]


@admin.register(ForecastChange)
class ForecastChangeAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["renewal", "from_category", "to_category", "from_arr", "to_arr", "changed_by"]
    list_filter = ["to_category", "changed_at"]
    search_fields = ["renewal__account__name", "reason"]
    raw_id_fields = ["renewal", "changed_by"]


@admin.register(ArrMovement)
class ArrMovementAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "date", "kind", "amount"]
    list_filter = ["kind", "date"]
    search_fields = ["account__name"]
    raw_id_fields = ["account", "renewal"]
    date_hierarchy = "date"
