"""The account fields that sync with HubSpot company properties, and how each converts.

Pure but for the owner, whose ids a per-pass directory turns into users (owners.py); no
HTTP. Every value is compared in one canonical form, the string
HubSpot stores (`canonical()`), so "1500", "1500.0" and Decimal("1500.00") are one value
and a cleared field is "" on both sides.

Each field has a default owner (admins change it per field, `FieldRule`):
- `hubspot`: HubSpot-owned, pulled only (name, domain, owner, ARR by default); the owner
  is compared three ways like every rule field, never copied from a record as it comes;
- `lifecycle`: Lifecycle-owned, pushed only (the CS fields);
- `two_way`: both, with a policy for concurrent edits: the latest change wins, or ask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from accounts.hubspot.rules.mapping import OWNER_PROPERTY, Unmappable, parse_date, parse_decimal
from accounts.hubspot.rules.owners import OwnerDirectory
from accounts.models import ForecastCategory, HealthBand, Stage, normalise_domain

HUBSPOT = "hubspot"
LIFECYCLE = "lifecycle"
TWO_WAY = "two_way"
LATEST = "latest"
ASK = "ask"

PROPERTY_GROUP = {"name": "lifecycle", "label": "Lifecycle (customer success)"}
ACCOUNT_ID_PROPERTY = "lifecycle_account_id"
DEAL_ID_PROPERTY = "lifecycle_deal_id"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def canonical_number(value: Any) -> str:
    return _number(value)


def _number(value: Any) -> str:
    """Numbers without trailing zeros: Decimal("1500.00") -> "1500", 12.5 -> "12.5"."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    return format(number, "f")


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else _text(value)


