from django.contrib import admin

from .models import Engagement, FeedbackSubmission, Ticket, TicketPipeline, TicketStage


class StageInline(admin.TabularInline):
    model = TicketStage
    extra = 0


@admin.register(TicketPipeline)
class TicketPipelineAdmin(admin.ModelAdmin):
    list_display = ["label", "hubspot_id", "display_order"]
    inlines = [StageInline]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["subject", "account", "stage", "priority", "opened_at", "closed_at"]
    list_filter = ["priority", "is_closed", "pipeline"]
    search_fields = ["subject", "hubspot_id", "account__name"]
    list_select_related = ["account", "stage", "stage__pipeline"]
    raw_id_fields = ["account", "contact", "owner"]


@admin.register(FeedbackSubmission)
class FeedbackSubmissionAdmin(admin.ModelAdmin):
    list_display = ["account", "survey_type", "score", "response_group", "submitted_at"]
    list_filter = ["survey_type", "response_group"]
    search_fields = ["comment", "hubspot_id", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account", "contact"]


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "account", "owner", "occurred_at", "is_touch"]
    list_filter = ["kind", "direction", "is_touch"]
    search_fields = ["subject", "hubspot_id", "account__name"]
    list_select_related = ["account", "owner"]
    raw_id_fields = ["account", "contact", "owner"]
