from django.db import migrations, models

from lifecycle.ops.triggers import (
    drop_triggers_sql,
    postgresql_only,
    statement_triggers,
    update_trigger,
)

# The health job's account update as HOT updates (docs/performance.md, "Health
# scoring: the account update"). Each day it writes the score, band and change stamps
# of every account whose score moved: at 100,000 accounts, 95,000 rows. While the
# score was indexed (account_health_id, for the portfolio's health sort) each write
# was a new row version with an entry in all 17 of the table's indexes, 6.7-7.9 s of
# the job; with no indexed column written and room on the row's page, PostgreSQL
# writes it on that page and touches no index: 0.4 s, 1.8 s with the trigger below.
#
# - The sort's index moves to a narrow table of (account id, score), kept by triggers
#   in the transaction that writes the accounts: inserts and deletes once per
#   statement from their transition tables (a COPY of 100,000 accounts is one INSERT
#   ... SELECT), score changes once per row, only when the score changes (other
#   account writes never fire it). Statement-level UPDATE triggers were slower for
#   one-row updates (about 50 ms: the transition tables' joins are planned blind).
# - The account table keeps half of each page free (fillfactor 50) for the day's new
#   row versions: they must fit on the page beside the old ones, which are not
#   reclaimed until the job's transaction ends. Pages already full when this runs get
#   that room as their rows move, after one day's run.
#
# PostgreSQL only, like 0019 and 0020: elsewhere the table stays empty and the sort
# reads the accounts.
TABLE = "accounts_accounthealthsort"

CREATE = (
    "LOCK TABLE accounts_account IN SHARE ROW EXCLUSIVE MODE;"
    + statement_triggers(
        "accounts_health_sort",
        "accounts_account",
        inserted=f"""INSERT INTO {TABLE} (account_id, health_score)
SELECT i.id, i.health_score FROM inserted i;""",
        deleted=f"DELETE FROM {TABLE} s USING deleted d WHERE s.account_id = d.id;",
        kept=TABLE,
    )
    + update_trigger(
        "accounts_health_sort_changed",
        "accounts_account",
        columns="id, health_score",
        when="OLD.id <> NEW.id OR OLD.health_score IS DISTINCT FROM NEW.health_score",
        body=f"""IF OLD.id <> NEW.id THEN
    DELETE FROM {TABLE} WHERE account_id = OLD.id;
END IF;
INSERT INTO {TABLE} (account_id, health_score) VALUES (NEW.id, NEW.health_score)
ON CONFLICT (account_id) DO UPDATE SET health_score = EXCLUDED.health_score;""",
    )
    + f"""
DELETE FROM {TABLE};
INSERT INTO {TABLE} (account_id, health_score)
SELECT a.id, a.health_score FROM accounts_account a;

ALTER TABLE accounts_account SET (fillfactor = 50);
"""
)

DROP = drop_triggers_sql(
    "accounts_health_sort_inserted",
    "accounts_health_sort_deleted",
    "accounts_health_sort_changed",
    "accounts_health_sort_truncated",
    on="accounts_account",
) + "ALTER TABLE accounts_account RESET (fillfactor);\n"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0020_live_account_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountHealthSort",
            fields=[
                ("account_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("health_score", models.PositiveSmallIntegerField(blank=True, null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["health_score", "account_id"], name="account_health_sort"
                    )
                ],
            },
        ),
        postgresql_only(CREATE, DROP),
        migrations.RemoveIndex(model_name="account", name="account_health_id"),
    ]
