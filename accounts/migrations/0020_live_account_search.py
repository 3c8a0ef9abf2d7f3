from typing import Any

from django.db import migrations, models

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

CREATE = f"""
LOCK TABLE accounts_account IN SHARE ROW EXCLUSIVE MODE;

CREATE FUNCTION accounts_live_search_inserted() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
INSERT INTO {TABLE} (account_id, text)
SELECT i.id, {TEXT.format(row="i")} FROM inserted i WHERE i.status <> 'archived';
RETURN NULL;
END $$;

CREATE FUNCTION accounts_live_search_deleted() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
DELETE FROM {TABLE} s USING deleted d WHERE s.account_id = d.id;
RETURN NULL;
END $$;

CREATE FUNCTION accounts_live_search_changed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
IF NEW.status = 'archived' OR OLD.id <> NEW.id THEN
    DELETE FROM {TABLE} WHERE account_id = OLD.id;
END IF;
IF NEW.status <> 'archived' THEN
    INSERT INTO {TABLE} (account_id, text) VALUES (NEW.id, {TEXT.format(row="NEW")})
    ON CONFLICT (account_id) DO UPDATE SET text = EXCLUDED.text;
END IF;
RETURN NULL;
END $$;

CREATE FUNCTION accounts_live_search_truncated() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
DELETE FROM {TABLE};
RETURN NULL;
END $$;

CREATE TRIGGER accounts_live_search_inserted AFTER INSERT ON accounts_account
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION accounts_live_search_inserted();

CREATE TRIGGER accounts_live_search_deleted AFTER DELETE ON accounts_account
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION accounts_live_search_deleted();

CREATE TRIGGER accounts_live_search_changed
AFTER UPDATE OF id, name, domain, status ON accounts_account
FOR EACH ROW WHEN (
    OLD.id <> NEW.id
    OR OLD.name <> NEW.name
    OR OLD.domain <> NEW.domain
    OR (OLD.status = 'archived') <> (NEW.status = 'archived')
) EXECUTE FUNCTION accounts_live_search_changed();

CREATE TRIGGER accounts_live_search_truncated AFTER TRUNCATE ON accounts_account
FOR EACH STATEMENT EXECUTE FUNCTION accounts_live_search_truncated();

DELETE FROM {TABLE};
INSERT INTO {TABLE} (account_id, text)
SELECT a.id, {TEXT.format(row="a")} FROM accounts_account a WHERE a.status <> 'archived';
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_live_search_inserted ON accounts_account;
DROP TRIGGER IF EXISTS accounts_live_search_deleted ON accounts_account;
DROP TRIGGER IF EXISTS accounts_live_search_changed ON accounts_account;
DROP TRIGGER IF EXISTS accounts_live_search_truncated ON accounts_account;
DROP FUNCTION IF EXISTS accounts_live_search_inserted();
DROP FUNCTION IF EXISTS accounts_live_search_deleted();
DROP FUNCTION IF EXISTS accounts_live_search_changed();
DROP FUNCTION IF EXISTS accounts_live_search_truncated();
"""

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


def create_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute(INDEX)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


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
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
