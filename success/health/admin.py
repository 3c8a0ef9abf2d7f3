from django.contrib import admin

from accounts.dates import AdminDatesInRange

from .models import HealthMeasure, HealthModel, HealthOverride, HealthScore


class HealthMeasureInline(AdminDatesInRange, admin.TabularInline):
    model = HealthMeasure
    extra = 0


@admin.register(HealthModel)
class HealthModelAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["version", "name", "status", "green_min", "yellow_min", "activated_at"]
    list_filter = ["status"]
    search_fields = ["name", "note"]
    inlines = [HealthMeasureInline]


@admin.register(HealthScore)
class HealthScoreAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "date", "score", "band", "model"]
    list_filter = ["band", "model"]
    search_fields = ["account__name"]
    date_hierarchy = "date"
    raw_id_fields = ["account"]
    list_select_related = ["account", "model"]


@admin.register(HealthOverride)
class HealthOverrideAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["account", "score", "expires_on", "created_by", "ended_at"]
    search_fields = ["account__name", "reason"]
    raw_id_fields = ["account"]
