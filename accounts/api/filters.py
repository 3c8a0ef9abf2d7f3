"""Query parameters of the list endpoints (django-filter)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from accounts.filter_base import BuiltOnceFilterSet

from ..dates import DateFilter, validate_date_in_range
from ..models import (
    MAX_ID,
    Account,
    Segment,
    Stage,
    UsageSnapshot,
    domain_clean,
    normalise_domain,
)


class IdFilter(django_filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, turned into UTC here: PostgreSQL refuses offsets beyond ±15:59
    that Python accepts, and an offset can push year 1 or 9999 out of range."""

    default_validators = [validate_date_in_range]

    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("This date and time is out of range.") from None


class StrictBooleanField(forms.NullBooleanField):
    """`true`/`false` (or 1/0); anything else is a 400 rather than ignored."""

    widget = forms.TextInput  # NullBooleanSelect would turn "maybe" into "unknown"

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Send true or false.")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(*args, **kwargs)


class OwnerFilter(django_filters.CharFilter):
    """The account owner: a user id, `me` or `none`. `field_name` is the path
    to the owner from the filtered model ("owner", "account__owner"), so every
    list slices the portfolio the same way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validators",
            [RegexValidator(r"^(me|none|[0-9]{1,18})$", "Send a user id, `me` or `none`.")],
        )
        kwargs.setdefault(
            "help_text", "A user id, `me` (the caller's accounts) or `none` (unassigned)."
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ("", None):
            return qs
        if value == "me":
            request = self.parent.request if self.parent is not None else None
            return qs.filter(**{self.field_name: request.user if request else None})
        if value == "none":
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return qs.filter(**{f"{self.field_name}_id": int(value)})


def segment_filter(field_name: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        field_name=field_name, choices=Segment.choices, help_text="The account's segment."
    )


class ArchivedAccountsHidden(django_filters.FilterSet):
    """Archived accounts (deleted or merged away in the CRM) and what belongs to them
    are left out unless asked for with `archived=true` (or, on accounts, a `status`)."""

    status_path = "status"
    # The account list's own `status` filter asks for archived accounts by name.
    status_asks = False
    archived = StrictBooleanFilter(
        method="archived_included",
        help_text="true: include archived accounts (deleted or merged away in the CRM).",
    )

    def archived_included(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset  # applied in filter_queryset, after the other filters

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        asked = self.status_asks and data.get("status") == Account.Status.ARCHIVED
        if data.get("archived") or asked:
            return queryset
        return queryset.exclude(**{self.status_path: Account.Status.ARCHIVED})


class AccountScopedFilterSet(ArchivedAccountsHidden):
    """The filters every list of records that belong to an account shares."""

    status_path = "account__status"
    owner = OwnerFilter(field_name="account__owner")
    segment = segment_filter("account__segment")
    account = IdFilter(field_name="account_id", help_text="Our account id.")


class AccountFilter(BuiltOnceFilterSet, ArchivedAccountsHidden):
    """The account list's filters; its form class is built once (BuiltOnceFilterSet),
    not per request."""

    status_asks = True
    owner = OwnerFilter(field_name="owner")
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    status = django_filters.ChoiceFilter(choices=Account.Status.choices)
    hubspot_id = django_filters.CharFilter(max_length=32)
    domain = django_filters.CharFilter(
        method="by_domain",
        max_length=253,
        validators=[domain_clean],
        help_text="A domain, or a web address on it (https://www.acme.com/ finds acme.com).",
    )
    updated_since = UpdatedSinceFilter(
        help_text="Only accounts changed at or after this time (ISO 8601), to pull changes.",
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def by_domain(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(domain=normalise_domain(value))


class UsageSnapshotFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id", help_text="Our account id.")
    date_from = DateFilter(field_name="date", lookup_expr="gte")
    date_to = DateFilter(field_name="date", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(
        help_text="Only snapshots stored or changed at or after this time (ISO 8601).",
    )

    class Meta:
        model = UsageSnapshot
        fields: list[str] = []


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=<field>` or `-<field>`, one of the view's `ordering_fields`.

    One field only: cursor pagination positions pages on the first ordering
    field, so more would promise what it cannot keep. An unknown field is a
    400 rather than silently ignored, and the schema lists the choices."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        value = request.query_params.get(self.ordering_param)
        if value is None:
            return self.get_default_ordering(view)
        choices = self._choices(view)
        if value not in choices:
            raise ValidationError({self.ordering_param: [f"Choose one of: {', '.join(choices)}."]})
        if value.lstrip("-") == "id":
            return [value]
        # Rows that tie on the field (the same ARR, the same day) come back in a
        # fixed order, so the cursor's offset among them lands on the same row
        # from one page to the next: no row twice, none skipped.
        return [value, "-id" if value.startswith("-") else "id"]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; prefix with `-` for descending.",
                "schema": {"type": "string", "enum": self._choices(view)},
            }
        ]

    def _choices(self, view: Any) -> list[str]:
        fields = list(getattr(view, "ordering_fields", None) or [])
        return [term for field in fields for term in (field, f"-{field}")]
