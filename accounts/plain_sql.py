"""Run a plain SQL statement and convert its columns as the ORM would; send a page's
independent statements to PostgreSQL together (`read_ahead`); keep a hot statement's
plan on the connection (`execute_prepared`); plan a few statements for data in memory
(`probes_priced_for_memory`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import connection

Converter = Callable[[Any, Any, Any], Any]
Columns = tuple[Any, ...]  # model fields, or None for a column taken as it comes
Converters = list[tuple[int, Any, list[Converter]]]
# Per backend and column list: (index, the column expression, its converters). Built
# once per process: a field's converters never change at run time.
_CONVERTERS: dict[tuple[str, Columns], Converters] = {}


def _converters(fields: Columns) -> Converters:
    key = (connection.vendor, fields)
    found = _CONVERTERS.get(key)
    if found is None:
        found = []
        for index, field in enumerate(fields):
            if field is None:
                continue
            column = field.get_col(field.model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if converters:
                found.append((index, column, converters))
        _CONVERTERS[key] = found
    return found


class Statement(NamedTuple):
    sql: str
    params: tuple[Any, ...]


Rows = list[tuple[Any, ...]]
# The rows read ahead in this context (`read_ahead`), by statement: each answers one fetch.
_READ_AHEAD: ContextVar[dict[Statement, list[Rows]] | None] = ContextVar(
    "plain_sql_read_ahead", default=None
)


def fetch(sql: str, params: Sequence[Any], fields: Columns) -> list[tuple[Any, ...]]:
    """The statement's rows, each column converted as the model field at the same
    position in `fields` is by the ORM (None: taken as the driver returns it:
    counts, text). The statement goes through Django's cursor, so it is logged and
    counted like any query; one read ahead (`read_ahead`) is answered from its rows."""
    read = _READ_AHEAD.get()
    waiting = read.get(Statement(sql, tuple(params))) if read else None
    if waiting:
        rows = waiting.pop()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or None)  # none: a literal % is a %
            rows = cursor.fetchall()
    converters = _converters(fields)
    if not converters or not rows:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index, column, functions in converters:
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        converted.append(tuple(values))
    return converted


def at(value: datetime) -> Any:
    """A datetime parameter as the backend stores it (SQLite: UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def on(value: date) -> Any:
    """A date parameter as the backend stores it."""
    return connection.ops.adapt_datefield_value(value)


@contextmanager
def read_ahead(statements: Sequence[Statement]) -> Iterator[None]:
    """Send `statements` now, and answer `fetch` of each of them inside the block from
    what came back (a statement listed twice answers two fetches). On PostgreSQL they
    go in one round trip: one execute of them all, each statement's rows read in turn
    (psycopg's `nextset`). A page of many small independent reads (the account
    page's seventeen) pays one wait for the database instead of one each; on this kind
    of host a round trip costs 0.2-0.3 ms before PostgreSQL does anything
    (docs/performance.md, "The account page in one round trip").

    Only what the reads would send anyway belongs here: a listed statement nobody
    fetches is work for nothing, and a fetch of an unlisted one (or of one whose
    parameters differ) simply runs on its own, as before. Elsewhere (SQLite) each is
    run on its own now."""
    results: dict[Statement, list[Rows]] = {}
    for statement, rows in zip(statements, _run_together(statements), strict=True):
        results.setdefault(statement, []).insert(0, rows)  # fetch pops from the end
    token = _READ_AHEAD.set(results)
    try:
        yield
    finally:
        _READ_AHEAD.reset(token)


def _run_together(statements: Sequence[Statement]) -> list[Rows]:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) < 2:
            found = []
            for sql, params in statements:
                cursor.execute(sql, params or None)
                found.append(cursor.fetchall())
            return found
        # One string for the client-side binding Django's psycopg cursor does: a
        # statement without parameters has its % doubled, as if it had some.
        cursor.execute(
            ";\n".join(sql if params else sql.replace("%", "%%") for sql, params in statements),
            [value for _sql, params in statements for value in params],
        )
        found = [cursor.fetchall()]
        while cursor.nextset():
            found.append(cursor.fetchall())
    return found


