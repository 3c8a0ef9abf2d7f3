"""The HubSpot app's rows in Django's admin, read mostly: sync writes them, the HubSpot
pages (Settings -> HubSpot) are where people act on them."""

from django.contrib import admin

from accounts.hubspot.models import FieldRule, SyncConflict, SyncIssue, SyncRun, WebhookEvent


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "records_done", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(SyncIssue)
class SyncIssueAdmin(admin.ModelAdmin):
    list_display = ["object_type", "hubspot_id", "reason", "attempts", "resolved_at"]
    list_filter = ["object_type", "source"]
    search_fields = ["hubspot_id", "reason"]


@admin.register(FieldRule)
class FieldRuleAdmin(admin.ModelAdmin):
    list_display = ["field", "property", "owner", "policy", "updated_at"]


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ["account", "field", "ours", "theirs", "status", "created_at"]
    list_filter = ["status", "field"]
    list_select_related = ["account"]
    raw_id_fields = ["account", "resolved_by"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["subscription_type", "object_id", "occurred_ms", "processed_at", "outcome"]
    list_filter = ["subscription_type"]
