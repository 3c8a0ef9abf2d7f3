from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .dates import AdminDatesInRange
from .models import (
    Account,
    Contact,
    Deal,
    Event,
    ImportBatch,
    OwnerLink,
    Pipeline,
    PipelineStage,
    StageChange,
    UsageSnapshot,
    User,
)

admin.site.register(User, UserAdmin)


@admin.register(Account)
class AccountAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["name", "domain", "owner", "segment", "stage", "arr", "renewal_date", "status"]
    list_filter = ["segment", "stage", "status", "health_band", "owner"]
    search_fields = ["name", "domain", "hubspot_id"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


@admin.register(StageChange)
class StageChangeAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "from_stage", "to_stage", "changed_by", "changed_at"]
    list_filter = ["to_stage"]
    search_fields = ["account__name", "reason"]
    list_select_related = ["account", "changed_by"]
    raw_id_fields = ["account"]


@admin.register(Contact)
class ContactAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["name", "email", "role", "account"]
    list_filter = ["role"]
    search_fields = ["name", "email", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]


class PipelineStageInline(AdminDatesInRange, admin.TabularInline):
    model = PipelineStage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["label", "is_renewal", "hubspot_id"]
    search_fields = ["label"]
    list_filter = ["is_renewal"]
    inlines = [PipelineStageInline]


@admin.register(PipelineStage)
class PipelineStageAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["label", "pipeline", "display_order", "is_closed", "is_won", "probability"]
    list_filter = ["pipeline", "is_closed", "is_won"]
    search_fields = ["label"]


@admin.register(Deal)
class DealAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["name", "account", "kind", "pipeline", "stage", "amount", "close_date"]
    list_filter = ["kind", "pipeline", "stage"]
    search_fields = ["name", "account__name", "hubspot_id"]
    list_select_related = ["account", "pipeline", "stage"]
    raw_id_fields = ["account"]


@admin.register(OwnerLink)
class OwnerLinkAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["hubspot_owner_id", "email", "user"]
    search_fields = ["email", "hubspot_owner_id"]
    list_filter = [("user", admin.EmptyFieldListFilter)]


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "date", "active_users", "seats_purchased", "logins_30d", "csat"]
    list_filter = ["date"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    date_hierarchy = "date"


@admin.register(Event)
class EventAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["occurred_at", "account", "kind", "actor", "summary"]
    list_filter = ["kind"]
    search_fields = ["summary", "account__name"]
    list_select_related = ["account", "actor"]
    raw_id_fields = ["account"]
    date_hierarchy = "occurred_at"


@admin.register(ImportBatch)
class ImportBatchAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "created_by", "created_at", "rows_written"]
    list_filter = ["kind", "status"]
    search_fields = ["filename"]
