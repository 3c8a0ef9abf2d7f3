"""Set-based writes for jobs that touch tens of thousands of rows at once.

On PostgreSQL each helper sends one statement per chunk whose parameters are
one array per column (`unnest`), instead of a dozen bound parameters per row
and a model instance per row; measured 2-5x faster than bulk_create /
bulk_update on 5,000-100,000 rows. Other databases (SQLite for trying the app)
fall back to the ORM's bulk methods, with the same effect.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.models import Func, Value
from django.utils import timezone

CHUNK = 10_000


class JSONMerge(Func):
    """`column || patch` for a JSON object column: the patch's keys are set, the
    others kept, in the UPDATE itself, so two writers stamping different keys of one
    row never overwrite each other (PostgreSQL jsonb `||`; SQLite `json_patch`)."""

    output_field = models.JSONField()

    def __init__(self, column: str, patch: Mapping[str, Any]) -> None:
        super().__init__(models.F(column), Value(dict(patch), output_field=models.JSONField()))

    def _operands(self, compiler: Any) -> tuple[str, str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        patch, patch_params = compiler.compile(self.source_expressions[1])
        return column, patch, (*params, *patch_params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        column, patch, params = self._operands(compiler)
        return f"(COALESCE({column}, '{{}}'::jsonb) || ({patch})::jsonb)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        column, patch, params = self._operands(compiler)
        return f"json_patch(COALESCE({column}, '{{}}'), {patch})", params


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """A concrete field by name or attname (`account` or `account_id`)."""
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    raise LookupError(f"{model.__name__} has no column {name!r}")


def _quoted(field: models.Field[Any, Any]) -> str:
    return connection.ops.quote_name(str(field.column))


def _unnest(fields: Sequence[models.Field[Any, Any]]) -> str:
    """`SELECT ... FROM unnest(<one array per field>)`. JSON columns travel as text
    arrays (binary, see `_placeholder`) cast back per row: json.dumps per value is
    several times cheaper than the driver adapting an array of JSON objects."""
    arrays, selected = [], []
    for i, f in enumerate(fields):
        if isinstance(f, models.JSONField):
            arrays.append("%b::text[]")
            selected.append(f"t.c{i}::jsonb")
        else:
            arrays.append(f"{_placeholder(f)}::{f.cast_db_type(connection)}[]")
            selected.append(f"t.c{i}")
    aliases = ", ".join(f"c{i}" for i in range(len(fields)))
    return f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS t({aliases})"


_BINARY = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # and the small, big, positive and auto ones
    models.BooleanField,
    models.DateTimeField,
    models.DateField,
    models.UUIDField,
)


def _placeholder(f: models.Field[Any, Any]) -> str:
    """Arrays travel in binary where that changes nothing but the cost: in text format
    psycopg quotes and escapes every element with a regular expression, which for JSON
    documents of a few KB cost more than the statement itself (0.3 s for 500 field
    states). Decimal and float arrays keep the text format."""
    target = f.target_field if isinstance(f, models.ForeignKey) else f
    return "%b" if isinstance(target, _BINARY) else "%s"


def _cursor() -> Any:
    """A server-side binding cursor on Django's own connection (same transaction).
    Django's cursors bind client-side, quoting every array element into the SQL text;
    sent as parameters, 20,000-row arrays cost a fraction of that."""
    import psycopg

    connection.ensure_connection()
    raw: Any = psycopg.Cursor(connection.connection)
    # Wrapped as Django wraps its own, so query logging and counting still see it.
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _prep(f: models.Field[Any, Any], value: Any, db: Any) -> Any:
    """A value as `_unnest` expects it. Strings, numbers and None need no preparing (the
    array's cast types them); the rest goes through the field."""
    if isinstance(f, models.JSONField):
        return None if value is None else json.dumps(value, cls=f.encoder)
    if value is None or type(value) in _PLAIN:
        return value
    return f.get_db_prep_save(value, db)


_PLAIN = (str, int, bool, float)


def _save_value(f: models.Field[Any, Any], value: Any, db: Any) -> Any:
    """`f.get_db_prep_save(value, db)`, without the call for what it would return as
    is: a str for a text column, an int for an integer one (200,000 calls for the
    health job's account update, through the connection proxy each time)."""
    if value is None:
        return None
    kind = type(value)
    if kind is int and isinstance(f, models.IntegerField):
        return value
    if kind is str and isinstance(f, (models.CharField, models.TextField)):
        return value
    return f.get_db_prep_save(value, db)


def insert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT new rows (dicts keyed by field name or attname, every row the same keys;
    fields left out take their model default, auto_now fields the current time) without
    building a model instance per row. Returns the `returning` columns of each inserted
    row, in no promised order: match them on a unique column you asked for."""
    if not rows:
        return []
    given = list(rows[0])
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=2000)
        attnames = [_column(model, n).attname for n in returning]
        return [tuple(getattr(o, a) for a in attnames) for o in objs]
    now = timezone.now()
    fields: list[models.Field[Any, Any]] = []
    sources: list[Any] = []  # a given key, or a callable default per row, or a constant
    for f in meta.concrete_fields:
        key = next((k for k in given if k in (f.name, f.attname)), None)
        if key is None and f.primary_key:
            continue
        fields.append(f)
        if key is not None:
            sources.append(("key", key))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            sources.append(("const", now))
        elif f.has_default() and callable(f.default):
            sources.append(("call", f.get_default))
        else:
            sources.append(("const", f.get_default()))
    qn = connection.ops.quote_name
    sql = f"INSERT INTO {qn(meta.db_table)} ({', '.join(_quoted(f) for f in fields)}) " + _unnest(
        fields
    )
    if returning:
        sql += " RETURNING " + ", ".join(_quoted(_column(model, n)) for n in returning)
    found: list[tuple[Any, ...]] = []
    db = connections[connection.alias]  # the connection itself, not the per-thread proxy
    # A constant (a default) is prepared once, not once per row.
    prepared = [
        (how, _prep(f, what, db) if how == "const" else what)
        for f, (how, what) in zip(fields, sources, strict=True)
    ]
    with _cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = []
            for f, (how, what) in zip(fields, prepared, strict=True):
                if how == "key":
                    params.append([_prep(f, row[what], db) for row in chunk])
                elif how == "call":
                    params.append([_prep(f, what(), db) for _ in chunk])
                else:
                    params.append([what] * len(chunk))
            cursor.execute(sql, params)
            if returning:
                found.extend(cursor.fetchall())
    return found


def copy_insert(
    model: type[models.Model],
    rows: Iterable[Sequence[Any]],
    *,
    columns: Sequence[str],
) -> int:
    """COPY rows (tuples in the order of `columns`, field names or attnames) into the
    model's table, PostgreSQL only: the fastest way in for hundreds of thousands of new
    rows (no statement text, no parameter arrays). Fields left out take their model
    default, evaluated once for the whole call (auto_now fields the current time); JSON
    values are given already encoded (a str). Returns the number of rows written."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("copy_insert is PostgreSQL only")
    fields = [_column(model, name) for name in columns]
    given = {f.attname for f in fields}
    now = timezone.now()
    defaults: list[tuple[models.Field[Any, Any], Any]] = []
    for f in model._meta.concrete_fields:
        if f.attname in given or f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        else:
            value = f.get_default()
        if isinstance(f, models.JSONField):
            value = None if value is None else json.dumps(value, cls=f.encoder)
        elif value is not None and type(value) not in _PLAIN:
            value = f.get_db_prep_save(value, connection)
        defaults.append((f, value))
    names = ", ".join(_quoted(f) for f in [*fields, *(f for f, _ in defaults)])
    constants = tuple(v for _, v in defaults)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
    written = 0
    connection.ensure_connection()
    # Errors as Django's (IntegrityError for a unique violation), as from its cursors.
    with (
        connection.wrap_database_errors,
        connection.connection.cursor() as cursor,
        cursor.copy(sql) as copy,
    ):
        for row in rows:
            copy.write_row((*row, *constants))
            written += 1
    return written


def copy_upsert(
    model: type[models.Model],
    rows: Iterable[Sequence[Any]],
    *,
    columns: Sequence[str],
    unique: Sequence[str],
    update: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """`upsert` for hundreds of thousands of rows, PostgreSQL only: COPY the rows (tuples
    in the order of `columns`; JSON values already encoded, as str) into a temporary
    table, then one INSERT ... SELECT ... ON CONFLICT (`unique`) DO UPDATE (`update`).
    `constants` ({field: value}) are the same on every row and travel once, as
    parameters of the INSERT. Needs a transaction (the temporary table lives until
    its commit). Returns the number of rows."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("copy_upsert is PostgreSQL only")
    if not connection.in_atomic_block:
        raise RuntimeError("copy_upsert needs a transaction (transaction.atomic)")
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    loaded = [_column(model, name) for name in columns]
    fixed = [(_column(model, name), value) for name, value in (constants or {}).items()]
    load = qn(f"_load_{model._meta.db_table}")
    names = ", ".join(_quoted(f) for f in loaded)
    conflict = ", ".join(_quoted(_column(model, n)) for n in unique)
    updates = ", ".join(
        f"{_quoted(_column(model, n))} = EXCLUDED.{_quoted(_column(model, n))}" for n in update
    )
    target = ", ".join(_quoted(f) for f in [*loaded, *(f for f, _ in fixed)])
    selected = ", ".join(
        [_quoted(f) for f in loaded] + [f"%s::{f.cast_db_type(connection)}" for f, _ in fixed]
    )
    written = 0
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {load} ON COMMIT DROP AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with (
            connection.wrap_database_errors,
            connection.connection.cursor() as raw,
            raw.copy(f"COPY {load} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        cursor.execute(
            f"INSERT INTO {table} ({target}) SELECT {selected} FROM {load} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
            [f.get_db_prep_save(value, connection) for f, value in fixed],
        )
        cursor.execute(f"DROP TABLE {load}")  # now: a second call may come in this transaction
    return written


def upsert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    update: Sequence[str],
) -> int:
    """INSERT rows (dicts keyed by field name, every row the same keys) and, on
    a conflict over `unique`, UPDATE the `update` fields. Returns len(rows)."""
    if not rows:
        return 0
    names = list(rows[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**row) for row in rows],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=list(unique),
            update_fields=list(update),
        )
        return len(rows)
    qn = connection.ops.quote_name
    fields = [_column(model, name) for name in names]
    columns = [_quoted(f) for f in fields]
    conflict = ", ".join(_quoted(_column(model, n)) for n in unique)
    updates = ", ".join(
        f"{_quoted(_column(model, n))} = EXCLUDED.{_quoted(_column(model, n))}" for n in update
    )
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)}) {_unnest(fields)} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    with _cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [
                [_prep(f, row[name], connection) for row in chunk]
                for name, f in zip(names, fields, strict=True)
            ]
            cursor.execute(sql, params)
    return len(rows)


def update_changed(
    model: type[models.Model],
    rows: Mapping[int, Mapping[str, Any]],
    *,
    also: Mapping[str, Any],
    stamp: tuple[str, int] | None = None,
) -> int:
    """Set per-row values ({pk: {field: value}}, every row the same fields) on
    the rows where any of them differs, plus the constant `also` fields on those
    rows. `stamp` (a JSON column, epoch ms) notes in that column, per row, when
    each field whose value changed did. Returns how many rows changed."""
    if not rows:
        return 0
    names = list(next(iter(rows.values())))
    if connection.vendor != "postgresql":
        changed = 0
        for pk, values in rows.items():
            qs = model._default_manager.filter(pk=pk)
            current = qs.values(*values).first()
            differ = [n for n in values if current is None or current[n] != values[n]]
            if not differ:
                continue
            extra = {}
            if stamp:
                extra[stamp[0]] = JSONMerge(stamp[0], dict.fromkeys(differ, stamp[1]))
            changed += qs.update(**values, **also, **extra)
        return changed
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk_field = model._meta.pk
    assert pk_field is not None
    fields = [_column(model, name) for name in names]
    arrays = ", ".join(
        f"{_placeholder(f)}::{f.cast_db_type(connection)}[]" for f in [pk_field, *fields]
    )
    aliases = ", ".join(["pk", *[f"v{i}" for i in range(len(fields))]])
    sets = ", ".join(
        [f"{_quoted(f)} = new.v{i}" for i, f in enumerate(fields)]
        + [f"{_quoted(_column(model, n))} = %s" for n in also]
    )
    if stamp:
        # The SET's right-hand side reads the row as it was: stamp what differs.
        column = _quoted(_column(model, stamp[0]))
        pairs = ", ".join(
            f"'{name}', CASE WHEN {table}.{_quoted(f)} IS DISTINCT FROM new.v{i} "
            f"THEN {int(stamp[1])} END"
            for i, (name, f) in enumerate(zip(names, fields, strict=True))
        )
        sets += (
            f", {column} = COALESCE({table}.{column}, '{{}}'::jsonb)"
            f" || jsonb_strip_nulls(jsonb_build_object({pairs}))"
        )
    differs = " OR ".join(
        f"{table}.{_quoted(f)} IS DISTINCT FROM new.v{i}" for i, f in enumerate(fields)
    )
    sql = (
        f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS new({aliases}) "
        f"WHERE {table}.{_quoted(pk_field)} = new.pk AND ({differs})"
    )
    changed = 0
    items = list(rows.items())
    db = connections[connection.alias]  # the connection itself, not the per-thread proxy
    with _cursor() as cursor:
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            constants = [_column(model, n).get_db_prep_save(v, db) for n, v in also.items()]
            columns = [[pk for pk, _ in chunk]] + [
                [_save_value(f, values[name], db) for _, values in chunk]
                for name, f in zip(names, fields, strict=True)
            ]
            # SET's constants come before the unnest arrays in the statement.
            cursor.execute(sql, [*constants, *columns])
            changed += cursor.rowcount
    return changed


def analyze(*targets: type[models.Model] | str, rows: int | None = None) -> None:
    """Refresh the planner's statistics for the tables of the given models (or of
    every model of an app, given its label), once the caller's transaction commits.

    Bulk writers (demo data, the HubSpot full import, CSV import, large usage
    ingestion) call it after filling tables: until autovacuum gets round to them,
    and never where autovacuum is off, PostgreSQL plans queries on a freshly
    filled table from the statistics of the empty one (the health job's input
    gathering ran 40x slower right after a 10,000-account load). With `rows`,
    only a write of at least settings.BULK_ANALYZE_MIN_ROWS rows does it. PostgreSQL only:
    elsewhere (SQLite for trying the app) it does nothing."""
    if connection.vendor != "postgresql":
        return
    if rows is not None and rows < settings.BULK_ANALYZE_MIN_ROWS:
        return
    tables: list[str] = []
    for target in targets:
        found = apps.get_app_config(target).get_models() if isinstance(target, str) else [target]
        for model in found:
            meta = model._meta
            if meta.managed and not meta.proxy and meta.db_table not in tables:
                tables.append(meta.db_table)

    def run() -> None:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    transaction.on_commit(run, robust=True)
