"""The per-field bookkeeping of two-way sync, one typed structure per synced field of a
linked account (`SyncState.fields`, keyed by the field's rule key; our account id's
ledger under `lifecycle_account_id`). Stored as one JSON object per field, read and
written only through these types, never by position.

    base, base_ms       the last value both sides agreed on, and when (None: never)
    prop                the HubSpot property it was last seen and written under
    remote, remote_ms   HubSpot's value as last seen, and when HubSpot set it (exactly,
                        from property history or a webhook's occurredAt; 0: unknown)
    remote_by           who set HubSpot's value ("CRM_UI userId:9", "INTEGRATION 4242";
                        our own confirmed write names our app)
    reset_ms            HubSpot's value is the base, but someone other than us set it
                        again after the sides agreed (A -> C -> A), at this instant: a
                        HubSpot edit like any other (0: none known)
    written             what we last wrote (value, written at, agreed before, ours at)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import models


@dataclass(slots=True)
class Written:
    """Our last write of a field: the value, when HubSpot recorded it (its clock; when
    unknown, when we sent it), when the sides last agreed before it, and when our edit
    was made (epoch ms each)."""

    value: str
    written_ms: int
    agreed_before_ms: int = 0
    ours_ms: int = 0

    @classmethod
    def from_json(cls, raw: Any) -> Written:
        if isinstance(raw, list | tuple):  # the four-item lists of older rows
            return cls(str(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]))
        get = raw.get
        return cls(
            str(raw["value"]),
            int(get("written_ms") or 0),
            int(get("agreed_before_ms") or 0),
            int(get("ours_ms") or 0),
        )


@dataclass(slots=True)
class FieldSync:
    """Both sides of one synced field of one linked account."""

    prop: str = ""
    base: str | None = None
    base_ms: int = 0
    remote: str | None = None
    remote_ms: int = 0
    remote_by: str = ""
    written: Written | None = None
    reset_ms: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FieldSync:
        # Positional, one lookup per key: a push decodes a dozen per account.
        get = raw.get
        written = get("written")
        return cls(
            str(get("prop") or ""),
            get("base"),
            int(get("base_ms") or 0),
            get("remote"),
            int(get("remote_ms") or 0),
            str(get("remote_by") or ""),
            Written.from_json(written) if written else None,
            int(get("reset_ms") or 0),
        )

    def to_json(self) -> dict[str, Any]:
        # "" is a value (cleared); only what is unknown or unset is left out. Written by
        # hand (not dataclasses.asdict, which deep-copies): a push saves thousands.
        raw: dict[str, Any] = {"prop": self.prop}
        if self.base is not None:
            raw["base"] = self.base
        if self.base_ms:
            raw["base_ms"] = self.base_ms
        if self.remote is not None:
            raw["remote"] = self.remote
        if self.remote_ms:
            raw["remote_ms"] = self.remote_ms
        if self.remote_by:
            raw["remote_by"] = self.remote_by
        if self.written is not None:
            w = self.written
            raw["written"] = {
                "value": w.value,
                "written_ms": w.written_ms,
                "agreed_before_ms": w.agreed_before_ms,
                "ours_ms": w.ours_ms,
            }
        if self.reset_ms:
            raw["reset_ms"] = self.reset_ms
        return raw

    def agree(self, value: str, at_ms: int) -> None:
        """`value` is now what both sides hold."""
        self.base = value
        self.base_ms = at_ms
        self.reset_ms = 0

    def changed_remotely(self) -> bool:
        """HubSpot's value changed since the sides agreed: another value, or the agreed
        one set again by someone else afterwards."""
        return self.remote is not None and (self.remote != self.base or self.reset_ms > 0)

    def seen(self, prop: str, value: str) -> None:
        """HubSpot holds `value` under `prop`; a new value's time and author are not
        known until history or a webhook tells."""
        if self.remote != value or self.prop != prop:
            self.remote_ms, self.remote_by, self.reset_ms = 0, "", 0
        self.prop, self.remote = prop, value


FieldStates = dict[str, FieldSync]


class FieldStatesEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, FieldSync):
            return o.to_json()
        return super().default(o)


def states_from_json(raw: Any) -> FieldStates:
    if not isinstance(raw, dict):
        return {}
    decode = FieldSync.from_json
    return {key: value if type(value) is FieldSync else decode(value) for key, value in raw.items()}


def states_to_json(states: Any) -> Any:
    """{key: FieldSync} as plain JSON objects (json.dumps then never calls back into
    Python for an entry)."""
    if not isinstance(states, dict):
        return states
    return {k: v.to_json() if type(v) is FieldSync else v for k, v in states.items()}


class FieldStatesField(models.JSONField):
    """A JSON object of {key: FieldSync}; loads as FieldSync objects, saves as JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["encoder"] = FieldStatesEncoder
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("encoder", None)
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return states_from_json(super().from_db_value(value, expression, connection))

    def to_python(self, value: Any) -> Any:
        return states_from_json(super().to_python(value))

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(states_to_json(value))
