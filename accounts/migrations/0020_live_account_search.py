from django.db import migrations, models

from lifecycle.ops.triggers import (
    drop_triggers_sql,
    postgresql_only,
    statement_triggers,
    update_trigger,
)

# The portfolio search's count at 100,000 accounts (docs/performance.md, "The
# search's count"): each live account's name and domain, upper-cased as Django's
# icontains compares them (UPPER(col::text) LIKE UPPER(term)), joined by a newline,
# in a narrow table with a trigram index, kept by triggers in the transaction that
# changes an account. Inserts and deletes once per statement from their transition
# tables (a COPY of 100,000 accounts is one INSERT ... SELECT); updates once per
# row, only when the name, the domain or whether the account is archived changes
# (the health job's score updates never fire it). PostgreSQL only, like the counts
# of 0019: elsewhere the table stays empty and the search counts on the accounts.
TABLE = "accounts_liveaccountsearch"
TEXT = "UPPER({row}.name::text) || E'\\n' || UPPER({row}.domain::text)"

CREATE = (
    "LOCK TABLE accounts_account IN SHARE ROW EXCLUSIVE MODE;"
    + statement_triggers(
        "accounts_live_search",
        "accounts_account",
        inserted=f"""INSERT INTO {TABLE} (account_id, text)
SELECT i.id, {TEXT.format(row="i")} FROM inserted i WHERE i.status <> 'archived';""",
        deleted=f"DELETE FROM {TABLE} s USING deleted d WHERE s.account_id = d.id;",
        kept=TABLE,
    )
    + update_trigger(
        "accounts_live_search_changed",
        "accounts_account",
        columns="id, name, domain, status",
        when="""
    OLD.id <> NEW.id
    OR OLD.name <> NEW.name
    OR OLD.domain <> NEW.domain
    OR (OLD.status = 'archived') <> (NEW.status = 'archived')
""",
        body=f"""IF NEW.status = 'archived' OR OLD.id <> NEW.id THEN
    DELETE FROM {TABLE} WHERE account_id = OLD.id;
END IF;
IF NEW.status <> 'archived' THEN
    INSERT INTO {TABLE} (account_id, text) VALUES (NEW.id, {TEXT.format(row="NEW")})
    ON CONFLICT (account_id) DO UPDATE SET text = EXCLUDED.text;
END IF;""",
    )
    + f"""
DELETE FROM {TABLE};
INSERT INTO {TABLE} (account_id, text)
SELECT a.id, {TEXT.format(row="a")} FROM accounts_account a WHERE a.status <> 'archived';
"""
)

DROP = drop_triggers_sql(
    "accounts_live_search_inserted",
    "accounts_live_search_deleted",
    "accounts_live_search_changed",
    "accounts_live_search_truncated",
    on="accounts_account",
)

# The trigram index the count reads: where pg_trgm is missing (0017 goes on without
# it when the extension is refused) the count scans this narrow table instead.
INDEX = f"""
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops') THEN
    CREATE INDEX IF NOT EXISTS live_account_search_trgm ON {TABLE}
    USING gin (text gin_trgm_ops);
END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0019_live_account_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveAccountSearch",
            fields=[
                ("account_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("text", models.TextField()),
            ],
        ),
        postgresql_only(CREATE + INDEX, DROP),
    ]
