from django.contrib import admin

from accounts.dates import AdminDatesInRange

from .models import Milestone, MilestoneTemplate, OnboardingPlan, OnboardingTemplate, PlanHistory


class MilestoneTemplateInline(AdminDatesInRange, admin.TabularInline):
    model = MilestoneTemplate
    extra = 0


@admin.register(OnboardingTemplate)
class OnboardingTemplateAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["name", "is_active", "version", "archived_at", "updated_at"]
    list_filter = ["is_active", "archived_at"]
    search_fields = ["name", "description"]
    inlines = [MilestoneTemplateInline]


@admin.register(MilestoneTemplate)
class MilestoneTemplateAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["title", "template", "kind", "due_offset_days", "required", "is_first_value"]
    list_filter = ["kind", "owner_side", "required", "is_first_value", "template"]
    search_fields = ["title", "template__name"]


class MilestoneInline(AdminDatesInRange, admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["title", "kind", "required", "due_date", "completed_on", "skipped_on"]


@admin.register(OnboardingPlan)
class OnboardingPlanAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "template", "template_version", "start_date", "status", "progress"]
    list_filter = ["status", "template", "finished_on"]
    search_fields = ["account__name", "template__name"]
    list_select_related = ["account", "template"]
    readonly_fields = ["status", "progress", "ttv_days", "first_value_on"]
    raw_id_fields = ["account"]
    inlines = [MilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["title", "plan", "kind", "due_date", "completed_on", "skipped_on"]
    list_filter = ["kind", "required", "is_first_value", "is_adhoc", "owner_side"]
    search_fields = ["title", "plan__account__name"]
    list_select_related = ["plan__account", "plan__template"]
    raw_id_fields = ["plan", "source", "assignee"]


@admin.register(PlanHistory)
class PlanHistoryAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["occurred_at", "plan", "action", "summary", "actor"]
    list_filter = ["action"]
    search_fields = ["summary", "plan__account__name"]
    list_select_related = ["plan__account", "plan__template", "actor"]
    raw_id_fields = ["plan", "milestone"]
