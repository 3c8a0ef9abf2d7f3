"""Last activity is what a person did with the customer, no longer every
timeline entry (syncs, the daily jobs, alerts): recompute it from the
timeline with the rule `Event.activity_q` has today (copied here, as a
migration must not follow later changes of the model). One UPDATE with a
correlated subquery over the (account, -occurred_at) index."""

from django.db import migrations
from django.db.models import Max, OuterRef, Subquery

ACTIVITY_KINDS = ["note", "onboarding", "success", "review", "renewal"]


def recompute(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Event = apps.get_model("accounts", "Event")
    latest = (
        Event.objects.filter(
            account=OuterRef("pk"), actor__isnull=False, kind__in=ACTIVITY_KINDS
        )
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    Account.objects.update(last_activity_at=Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_field_change_times"),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True),
    ]
