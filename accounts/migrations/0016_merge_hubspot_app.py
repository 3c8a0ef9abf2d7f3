from django.db import migrations


class Migration(migrations.Migration):
    """Joins the move of the HubSpot models into their own app with the changes
    merged before (state only: no table is touched)."""

    dependencies = [
        ("accounts", "0012_hubspot_models_move_to_hubspot_app"),
        ("accounts", "0015_merge_portfolio_sort_indexes"),
    ]
    operations: list[migrations.operations.base.Operation] = []
