"""The range of dates Lifecycle accepts from people and integrations.

Dates far from today are typing mistakes or probes (`9999-12-31`, `0001-01-01`),
and the calendar arithmetic behind periods, trends and renewals overflows near
Python's and PostgreSQL's limits. One validator bounds every date that comes in.

Every date that comes in is read by a form field (forms, model forms,
django-filter filters, the admin) or a DRF serializer field: those take the
field classes here, which carry the validator. A model form names them in
`Meta.field_classes` (`model_form_dates` below); the admin's classes mix in
`AdminDatesInRange`. tests/accounts/test_dates.py walks every form, filter set,
serializer and admin form of the project and fails on a date field without the
bound, so a form added later cannot forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework import serializers

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


class DateField(forms.DateField):
    """A form's date, within EARLIEST..LATEST."""

    default_validators = [validate_date_in_range]


class DateTimeField(forms.DateTimeField):
    """A form's date and time, on a day within EARLIEST..LATEST."""

    default_validators = [validate_date_in_range]


class DateFilter(django_filters.DateFilter):
    """A query parameter that is a date, within EARLIEST..LATEST."""

    field_class = DateField


class ApiDateField(serializers.DateField):
    """An API body's date, within EARLIEST..LATEST."""

    default_validators = [validate_date_in_range]


class ApiDateTimeField(serializers.DateTimeField):
    """An API body's date and time, on a day within EARLIEST..LATEST."""

    default_validators = [validate_date_in_range]


def model_form_dates(*names: str) -> dict[str, type[forms.Field]]:
    """`Meta.field_classes` of a model form whose model fields `names` are dates."""
    return dict.fromkeys(names, DateField)


class AdminDatesInRange:
    """Mixed into the admin's ModelAdmin and inline classes, so a date typed in
    the Django admin is bounded like every other (the admin's own widgets stay)."""

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.DateField: {"form_class": DateField},
    }
