"""Every CSV the app hands out is written here: streamed row by row, so a large
export never sits in memory, and with each cell defused against spreadsheet
formula injection (see `csv_cell`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by
# Excel, LibreOffice and Google Sheets (tab and carriage return too, which they skip).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A cell value as it is safe to write: text that a spreadsheet would run as a
    formula gets OWASP's single-quote prefix, so it shows as the text it is (`=1+1`
    becomes `'=1+1`). Numbers, including negative ones written as text (`-1200.00`),
    stay numbers: they cannot carry a formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in row]


class _Echo:
    """A file-like object whose write() hands the line back to the caller."""

    def write(self, value: str) -> str:
        return value


def csv_download(rows: Iterable[Sequence[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(csv_row(row)) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """A small CSV as one string, defused like every download."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue()