# What is prepared on each open PostgreSQL connection (the driver's connection object:
# a new one after a reconnect starts with none): by statement name, the name it was
# prepared under, or how many tries failed (`execute_prepared`).
_PREPARED: WeakKeyDictionary[Any, dict[str, str | int]] = WeakKeyDictionary()


@cache
def _prepared_form(sql: str) -> tuple[str, str, tuple[str, ...]]:
    """A statement written with %(name)s parameters as PREPARE wants it: its name
    (from its text, so each shape of a statement built per shape is its own), the
    text with $1, $2..., and the parameter names in that order. A literal % stays
    doubled: the PREPARE goes out with the EXECUTE, through the same client-side
    binding."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = re.sub(r"%\((\w+)\)s", number, sql)
    name = "lifecycle_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]
    return name, text, tuple(names)


def execute_prepared(cursor: Any, sql: str, params: Mapping[str, Any]) -> None:
    """`cursor.execute(sql, params)` for a statement written with %(name)s parameters,
    with PostgreSQL keeping its plan on the connection: PREPARE the first time on each
    connection (sent with the first EXECUTE, one round trip), EXECUTE after that.

    For a statement that takes PostgreSQL about as long to plan as to run (My work's:
    2.5-3.5 ms of planning and 4-4.7 ms of running at 10,000 accounts): after five
    runs PostgreSQL may keep a generic plan, when it costs no more than the plans it
    made for the values given.
    Django's psycopg backend binds parameters on the client, so nothing is otherwise
    prepared. Off with settings.PREPARED_STATEMENTS = False (a pooler in transaction
    mode hands each transaction any server connection, where the statement is not);
    always off on other databases."""
    db = cursor.db
    if db.vendor != "postgresql" or not settings.PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    name, text, names = _prepared_form(sql)
    arguments = f"({', '.join(['%s'] * len(names))})" if names else ""
    values = [params[key] for key in names]
    known = _PREPARED.setdefault(db.connection, {})
    ready = known.get(name, 0)
    if isinstance(ready, str):
        cursor.execute(f"EXECUTE {ready}{arguments}", values)
        return
    # A failed first run (a statement timeout, say) may leave the statement prepared
    # (PREPARE is not undone with the EXECUTE that failed): the next try takes a new
    # name rather than meet "already exists".
    label = f"{name}_{ready}" if ready else name
    try:
        cursor.execute(f"PREPARE {label} AS {text};\nEXECUTE {label}{arguments}", values)
    except BaseException:
        known[name] = ready + 1
        raise
    known[name] = label
    cursor.nextset()  # past PREPARE's empty result, to the rows


# SET LOCAL in the same simple-query message as the statement: that message is one
# implicit transaction, so the setting holds for the statement and ends with it.
_PROBES_IN_MEMORY = "SET LOCAL random_page_cost = 1.1;\n"


def _priced_for_memory(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    if many:
        return execute(sql, params, many, context)
    result = execute(_PROBES_IN_MEMORY + sql, params, many, context)
    context["cursor"].nextset()  # past the SET's empty result, to the rows
    return result


@contextmanager
def probes_priced_for_memory() -> Iterator[None]:
    """The block's statements planned with an index probe priced as a page in memory
    (`random_page_cost` 1.1 instead of PostgreSQL's default 4, which prices it as a
    disk seek), sent with each statement: no round trip of its own, nothing left set
    after it (inside an explicit transaction, SET LOCAL lasts to its end).

    For a statement that joins a few rows to a large table by key, which PostgreSQL
    otherwise reads whole: the renewals page's totals hashed all 10,000 accounts to join
    298 renewals (7.5 ms) instead of probing them (2.6 ms). Not for every connection:
    set there, the health job's aggregates over whole tables took ~10% longer at
    100,000 accounts (docs/performance.md, "Renewals: the planner's price of a
    probe"). Nothing on other databases."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.execute_wrapper(_priced_for_memory):
        yield