@dataclass(frozen=True)
class FieldSpec:
    """One syncable account field: our attribute, its default HubSpot property, which
    owners make sense for it, and how to convert each way."""

    key: str
    label: str
    attribute: str
    property: str
    default_owner: str
    owners: tuple[str, ...]
    to_hubspot: Callable[[Any], str]
    from_hubspot: Callable[[str], Any]
    # For properties Lifecycle creates in the portal (None: HubSpot's own property).
    definition: dict[str, Any] | None = None

    # {value: label} for enumerations, to show values as people read them.
    choices: tuple[tuple[str, str], ...] = ()
    # The canonical value of a property HubSpot holds empty: "" (cleared), or what our
    # field takes for it (ARR: an empty annual revenue is 0, as our ARR is).
    empty: str = ""

    def label_of(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def canonical_local(self, value: Any) -> str:
        return self.to_hubspot(value)

    def canonical_remote(self, raw: Any) -> str:
        """HubSpot's value in canonical form; Unmappable when it cannot be read."""
        text = _text(raw)
        return self.to_hubspot(self.from_hubspot(text)) if text else self.empty


def _enum(choices: Any, field: str) -> Callable[[str], str]:
    allowed = {value for value, _ in choices}

    def parse(raw: str) -> str:
        if raw and raw not in allowed:
            raise Unmappable(f"{field} has no option {raw!r} in Lifecycle")
        return raw

    return parse


def _int_0_100(field: str) -> Callable[[str], int | None]:
    def parse(raw: str) -> int | None:
        if raw == "":
            return None
        number = parse_decimal(raw, field=field)
        if not 0 <= number <= 100:
            raise Unmappable(f"{field} must be between 0 and 100: {raw!r}")
        return int(number)

    return parse


def _decimal_or_none(field: str) -> Callable[[str], Decimal | None]:
    def parse(raw: str) -> Decimal | None:
        return None if raw == "" else parse_decimal(raw, field=field)

    return parse


def _options(choices: Any) -> list[dict[str, Any]]:
    return [
        {"label": str(label), "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(choices)
    ]


def _custom(name: str, label: str, type_: str, field_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": PROPERTY_GROUP["name"],
        **extra,
    }


def _enum_spec(
    key: str, label: str, prop: str, owners: tuple[str, ...], choices: Any, property_label: str
) -> FieldSpec:
    """A Lifecycle-owned-by-default field of our choices, provisioned as an enumeration
    whose options (internal value, our label) follow them."""
    return FieldSpec(
        key,
        label,
        key,
        prop,
        LIFECYCLE,
        owners,
        _text,
        _enum(choices, prop),
        _custom(prop, property_label, "enumeration", "select", options=_options(choices)),
        choices=tuple((v, str(lbl)) for v, lbl in choices),
    )


ALL = (HUBSPOT, LIFECYCLE, TWO_WAY)


def owner_spec(directory: OwnerDirectory) -> FieldSpec:
    """The account's owner as HubSpot's `hubspot_owner_id`: values are owner ids on both
    sides; an owner id Lifecycle cannot name reads as no owner ("")."""
    return FieldSpec(
        "owner",
        "Owner",
        "owner_id",
        OWNER_PROPERTY,
        HUBSPOT,
        ALL,
        directory.owner_of,
        directory.user_of,
    )


ACCOUNT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "name",
        "Name",
        "name",
        "name",
        HUBSPOT,
        ALL,
        _text,
        lambda raw: raw[:200],
    ),
    FieldSpec(
        "domain",
        "Domain",
        "domain",
        "domain",
        HUBSPOT,
        ALL,
        _text,
        lambda raw: normalise_domain(raw)[:253],
    ),
    # Bound to a directory read for each pass by field_rules.rules_load.
    owner_spec(OwnerDirectory(refs={})),
    FieldSpec(
        "arr",
        "ARR",
        "arr",
        "annualrevenue",
        HUBSPOT,
        ALL,
        _number,
        lambda raw: parse_decimal(raw, field="annualrevenue"),
        empty="0",
    ),
    FieldSpec(
        "health_score",
        "Health score",
        "health_score",
        "lifecycle_health_score",
        LIFECYCLE,
        (LIFECYCLE,),
        _number,
        _int_0_100("lifecycle_health_score"),
        _custom("lifecycle_health_score", "Health score", "number", "number"),
    ),
    _enum_spec(
        "health_band",
        "Health band",
        "lifecycle_health_band",
        (LIFECYCLE,),
        HealthBand.choices,
        "Health band",
    ),
    _enum_spec(
        "stage",
        "Lifecycle stage",
        "lifecycle_stage",
        (LIFECYCLE, TWO_WAY),
        Stage.choices,
        "Lifecycle stage (CS)",
    ),
    FieldSpec(
        "onboarding_status",
        "Onboarding status",
        "onboarding_status",
        "lifecycle_onboarding_status",
        LIFECYCLE,
        (LIFECYCLE,),
        _text,
        lambda raw: raw[:20],
        _custom("lifecycle_onboarding_status", "Onboarding status", "string", "text"),
    ),
    FieldSpec(
        "onboarding_progress",
        "Onboarding progress (%)",
        "onboarding_progress",
        "lifecycle_onboarding_progress",
        LIFECYCLE,
        (LIFECYCLE,),
        _number,
        _int_0_100("lifecycle_onboarding_progress"),
        _custom("lifecycle_onboarding_progress", "Onboarding progress (%)", "number", "number"),
    ),
    FieldSpec(
        "next_business_review",
        "Next business review",
        "next_business_review",
        "lifecycle_next_business_review",
        LIFECYCLE,
        (LIFECYCLE, TWO_WAY),
        _date,
        lambda raw: parse_date(raw, field="lifecycle_next_business_review"),
        _custom("lifecycle_next_business_review", "Next business review", "date", "date"),
    ),
    _enum_spec(
        "renewal_forecast_category",
        "Renewal forecast",
        "lifecycle_renewal_forecast",
        (LIFECYCLE, TWO_WAY),
        ForecastCategory.choices,
        "Renewal forecast",
    ),
    FieldSpec(
        "renewal_forecast_arr",
        "Renewal forecast ARR",
        "renewal_forecast_arr",
        "lifecycle_renewal_arr",
        LIFECYCLE,
        (LIFECYCLE, TWO_WAY),
        _number,
        _decimal_or_none("lifecycle_renewal_arr"),
        _custom("lifecycle_renewal_arr", "Renewal forecast ARR", "number", "number"),
    ),
)
BY_KEY = {spec.key: spec for spec in ACCOUNT_FIELDS}
ACCOUNT_ID_DEFINITION = _custom(
    ACCOUNT_ID_PROPERTY,
    "Lifecycle account id",
    "string",
    "text",
    hasUniqueValue=True,
    description="Lifecycle's id for this company; set by Lifecycle, used for upserts.",
)


DEAL_ID_DEFINITION = _custom(
    DEAL_ID_PROPERTY,
    "Lifecycle deal id",
    "string",
    "text",
    hasUniqueValue=True,
    description="Lifecycle's id for a deal it made (renewal, expansion); used for upserts.",
)


def definitions() -> list[dict[str, Any]]:
    """Every company property Lifecycle provisions, the upsert key first."""
    return [ACCOUNT_ID_DEFINITION, *(s.definition for s in ACCOUNT_FIELDS if s.definition)]
