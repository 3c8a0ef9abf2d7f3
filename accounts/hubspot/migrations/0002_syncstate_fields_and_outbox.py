"""SyncState's five parallel JSON dicts (`base` and `base_at` keyed by rule key,
`remote`, `remote_at` and `written` keyed by HubSpot property, `written` entries as
four-item lists) become one typed object per field, `fields` ({rule key: FieldSync}),
converted row by row; the table keeps its name. The journal gains the outbox status of
a write and the author of the value a change replaced."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import accounts.hubspot.field_state
from accounts.hubspot.rules import fields as fieldspecs

ID_KEY = fieldspecs.ACCOUNT_ID_PROPERTY


def _properties(apps: Any) -> dict[str, str]:
    """{rule key: HubSpot property} as configured when the migration runs."""
    saved = {r.field: r.property for r in apps.get_model("hubspot", "FieldRule").objects.all()}
    return {spec.key: saved.get(spec.key) or spec.property for spec in fieldspecs.ACCOUNT_FIELDS}


def _written(raw: Any) -> dict[str, Any] | None:
    if not raw:
        return None
    if isinstance(raw, dict):
        return raw
    value, written_ms, agreed_before_ms, ours_ms = (list(raw) + [0, 0, 0, 0])[:4]
    return {
        "value": str(value),
        "written_ms": int(written_ms or 0),
        "agreed_before_ms": int(agreed_before_ms or 0),
        "ours_ms": int(ours_ms or 0),
    }


def forwards(apps: Any, schema_editor: Any) -> None:
    SyncState = apps.get_model("hubspot", "SyncState")
    properties = _properties(apps)
    batch = []
    for state in SyncState.objects.iterator(chunk_size=2000):
        fields: dict[str, dict[str, Any]] = {}
        for key, prop in properties.items():
            entry: dict[str, Any] = {"prop": prop}
            if key in (state.base or {}):
                entry["base"] = state.base[key]
                entry["base_ms"] = int((state.base_at or {}).get(key) or 0)
            if prop in (state.remote or {}):
                entry["remote"] = state.remote[prop]
                entry["remote_ms"] = int((state.remote_at or {}).get(prop) or 0)
            written = _written((state.written or {}).get(prop))
            if written:
                entry["written"] = written
            if len(entry) > 1:
                fields[key] = entry
        ours = _written((state.written or {}).get(ID_KEY))
        if ours:
            fields[ID_KEY] = {"prop": ID_KEY, "base": ours["value"], "written": ours}
        state.fields = fields
        batch.append(state)
        if len(batch) >= 2000:
            SyncState.objects.bulk_update(batch, ["fields"])
            batch = []
    SyncState.objects.bulk_update(batch, ["fields"])


def backwards(apps: Any, schema_editor: Any) -> None:
    SyncState = apps.get_model("hubspot", "SyncState")
    for state in SyncState.objects.iterator(chunk_size=2000):
        base, base_at, remote, remote_at, written = {}, {}, {}, {}, {}
        for key, raw in (state.fields or {}).items():
            entry = raw if isinstance(raw, dict) else raw.to_json()
            prop = entry.get("prop") or key
            if key != ID_KEY and entry.get("base") is not None:
                base[key], base_at[key] = entry["base"], entry.get("base_ms", 0)
            if entry.get("remote") is not None:
                remote[prop] = entry["remote"]
                if entry.get("remote_ms"):
                    remote_at[prop] = entry["remote_ms"]
            w = entry.get("written")
            if w:
                written[prop] = [
                    w["value"],
                    w.get("written_ms", 0),
                    w.get("agreed_before_ms", 0),
                    w.get("ours_ms", 0),
                ]
        SyncState.objects.filter(pk=state.pk).update(
            base=base, base_at=base_at, remote=remote, remote_at=remote_at, written=written
        )


class Migration(migrations.Migration):
    dependencies = [("hubspot", "0001_hubspot_models_from_accounts")]

    operations = [
        migrations.AddField(
            model_name="syncstate",
            name="fields",
            field=accounts.hubspot.field_state.FieldStatesField(blank=True, default=dict),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="syncstate", name="base"),
        migrations.RemoveField(model_name="syncstate", name="base_at"),
        migrations.RemoveField(model_name="syncstate", name="remote"),
        migrations.RemoveField(model_name="syncstate", name="remote_at"),
        migrations.RemoveField(model_name="syncstate", name="written"),
        migrations.AddField(
            model_name="syncchange",
            name="old_by",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.AddField(
            model_name="syncchange",
            name="status",
            field=models.CharField(
                choices=[
                    ("applied", "Applied"),
                    ("sent", "Sent, unconfirmed"),
                    ("confirmed", "Sent and confirmed"),
                    ("failed", "Sent, refused"),
                ],
                default="applied",
                max_length=10,
            ),
        ),
    ]
