from django.contrib import admin

from accounts.dates import AdminDatesInRange

from .models import Delivery, Notification, Preference, Profile, RuleSetting, SlackWebhook


@admin.register(Profile)
class ProfileAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["user", "time_zone", "digest_hour", "team_leader", "last_digest_on"]
    list_select_related = ["user", "team_leader"]
    raw_id_fields = ["user"]


admin.site.register(Preference)
admin.site.register(SlackWebhook)
admin.site.register(RuleSetting)


@admin.register(Notification)
class NotificationAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["title", "kind", "recipient", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "account"]


@admin.register(Delivery)
class DeliveryAdmin(AdminDatesInRange, admin.ModelAdmin):
    list_display = ["pk", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["notification"]
