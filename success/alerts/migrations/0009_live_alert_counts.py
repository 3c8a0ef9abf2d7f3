from django.db import migrations, models

from lifecycle.ops.triggers import (
    drop_triggers_sql,
    postgresql_only,
    statement_triggers,
    trigger_function,
    update_trigger,
)

# The alerts page's count at 100,000 accounts (docs/performance.md, "Alerts at 100,000
# accounts"): live alerts per owner of their account, kept by triggers in the
# transaction that changes them, so reading them is exact (the pattern of accounts
# migration 0019). Alert inserts and deletes are counted once per statement from their
# transition tables (the rules job opens thousands in one statement); an alert's
# update once per row, only when whether it is live or its account changes; an
# account's change of owner moves its live alerts' count between the two owners, and
# an account's deletion takes away the live alerts it still has (Django deletes the
# alerts first, whose own trigger then counts them; raw SQL may delete the account
# first, and the alerts' trigger then finds no account to count them for). Rows are
# upserted in key order. PostgreSQL only: elsewhere the table stays empty and the page
# counts. The functions keep the migration's search_path.
TABLE = "alerts_livealertcount"
LIVE = "IN ('open', 'acknowledged')"

UPSERT = f"""
INSERT INTO {TABLE} AS kept (owner_key, alerts)
SELECT owner_key, n FROM ({{rows}}) AS changed (owner_key, n)
WHERE n <> 0 ORDER BY owner_key
ON CONFLICT (owner_key) DO UPDATE SET alerts = kept.alerts + EXCLUDED.alerts;
"""

PER_OWNER = """SELECT COALESCE(acc.owner_id, 0), {sign} COUNT(*) FROM {rows} al
JOIN accounts_account acc ON acc.id = al.account_id
WHERE al.status {live} GROUP BY COALESCE(acc.owner_id, 0)"""

ONE_ALERT = f"""SELECT owner_key, SUM(n) FROM (
    SELECT COALESCE(acc.owner_id, 0), -1 FROM accounts_account acc
    WHERE acc.id = OLD.account_id AND OLD.status {LIVE}
    UNION ALL
    SELECT COALESCE(acc.owner_id, 0), 1 FROM accounts_account acc
    WHERE acc.id = NEW.account_id AND NEW.status {LIVE}
) AS moved (owner_key, n) GROUP BY owner_key"""

ACCOUNT_MOVED = f"""SELECT owner_key, SUM(n) FROM (
    SELECT COALESCE(OLD.owner_id, 0), -COUNT(*) FROM alerts_alert al
    WHERE al.account_id = OLD.id AND al.status {LIVE}
    UNION ALL
    SELECT COALESCE(NEW.owner_id, 0), COUNT(*) FROM alerts_alert al
    WHERE al.account_id = NEW.id AND al.status {LIVE}
) AS moved (owner_key, n) GROUP BY owner_key"""

ACCOUNTS_DELETED = f"""SELECT COALESCE(d.owner_id, 0), -COUNT(*) FROM deleted d
JOIN alerts_alert al ON al.account_id = d.id
WHERE al.status {LIVE} GROUP BY COALESCE(d.owner_id, 0)"""


CREATE = (
    "LOCK TABLE alerts_alert, accounts_account IN SHARE ROW EXCLUSIVE MODE;"
    + statement_triggers(
        "alerts_live_count",
        "alerts_alert",
        inserted=UPSERT.format(rows=PER_OWNER.format(sign="", rows="inserted", live=LIVE)),
        deleted=UPSERT.format(rows=PER_OWNER.format(sign="-", rows="deleted", live=LIVE)),
        kept=TABLE,
    )
    + update_trigger(
        "alerts_live_count_changed",
        "alerts_alert",
        columns="status, account_id",
        when=f"OLD.account_id <> NEW.account_id OR (OLD.status {LIVE}) <> (NEW.status {LIVE})",
        body=UPSERT.format(rows=ONE_ALERT),
    )
    + update_trigger(
        "alerts_live_count_account_moved",
        "accounts_account",
        columns="owner_id",
        when="OLD.owner_id IS DISTINCT FROM NEW.owner_id",
        body=UPSERT.format(rows=ACCOUNT_MOVED),
    )
    + trigger_function("alerts_live_count_accounts_deleted", UPSERT.format(rows=ACCOUNTS_DELETED))
    + f"""
CREATE TRIGGER alerts_live_count_accounts_deleted AFTER DELETE ON accounts_account
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION alerts_live_count_accounts_deleted();

DELETE FROM {TABLE};
INSERT INTO {TABLE} (owner_key, alerts)
{PER_OWNER.format(sign="", rows="alerts_alert", live=LIVE)};
"""
)

DROP = drop_triggers_sql(
    "alerts_live_count_inserted",
    "alerts_live_count_deleted",
    "alerts_live_count_changed",
    "alerts_live_count_truncated",
    on="alerts_alert",
) + drop_triggers_sql(
    "alerts_live_count_account_moved", "alerts_live_count_accounts_deleted", on="accounts_account"
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0020_live_account_search"),
        ("alerts", "0008_alert_live_account_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveAlertCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("owner_key", models.BigIntegerField(unique=True)),
                ("alerts", models.BigIntegerField(default=0)),
            ],
        ),
        postgresql_only(CREATE, DROP),
    ]
