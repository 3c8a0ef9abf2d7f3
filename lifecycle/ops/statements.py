"""Counting the SQL statements a block sends, for benchmarks that run tens of thousands
(Django's CaptureQueriesContext keeps every statement's text; this keeps a number)."""

from __future__ import annotations

from typing import Any


class StatementCounter:
    """`with connection.execute_wrapper(counter):` counts statements in `counter.count`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
