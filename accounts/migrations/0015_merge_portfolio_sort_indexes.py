from django.db import migrations


class Migration(migrations.Migration):
    """Joins the portfolio's sort indexes with the changes merged before."""

    dependencies = [
        ("accounts", "0012_portfolio_sort_indexes"),
        ("accounts", "0014_merge_event_kinds"),
    ]
    operations: list[migrations.operations.base.Operation] = []
