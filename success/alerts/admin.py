from django.contrib import admin

from accounts.dates import AdminDatesInRange

from .models import Alert, AlertRule, ExpansionSignal


@admin.register(AlertRule)
class AlertRuleAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["name", "kind", "threshold", "days", "second_days", "minimum", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


@admin.register(Alert)
class AlertAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "rule", "status", "owner", "opened_at", "due_on"]
    list_filter = ["status", "rule"]
    search_fields = ["account__name", "message"]
    list_select_related = ["account", "rule", "owner"]
    raw_id_fields = ["account"]


@admin.register(ExpansionSignal)
class ExpansionSignalAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "source", "raised_at", "follow_up_by", "followed_up_at"]
    list_filter = ["source"]
    search_fields = ["account__name", "note"]
    raw_id_fields = ["account"]
