"""What the accounts endpoints read and write."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import FunctionType
from typing import Any, ClassVar, NamedTuple, cast

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from ..dates import ApiDateField
from ..models import Account, ForecastCategory, HealthBand, Stage, UsageSnapshot, User

PG_INT_MAX = 2**31 - 1
PG_SMALLINT_MAX = 2**15 - 1


# How PlainFieldsFirst reads a field: a column or related object read as is, a
# method of the model called, a timestamp written by hand, or DRF's own path.
_ATTR, _CALL, _TIMESTAMP, _DRF = range(4)


def _is_timestamp(field: Any) -> bool:
    """DRF's DateTimeField as this API configures it: ISO 8601 in the current
    time zone (no format or time zone of its own)."""
    return (
        type(field) is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
        and settings.USE_TZ
    )


# Fields whose output depends on the value and the field's own options only, never on
# the request, the context or the parent serializer.
_CONTEXT_FREE = {
    cls.to_representation
    for cls in (
        serializers.BigIntegerField,
        serializers.BooleanField,
        serializers.CharField,
        serializers.ChoiceField,
        serializers.DateField,
        serializers.DateTimeField,
        serializers.DecimalField,
        serializers.FloatField,
        serializers.IntegerField,
    )
}


# A field's writer for one exact type of value: the type, and the function that writes
# it (None: the value itself).
_Fast = tuple[type, Callable[[Any], Any] | None] | None


def _fast_writer(field: Any) -> _Fast:
    """What the field writes for values of one exact type, so its `to_representation`
    can be skipped for them: DRF's CharField writes str(value), its IntegerField
    int(value), a ChoiceField whose choices are strings the choice equal to the value
    (or the value), a DateField in ISO 8601 value.isoformat(). None for other fields."""
    kind = type(field)
    if kind is serializers.CharField:
        return (str, None)
    if kind is serializers.IntegerField:
        return (int, None)
    if kind is serializers.ChoiceField and all(
        type(choice) is str for choice in field.choice_strings_to_values.values()
    ):
        return (str, None)
    if (
        kind is serializers.DateField
        and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
    ):
        return (date, date.isoformat)
    return None


def _context_free(field: Any) -> bool:
    if isinstance(field, PlainFieldsFirst):
        # a nested serializer whose own plan is shared
        return field._plain_plan() is PlainFieldsFirst._shared_plans.get(type(field))
    return type(field).to_representation in _CONTEXT_FREE


class PlainFieldsFirst:
    """`to_representation` as DRF's Serializer does it, with the per-row detour cut
    for fields that read one attribute of the instance: a model column or a related
    object (select_related) is read with getattr, a model method (`get_full_name`)
    is called, and the field converts the value, which is all `Field.get_attribute`
    ends up doing for them (without its `inspect.signature` of a method per row).
    Timestamps are converted as DRF's DateTimeField does (to the current time zone,
    ISO 8601, "Z" for UTC), asking for the time zone once per row instead of once
    per field. Every other field goes through DRF unchanged. Same output
    (tests/api/test_serializer_fast_path.py compares it with DRF's own serializers); a
    100-row page of accounts spent most of its time here (docs/performance.md)."""

    # Plans every instance of a serializer class can share (see _plain_plan).
    _shared_plans: ClassVar[dict[type, list[tuple[str, int, str, Any, _Fast]]]] = {}

    def _plain_plan(self) -> list[tuple[str, int, str, Any, _Fast]]:
        plan = self._shared_plans.get(type(self)) or self.__dict__.get("_plain_fields_plan")
        if plan is None:
            plan = self._plan_of(self)
            if all(kind != _DRF and _context_free(field) for _, kind, _, field, _ in plan):
                # Building a ModelSerializer's fields (model introspection, one field
                # object per column) cost as much as serializing a 100-row page: when
                # no field's output depends on the request or the parent (plain
                # values only), one plan serves every later instance. It is built on
                # an instance of its own, so it keeps no request's context alive.
                plan = self._shared_plans[type(self)] = self._plan_of(type(self)())
            else:
                self.__dict__["_plain_fields_plan"] = plan
        return plan

    @staticmethod
    def _plan_of(serializer: Any) -> list[tuple[str, int, str, Any, _Fast]]:
        model = serializer.Meta.model
        plan = []
        for field in serializer._readable_fields:
            attrs = field.source_attrs
            on_class = getattr(model, attrs[0], None) if len(attrs) == 1 else None
            if isinstance(on_class, DeferredAttribute | ForwardManyToOneDescriptor):
                kind = _TIMESTAMP if _is_timestamp(field) else _ATTR
            elif isinstance(on_class, FunctionType):
                kind = _CALL
            else:
                kind = _DRF
            fast = _fast_writer(field) if kind != _DRF else None
            plan.append((field.field_name, kind, attrs[0] if attrs else "", field, fast))
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        ret: dict[str, Any] = {}
        zone = None
        for name, kind, attr, field, fast in self._plain_plan():
            if kind == _DRF:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            elif kind == _CALL:
                attribute = check = getattr(instance, attr)()
            else:
                attribute = check = getattr(instance, attr)
                if fast is not None and type(attribute) is fast[0]:  # see _fast_writer
                    ret[name] = attribute if fast[1] is None else fast[1](attribute)
                    continue
                if kind == _TIMESTAMP and isinstance(attribute, datetime) and attribute.tzinfo:
                    zone = zone or timezone.get_current_timezone()
                    text = attribute.astimezone(zone).isoformat()
                    ret[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
                    continue
            ret[name] = None if check is None else field.to_representation(attribute)
        return ret


class OwnerSerializer(PlainFieldsFirst, serializers.ModelSerializer[User]):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "name"]
        read_only_fields = fields


class AccountRefSerializer(PlainFieldsFirst, serializers.ModelSerializer[Account]):
    """The account a row belongs to, as other apps' endpoints show it."""

    owner = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Account
        fields = ["id", "name", "segment", "owner"]
        read_only_fields = fields


def optional_choice(choices: Any) -> serializers.ChoiceField:
    # Read-only model fields lose allow_blank, and with it the "" the schema must allow.
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class AccountSerializer(PlainFieldsFirst, serializers.ModelSerializer[Account]):
    owner = OwnerSerializer(read_only=True, allow_null=True)
    health_band = optional_choice(HealthBand.choices)
    renewal_forecast_category = optional_choice(ForecastCategory.choices)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "hubspot_id",
            "owner",
            "segment",
            "arr",
            "currency",
            "contract_start",
            "renewal_date",
            "stage",
            "status",
            "health_score",
            "health_band",
            "onboarding_status",
            "onboarding_progress",
            "next_business_review",
            "renewal_forecast_category",
            "renewal_forecast_arr",
            "last_activity_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# The account list reads its page as values, not model instances (an account and its
# owner per row, with every other column and the JSON of field change times decoded):
# AccountSerializer reads these rows as it reads accounts, attribute by attribute
# (every field of its plan is a column, the owner's name the model's own method), so
# it writes the same (tests/api/test_serializer_fast_path.py compares them).
_ACCOUNT_COLUMNS = tuple(f for f in AccountSerializer.Meta.fields if f != "owner")
_OWNER_COLUMNS = ("id", "username", "email", "first_name", "last_name")
AccountRow: Any = cast(Any, namedtuple)("AccountRow", (*_ACCOUNT_COLUMNS, "owner"))


class OwnerRow(NamedTuple):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str

    def get_full_name(self) -> str:
        return User.get_full_name(self)  # type: ignore[arg-type]  # the model's own, on its columns


def account_values(queryset: QuerySet[Account]) -> QuerySet[Any]:
    """`queryset` as the columns AccountSerializer writes, named rows (the cursor
    pagination reads its ordering field off them); `account_rows` nests the owner."""
    return queryset.values_list(
        *_ACCOUNT_COLUMNS, *(f"owner__{c}" for c in _OWNER_COLUMNS), named=True
    )


def account_rows(values: Iterable[Sequence[Any]]) -> list[Any]:
    """AccountRow per row of `account_values`, its owner an OwnerRow or None."""
    n = len(_ACCOUNT_COLUMNS)
    return [
        AccountRow(*row[:n], None if row[n] is None else OwnerRow._make(row[n:])) for row in values
    ]


class StageChangeSerializer(serializers.Serializer[Any]):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=2000, help_text="Why the stage changes; kept.")


