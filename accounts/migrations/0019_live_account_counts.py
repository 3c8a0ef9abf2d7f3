from django.db import migrations, models

from lifecycle.ops.triggers import (
    drop_triggers_sql,
    postgresql_only,
    statement_triggers,
    update_trigger,
)

# The portfolio's exact counts at 100,000 accounts (docs/performance.md, "Pages at
# 100,000 accounts"): live accounts per owner, segment and stage, kept by triggers in
# the transaction that changes them, so reading them is exact. Inserts and deletes
# are counted once per statement from their transition tables (a COPY or bulk_create
# of 100,000 accounts is one upsert per owner, segment and stage); updates once per
# row, only when the owner, segment, stage or whether the account is archived changes
# (the health job's score updates never fire it). Rows are upserted in key order, so
# two transactions moving accounts between the same keys take the counter rows'
# locks in the same order. PostgreSQL only: elsewhere the table stays empty and the
# pages count (accounts.selectors.live_account_counts). The functions keep the
# migration's search_path: pg_dump's data loads run with an empty one.
TABLE = "accounts_liveaccountcount"

UPSERT = f"""
INSERT INTO {TABLE} AS kept (owner_key, segment, stage, accounts)
SELECT owner_key, segment, stage, n FROM ({{rows}}) AS changed (owner_key, segment, stage, n)
WHERE n <> 0 ORDER BY owner_key, segment, stage
ON CONFLICT (owner_key, segment, stage)
DO UPDATE SET accounts = kept.accounts + EXCLUDED.accounts;
"""

PER_KEY = """SELECT COALESCE(owner_id, 0), segment, stage, {sign} COUNT(*) FROM {rows}
WHERE status <> 'archived' GROUP BY COALESCE(owner_id, 0), segment, stage"""

ONE_ROW = """SELECT owner_key, segment, stage, SUM(n) FROM (VALUES
    (COALESCE(OLD.owner_id, 0), OLD.segment, OLD.stage,
     CASE WHEN OLD.status <> 'archived' THEN -1 ELSE 0 END),
    (COALESCE(NEW.owner_id, 0), NEW.segment, NEW.stage,
     CASE WHEN NEW.status <> 'archived' THEN 1 ELSE 0 END)
) AS moved (owner_key, segment, stage, n) GROUP BY owner_key, segment, stage"""

CREATE = (
    "LOCK TABLE accounts_account IN SHARE ROW EXCLUSIVE MODE;"
    + statement_triggers(
        "accounts_live_count",
        "accounts_account",
        inserted=UPSERT.format(rows=PER_KEY.format(sign="", rows="inserted")),
        deleted=UPSERT.format(rows=PER_KEY.format(sign="-", rows="deleted")),
        kept=TABLE,
    )
    + update_trigger(
        "accounts_live_count_moved",
        "accounts_account",
        columns="owner_id, segment, stage, status",
        when="""
    OLD.owner_id IS DISTINCT FROM NEW.owner_id
    OR OLD.segment <> NEW.segment
    OR OLD.stage <> NEW.stage
    OR (OLD.status = 'archived') <> (NEW.status = 'archived')
""",
        body=UPSERT.format(rows=ONE_ROW),
    )
    + f"""
DELETE FROM {TABLE};
INSERT INTO {TABLE} (owner_key, segment, stage, accounts)
{PER_KEY.format(sign="", rows="accounts_account")};
"""
)

DROP = drop_triggers_sql(
    "accounts_live_count_inserted",
    "accounts_live_count_deleted",
    "accounts_live_count_moved",
    "accounts_live_count_truncated",
    on="accounts_account",
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0018_portfolio_indexes_at_scale"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveAccountCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("owner_key", models.BigIntegerField()),
                ("segment", models.CharField(max_length=20)),
                ("stage", models.CharField(max_length=20)),
                ("accounts", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner_key", "segment", "stage"), name="live_account_count_key"
                    )
                ],
            },
        ),
        postgresql_only(CREATE, DROP),
    ]
