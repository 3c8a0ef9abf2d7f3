"""Portfolio filters, search and sorting (django-filter)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import Account, Segment, Stage
from .selectors import assignable_owners

OWNER_ALL = "all"
OWNER_ME = "me"
OWNER_NONE = "none"


def choices_set(flt: django_filters.Filter, choices: list[tuple[str, str]]) -> None:
    """Give one FilterSet instance's filter its own choices (owners known now).

    django-filter builds a filter's form field once and caches it on the filter
    (`Filter.field`), and every FilterSet deep-copies its class's filters, cache
    included. Once anything has read a field on the class (schema generation, an
    introspecting test), setting `extra["choices"]` alone no longer reaches the form:
    the cached field keeps the old, empty choices, "me" fails validation, and the
    owner filter is silently skipped, so a CSM's book listed every account. Dropping
    the cached field makes the form build it from these choices."""
    flt.extra["choices"] = choices
    flt.__dict__.pop("_field", None)


class PlainSelect(forms.Select):
    """A <select> rendered in Python. Django's template renderer includes two templates
    per option, which made the portfolio's four filter selects cost as much as its
    25 rows (docs/performance.md); the markup is the same."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '\n  <option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, choices, _index in widget["optgroups"]
                for option in choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>', widget["name"], flatatt(widget["attrs"]), options
        )


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ties are broken by id in the sort's own direction: pages never repeat or skip
    an account, and one index per sort (column, id) serves both directions
    (accounts' migration 0012). An empty last activity is the oldest: accounts
    nobody has touched come first by least recent activity, last by most recent."""

    def get_ordering_value(self, param: str) -> Any:
        value = super().get_ordering_value(param)
        name = value.removeprefix("-")
        if name != "last_activity_at":
            return value
        if value.startswith("-"):
            return F(name).desc(nulls_last=True)
        return F(name).asc(nulls_first=True)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        qs = super().filter(qs, value)
        ordering = list(qs.query.order_by)
        names = [o.lstrip("-") for o in ordering if isinstance(o, str)]
        if not ordering or any(n in ("pk", "id") for n in names):
            return qs
        last = ordering[-1]
        descending = (
            last.startswith("-") if isinstance(last, str) else getattr(last, "descending", False)
        )
        return qs.order_by(*ordering, "-pk" if descending else "pk")


class PortfolioFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    owner = django_filters.ChoiceFilter(
        method="by_owner", label="Owner", empty_label=None, widget=PlainSelect
    )
    segment = django_filters.ChoiceFilter(
        choices=Segment.choices, empty_label="Any segment", widget=PlainSelect
    )
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices, empty_label="Any stage", widget=PlainSelect
    )
    renewal_within = django_filters.NumberFilter(
        method="by_renewal_within",
        label="Renews within (days)",
        min_value=0,
        max_value=3650,
        widget=forms.NumberInput(attrs={"placeholder": "days", "min": 0, "max": 3650}),
    )
    quiet_for = django_filters.NumberFilter(
        method="by_quiet_for",
        label="No activity for (days)",
        min_value=1,
        max_value=3650,
        widget=forms.NumberInput(attrs={"placeholder": "days", "min": 1, "max": 3650}),
    )
    sort = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("owner__first_name", "owner"),
            ("stage", "stage"),
            ("arr", "arr"),
            ("renewal_date", "renewal"),
            ("health_score", "health"),
            ("last_activity_at", "activity"),
        ),
        label="Sort",
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        owners = [(str(u.pk), str(u)) for u in assignable_owners()]
        choices_set(
            self.filters["owner"],
            [
                (OWNER_ALL, "All owners"),
                (OWNER_ME, "My accounts"),
                (OWNER_NONE, "Unassigned"),
                *owners,
            ],
        )

    def search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value))

    def by_owner(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        if value == OWNER_ME:
            return queryset.filter(owner=self.user)
        if value == OWNER_NONE:
            return queryset.filter(owner__isnull=True)
        if value and value != OWNER_ALL:
            return queryset.filter(owner_id=int(value)) if value.isdigit() else queryset.none()
        return queryset

    def by_renewal_within(
        self, queryset: QuerySet[Account], name: str, value: Any
    ) -> QuerySet[Account]:
        if value is None:
            return queryset
        today = timezone.localdate()
        return queryset.filter(
            renewal_date__gte=today, renewal_date__lte=today + timedelta(days=int(value))
        )

    def by_quiet_for(self, queryset: QuerySet[Account], name: str, value: Any) -> QuerySet[Account]:
        """Accounts nobody has done anything with for `value` days (or ever)."""
        if value is None:
            return queryset
        since = timezone.now() - timedelta(days=int(value))
        return queryset.filter(Q(last_activity_at__lt=since) | Q(last_activity_at__isnull=True))
