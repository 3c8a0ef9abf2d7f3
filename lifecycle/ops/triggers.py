"""What the migrations that keep counts and copies with PostgreSQL triggers share
(accounts 0019, 0020 and 0021, alerts 0009): their SQL runs on PostgreSQL only (elsewhere
the kept table stays empty and its readers count instead), and each trigger has a
function of its own name, dropped with it. Migrations import this module: keep its
names and behaviour."""

from __future__ import annotations

from typing import Any

from django.db import connections, migrations, router
from django.db.backends.base.base import BaseDatabaseWrapper


def kept_by_triggers(model: type[Any]) -> BaseDatabaseWrapper | None:
    """The connection to read `model` with, a table these triggers keep; None where
    nothing keeps it (not PostgreSQL: the table stays empty, and its readers count
    on the tables it follows instead)."""
    connection = connections[router.db_for_read(model)]
    return connection if connection.vendor == "postgresql" else None


def postgresql_only(sql: str, reverse_sql: str) -> migrations.RunPython:
    """RunSQL that runs on PostgreSQL only, not elidable (the triggers keep data)."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forward, backward, elidable=False)


def drop_triggers_sql(*names: str, on: str) -> str:
    """DROP each trigger `on` the table, then the function of the trigger's name."""
    drops = [f"DROP TRIGGER IF EXISTS {name} ON {on};" for name in names]
    drops += [f"DROP FUNCTION IF EXISTS {name}();" for name in names]
    return "\n".join(drops) + "\n"


def trigger_function(name: str, body: str) -> str:
    """A plpgsql trigger function running `body`, with the migration's search_path
    (pg_dump's data loads run with an empty one)."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
{body}
RETURN NULL;
END $$;
"""


def statement_triggers(prefix: str, table: str, *, inserted: str, deleted: str, kept: str) -> str:
    """`{prefix}_inserted` and `{prefix}_deleted` on `table`, once a statement, their
    bodies reading its rows from the transition tables `inserted` and `deleted` (a COPY
    or bulk write of thousands of rows is one statement each), and `{prefix}_truncated`,
    which empties the `kept` table: functions and triggers."""
    return (
        trigger_function(f"{prefix}_inserted", inserted)
        + trigger_function(f"{prefix}_deleted", deleted)
        + trigger_function(f"{prefix}_truncated", f"DELETE FROM {kept};")
        + f"""
CREATE TRIGGER {prefix}_inserted AFTER INSERT ON {table}
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_inserted();

CREATE TRIGGER {prefix}_deleted AFTER DELETE ON {table}
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_deleted();

CREATE TRIGGER {prefix}_truncated AFTER TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_truncated();
"""
    )


def update_trigger(name: str, table: str, *, columns: str, when: str, body: str) -> str:
    """`name` on `table`, once per row an UPDATE of any of `columns` changes as `when`
    (a condition on OLD and NEW) says, running `body`: its function and trigger."""
    return (
        trigger_function(name, body)
        + f"""
CREATE TRIGGER {name}
AFTER UPDATE OF {columns} ON {table}
FOR EACH ROW WHEN ({when})
EXECUTE FUNCTION {name}();
"""
    )
