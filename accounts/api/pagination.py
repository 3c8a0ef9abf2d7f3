"""Cursor pagination: stable pages while rows change, no COUNT query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

INVALID_CURSOR = "Invalid cursor: send back the `next` or `previous` link unchanged."


class ApiCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        assert isinstance(queryset, QuerySet), "cursor pagination needs a queryset"
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        """`page_size` from 1 to max_page_size; anything else is a 400 (DRF would
        quietly fall back to the default), so the answer is what was asked for."""
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Send a whole number from 1 to {self.max_page_size:,}."
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A bad cursor is bad input (400), not a missing page; and a cursor
        whose position does not fit the ordering field never reaches the
        database."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(str(cursor.position))
        return cursor

    def _check_position(self, position: str) -> None:
        name = self.ordering[0].lstrip("-")
        try:
            field = self._model._meta.get_field(name)
            if "\x00" in position:
                raise ValueError(position)
            field.get_prep_value(field.to_python(position))
        except (FieldDoesNotExist, ValueError, TypeError, OverflowError, DjangoValidationError):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
