"""Run a plain SQL statement and convert its columns as the ORM would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

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


def fetch(sql: str, params: Sequence[Any], fields: Columns) -> list[tuple[Any, ...]]:
    """The statement's rows, each column converted as the model field at the same
    position in `fields` is by the ORM (None: taken as the driver returns it:
    counts, text). The statement goes through Django's cursor, so it is logged and
    counted like any query."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
