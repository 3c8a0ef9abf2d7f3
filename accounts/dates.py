"""The range of dates Lifecycle accepts from people and integrations.

Dates far from today are typing mistakes or probes (`9999-12-31`, `0001-01-01`),
and the calendar arithmetic behind periods, trends and renewals overflows near
Python's and PostgreSQL's limits. One validator bounds every date that comes in.

Every date that comes in is read by a Django form field (forms, model forms,
django-filter filters) or a DRF serializer field, so `date_bounds_install` (run
once, from AccountsConfig.ready) adds the validator to those field classes:
a form or filter added later is covered without anyone remembering to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
OUT_OF_RANGE = f"Give a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."


def validate_date_in_range(value: Any) -> None:
    """Refuse a date (or the day of a datetime) outside EARLIEST..LATEST."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not EARLIEST <= day <= LATEST:
        raise ValidationError(OUT_OF_RANGE, code="date_out_of_range")


def date_bounds_install() -> None:
    from django import forms
    from rest_framework import serializers

    field_classes: tuple[Any, ...] = (
        forms.DateField,
        forms.DateTimeField,
        serializers.DateField,
        serializers.DateTimeField,
    )
    for field_class in field_classes:
        # A new list on the class itself: the inherited one is shared with every field.
        current = list(field_class.default_validators)
        if validate_date_in_range not in current:
            field_class.default_validators = [*current, validate_date_in_range]
