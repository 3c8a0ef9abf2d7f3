"""Portfolio filters, search and sorting (django-filter)."""

from __future__ import annotations

import copy
import html
from datetime import timedelta
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.safestring import SafeString, mark_safe
from django_filters.constants import EMPTY_VALUES

from .models import Account, Segment, Stage
from .portfolio_sql import PlainQuery, live_search_count, live_where
from .selectors import Person, assignable_owner_choices, live_account_counts, people

OWNER_ALL = "all"
OWNER_ME = "me"
OWNER_NONE = "none"
# The filters whose accounts the kept counts cannot tell (`live_counts`).
NOT_KEPT = ("q", "renewal_within", "quiet_for")


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


def _escaped(value: Any) -> str:
    """What `{{ value }}` writes: as conditional_escape, with html.escape."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _attrs_html(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html, in Python: False left out, True bare."""
    return "".join(
        f" {_escaped(name)}" if value is True else f' {_escaped(name)}="{_escaped(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A <select> written in Python. Django's template renderer includes two templates
    per option, which made the portfolio's four filter selects cost as much as its
    25 rows (docs/performance.md); the markup is what Django's renderer writes,
    character for character (tests/lifecycle/test_portfolio_rows.py)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        choices = list(self.choices)
        if self.allow_multiple_selected or any(isinstance(c[1], list | tuple) for c in choices):
            return super().render(name, value, attrs, renderer)  # groups: Django's way
        values = self.format_value(value)
        options = []
        chosen = False
        for option_value, label in choices:
            option_value = "" if option_value is None else option_value
            # As ChoiceWidget.optgroups: only the first matching option is selected.
            selected = not chosen and str(option_value) in values
            chosen |= selected
            options.append(
                f'\n  <option value="{_escaped(option_value)}"'
                f"{' selected' if selected else ''}>{_escaped(label)}</option>\n"
            )
        # Every value is escaped above.
        return mark_safe(
            f'<select name="{_escaped(name)}"{_attrs_html(self.build_attrs(self.attrs, attrs))}>'
            f"{''.join(options)}\n</select>"
        )


class PlainNumberInput(forms.NumberInput):
    """An <input type="number"> written in Python (input.html's markup): a template
    render per input cost more than the rest of the filter form."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        shown = self.format_value(value)
        value_attr = "" if shown is None else f' value="{_escaped(shown)}"'
        return mark_safe(  # every value is escaped
            f'<input type="{_escaped(self.input_type)}" name="{_escaped(name)}"{value_attr}'
            f"{_attrs_html(self.build_attrs(self.attrs, attrs))}>"
        )


class _SharedFields(dict[str, forms.Field]):
    """A form class's fields that its forms share, but for those in `own`. Each form
    deep-copies its class's fields so that it may change them; the portfolio's
    filter form changes only the owner field (its choices), and copying the other
    fields and their widgets cost as much as building and validating the form."""

    def __init__(self, fields: dict[str, forms.Field], *, own: set[str]) -> None:
        super().__init__(fields)
        self.own = own

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return {
            name: copy.deepcopy(field, memo) if name in self.own else field
            for name, field in self.items()
        }


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
        widget=PlainNumberInput(attrs={"placeholder": "days", "min": 0, "max": 3650}),
    )
    quiet_for = django_filters.NumberFilter(
        method="by_quiet_for",
        label="No activity for (days)",
        min_value=1,
        max_value=3650,
        widget=PlainNumberInput(attrs={"placeholder": "days", "min": 1, "max": 3650}),
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

    # Built once per process from the filters (get_form_class), see __init__.
    _form_class: ClassVar[type[forms.Form] | None] = None

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        user: Any = None,
        request: Any = None,
        prefix: str | None = None,
        everyone: list[Person] | None = None,
    ) -> None:
        # What FilterSet.__init__ does, without deep-copying every filter (and so
        # building each filter's form field and a new form class) per request: a
        # FilterSet copies them so that one instance can change its own filters, and
        # this one changes none. Its filters are the class's, read only; the owner
        # choices known now go on its own form (`form`), and the methods named by
        # filters are called on this instance (`filter_queryset`).
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = Account.objects.all() if queryset is None else queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = self.base_filters
        self.user = user
        if everyone is not None:
            self.__dict__["people"] = everyone  # already read: `people`

    @cached_property
    def people(self) -> list[Person]:
        """Every user, read once per request: the owner choices and the owner sort."""
        return people()

    def owner_choices(self) -> list[tuple[str, str]]:
        return [
            (OWNER_ALL, "All owners"),
            (OWNER_ME, "My accounts"),
            (OWNER_NONE, "Unassigned"),
            *assignable_owner_choices(self.people),
        ]

    def get_form_class(self) -> type[forms.Form]:
        """FilterSet.get_form_class's form, built once per process: from copies of
        the filters, as a FilterSet instance holds them, so a field cached on the
        class's filters (see choices_set) is never the one used."""
        cls = type(self)
        built: type[forms.Form] | None = cls.__dict__.get("_form_class")  # not a base's
        if built is None:
            filters = copy.deepcopy(cls.base_filters)
            for flt in filters.values():
                flt.model = cls._meta.model
            fields = {name: flt.field for name, flt in filters.items()}
            form_class: Any = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            form_class.base_fields = _SharedFields(form_class.base_fields, own={"owner"})
            cls._form_class = built = form_class
        return built

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form_class = self.get_form_class()
            if self.is_bound:
                self._form = form_class(self.data, prefix=self.form_prefix)
            else:
                self._form = form_class(prefix=self.form_prefix)
            # The form's fields are its own (Form deep-copies the class's).
            owner = self._form.fields["owner"]
            assert isinstance(owner, forms.ChoiceField)
            owner.choices = self.owner_choices()
        return self._form

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """FilterSet.filter_queryset, calling a filter's `method` on this instance
        (django-filter's FilterMethod finds it through the filter's parent, which
        the shared filters do not have). Archived accounts (deleted or merged away in
        HubSpot) are not part of the book: the portfolio's accounts are the live ones
        (`plain_query`: accounts.portfolio_sql.live_where)."""
        queryset = queryset.exclude(status=Account.Status.ARCHIVED)
        for name, value in self.form.cleaned_data.items():
            flt = self.filters[name]
            if isinstance(flt.method, str):
                if value not in EMPTY_VALUES:
                    queryset = getattr(self, flt.method)(queryset, flt.field_name, value)
            else:
                queryset = flt.filter(queryset, value)
        return queryset

    # The columns a sort may name in `plain_query` (the owner's first name is a join:
    # OwnerOrderPaginator's ranges when it is the only sort, else the queryset).
    PLAIN_SORTS = frozenset(
        {"name", "stage", "arr", "renewal_date", "health_score", "last_activity_at"}
    )

    def plain_query(self) -> PlainQuery | None:
        """What `filter_queryset` does to the live accounts (the view's queryset), as
        SQL for accounts_account `a` (accounts.portfolio_sql): the same filters from
        the same cleaned values, each as the ORM writes its lookup on this
        database, and the same order. None for what it does not write: a sort on
        the owner's first name with other sorts, or no valid sort. Sorted by the owner
        alone, `by_owner` says which way and `order` is empty (the owner ranges of
        accounts.portfolio_sql.portfolio_owner_page)."""
        self.errors  # noqa: B018 (validates the form, as FilterSet.qs does first)
        where = [live_where()]
        params: list[Any] = []
        order: list[tuple[str, bool, str]] = []
        by_owner: bool | None = None
        term = ""
        ops = connection.ops
        for name, value in self.form.cleaned_data.items():
            flt = self.filters[name]
            if name == "sort":
                if value in EMPTY_VALUES:
                    return None
                for param in value:
                    if param in EMPTY_VALUES:
                        continue
                    ordering = flt.get_ordering_value(param)
                    if isinstance(ordering, OrderBy):
                        if not connection.features.supports_order_by_nulls_modifier:
                            return None
                        column = getattr(ordering.expression, "name", "")
                        descending = ordering.descending
                        nulls = (
                            " NULLS FIRST"
                            if ordering.nulls_first
                            else " NULLS LAST"
                            if ordering.nulls_last
                            else ""
                        )
                    else:
                        column, descending = ordering.removeprefix("-"), ordering[:1] == "-"
                        nulls = ""
                    if column == "owner__first_name" and len(value) == 1:
                        by_owner = descending  # OwnerOrderPaginator's order
                        continue
                    if column not in self.PLAIN_SORTS:
                        return None
                    order.append((column, descending, nulls))
                if order:
                    # StableOrderingFilter: ties by id, in the last sort's direction.
                    order.append(("id", order[-1][1], ""))
            elif value in EMPTY_VALUES:
                continue
            elif name == "q":
                value = term = value.strip()
                if value:
                    # Django's icontains on this database (PostgreSQL: UPPER(col::text)
                    # LIKE UPPER(%s), what the trigram indexes are on).
                    like = connection.operators["icontains"] % "%s"  # type: ignore[attr-defined]
                    cast = ops.lookup_cast("icontains", "CharField")
                    pattern = f"%{ops.prep_for_like_query(value)}%"
                    where.append(f"({cast % 'a.name'} {like} OR {cast % 'a.domain'} {like})")
                    params += [pattern, pattern]
            elif name == "owner":
                if value == OWNER_ME:
                    where.append("a.owner_id = %s")
                    params.append(self.user.pk)
                elif value == OWNER_NONE:
                    where.append("a.owner_id IS NULL")
                elif value != OWNER_ALL:
                    if not value.isdigit():
                        where.append("1 = 0")  # queryset.none()
                    else:
                        where.append("a.owner_id = %s")
                        params.append(int(value))
            elif name in ("segment", "stage"):
                if value == flt.null_value:
                    return None
                where.append(f"a.{name} = %s")
                params.append(value)
            elif name == "renewal_within":
                today = timezone.localdate()
                where.append("a.renewal_date >= %s AND a.renewal_date <= %s")
                params += [
                    ops.adapt_datefield_value(today),
                    ops.adapt_datefield_value(today + timedelta(days=int(value))),
                ]
            elif name == "quiet_for":
                since = timezone.now() - timedelta(days=int(value))
                where.append("(a.last_activity_at < %s OR a.last_activity_at IS NULL)")
                params.append(ops.adapt_datetimefield_value(since))
            else:
                return None  # a filter this method does not know
        if not order and by_owner is None:
            return None
        count = None
        if term and len(where) == 2:  # live accounts and the search, nothing else
            count = live_search_count(term)
        return PlainQuery(tuple(where), tuple(params), tuple(order), by_owner, count)

    def search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value))

    def owners_kept(self, value: str | None) -> list[int | None] | None:
        """The owners (None: unassigned) whose accounts the owner filter's `value`
        keeps, None for every account: what `by_owner` filters by."""
        if value == OWNER_ME:
            return [self.user.pk]
        if value == OWNER_NONE:
            return [None]
        if value and value != OWNER_ALL:
            return [int(value)] if value.isdigit() else []
        return None

    def live_counts(self) -> dict[int | None, int] | None:
        """How many live accounts of each owner (owners with none left out) this
        filter keeps of the live accounts, from the counts the database keeps by
        owner, segment and stage (`live_account_counts`, exact); None when the search,
        the renewal window or the quiet days narrow them, or where no counts are
        kept: count those."""
        data = self.form.cleaned_data
        if any(data.get(name) not in EMPTY_VALUES for name in NOT_KEPT):
            return None
        kept = live_account_counts()
        if kept is None:
            return None
        owners = self.owners_kept(data.get("owner"))
        segment, stage = data.get("segment"), data.get("stage")
        counts: dict[int | None, int] = {}
        for row in kept:
            if (
                (owners is None or row.owner_id in owners)
                and (segment in EMPTY_VALUES or row.segment == segment)
                and (stage in EMPTY_VALUES or row.stage == stage)
            ):
                counts[row.owner_id] = counts.get(row.owner_id, 0) + row.accounts
        return counts

    def by_owner(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        owners = self.owners_kept(value)
        if owners is None:
            return queryset
        if owners == [None]:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=owners[0]) if owners else queryset.none()

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