class UsageSnapshotSerializer(serializers.ModelSerializer[UsageSnapshot]):
    class Meta:
        model = UsageSnapshot
        fields = [
            "id",
            "account",
            "date",
            "active_users",
            "seats_purchased",
            "seats_used",
            "logins_30d",
            "core_features_adopted",
            "open_tickets",
            "csat",
            "nps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _count(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PG_INT_MAX, **kwargs
    )


class UsageRowSerializer(serializers.Serializer[Any]):
    """One reading for one account and day. Omitted metrics are stored empty."""

    account = serializers.CharField(
        max_length=253,
        help_text="Our account id, the HubSpot company id, or the account's domain.",
    )
    date = ApiDateField()
    active_users = _count()
    seats_purchased = _count()
    seats_used = _count()
    logins_30d = _count(help_text="Logins over the last 30 days.")
    core_features_adopted = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PG_SMALLINT_MAX
    )
    open_tickets = _count()
    csat = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("1"),
        max_value=Decimal("5"),
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    nps = serializers.IntegerField(required=False, allow_null=True, min_value=-100, max_value=100)


@extend_schema_field(UsageRowSerializer(many=True))
class UsageRowsField(serializers.ListField):
    """Rows are validated one by one by the view, so one bad row is reported
    beside the good ones instead of failing the whole list here."""

    child = serializers.JSONField(allow_null=True)

    def to_internal_value(self, data: Any) -> list[Any]:
        rows: list[Any] = super().to_internal_value(data)
        limit = settings.API_USAGE_INGEST_MAX_ROWS
        if not rows:
            raise serializers.ValidationError("Send at least one row.")
        if len(rows) > limit:
            raise serializers.ValidationError(
                f"Send at most {limit:,} rows per request; split the rest."
            )
        return rows


class UsageIngestSerializer(serializers.Serializer[Any]):
    rows = UsageRowsField(help_text="Rows to store; at most API_USAGE_INGEST_MAX_ROWS.")
    partial = serializers.BooleanField(  # type: ignore[assignment]
        default=False,
        help_text="Store the valid rows even when others are rejected "
        "(also `?partial=true`). By default one bad row stores nothing.",
    )


class UsageRowResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="Position of the row in `rows`, from 0.")
    status = serializers.ChoiceField(
        choices=[
            ("stored", "Stored (created or replaced the reading of that day)"),
            ("rejected", "Rejected; see errors"),
            ("skipped", "Valid, but not stored because other rows were rejected"),
        ]
    )
    account_id = serializers.IntegerField(allow_null=True)
    date = ApiDateField(allow_null=True)
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class UsageIngestResultSerializer(serializers.Serializer[Any]):
    partial = serializers.BooleanField()  # type: ignore[assignment]
    stored = serializers.IntegerField()
    rejected = serializers.IntegerField()
    skipped = serializers.IntegerField()
    rows = UsageRowResultSerializer(many=True)
