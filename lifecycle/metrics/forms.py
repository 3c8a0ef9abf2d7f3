"""The dashboard's period and filter choices, from the query string."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict

from accounts.dates import DateField
from accounts.filters import PlainSelect
from accounts.models import Segment
from accounts.selectors import assignable_owners

from .periods import GRAIN_LABELS, Grain, Period, period_containing, previous_period
from .scope import Scope

MAX_CUSTOM_DAYS = 3 * 366


class MetricsForm(forms.Form):
    # The selects are written in Python (accounts.filters.PlainSelect: the same
    # markup without two template includes per option, a third of the page's cost).
    grain = forms.ChoiceField(
        label="Period",
        choices=[(g.value, GRAIN_LABELS[g]) for g in Grain],
        required=False,
        widget=PlainSelect,
    )
    on = DateField(label="Containing", required=False, widget=forms.DateInput({"type": "date"}))
    start = DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    owner = forms.ChoiceField(label="Owner", required=False, widget=PlainSelect)
    segment = forms.ChoiceField(
        label="Segment",
        choices=[("", "Any segment"), *Segment.choices],
        required=False,
        widget=PlainSelect,
    )

    def __init__(self, data: QueryDict, *, today: date, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.today = today
        owner_field: Any = self.fields["owner"]
        owner_field.choices = [
            ("", "All owners"),
            *((str(u.pk), str(u)) for u in assignable_owners()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("grain") == Grain.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Give both dates of a custom period.")
            if end < start:
                raise forms.ValidationError("The period must end after it starts.")
            if (end - start).days > MAX_CUSTOM_DAYS:
                raise forms.ValidationError("Custom periods are at most three years long.")
        return data

    def _valid_fields(self) -> dict[str, Any]:
        """The fields that validated; one bad field does not drop the others."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def period(self) -> Period:
        """The chosen period; the current quarter when nothing valid is chosen."""
        data = self._valid_fields()
        grain = Grain(data.get("grain") or Grain.QUARTER)
        if grain == Grain.CUSTOM:
            if not self.errors and data.get("start") and data.get("end"):
                return Period(data["start"], data["end"], Grain.CUSTOM)
            grain = Grain.QUARTER
        return period_containing(data.get("on") or self.today, grain)

    def scope(self) -> Scope:
        data = self._valid_fields()
        owner = data.get("owner")
        return Scope(owner_id=int(owner) if owner else None, segment=data.get("segment") or "")


def period_query(period: Period, base: QueryDict) -> str:
    """Query string for `period` keeping the filters in `base`."""
    query = base.copy()
    for key in ("grain", "on", "start", "end", "page"):
        query.pop(key, None)
    query["grain"] = period.grain.value
    if period.grain == Grain.CUSTOM:
        query["start"] = period.start.isoformat()
        query["end"] = period.end.isoformat()
    else:
        query["on"] = period.start.isoformat()
    return query.urlencode()


def neighbours(period: Period) -> tuple[Period, Period]:
    """The period before and the one after."""
    before = previous_period(period)
    if period.grain == Grain.CUSTOM:
        start = period.end + timedelta(days=1)
        return before, Period(start, start + timedelta(days=period.days - 1), Grain.CUSTOM)
    return before, period_containing(period.end + timedelta(days=1), period.grain)
