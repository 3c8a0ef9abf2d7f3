"""The score's own index on account_id goes: the unique (account, date) constraint's
index leads with the account and serves every lookup by account, and the daily job
wrote each score into both (docs/performance.md, "Scale-out").

Only the index is dropped. Django's AlterField would also drop and re-add the foreign
key, which validates every stored score under an exclusive lock (1.2 million rows a
quarter at 100,000 accounts); the index's name is the one Django gave it, the same on
PostgreSQL and SQLite."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "health_healthscore_account_id_a7843cfa"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0018_portfolio_indexes_at_scale"),
        ("health", "0003_support_inputs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="healthscore",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="health_scores",
                        to="accounts.account",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "health_healthscore" ("account_id")',
                ),
            ],
        ),
    ]
