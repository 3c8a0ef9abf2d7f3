"""Where incremental sync stands per object type (`SyncCursor`)."""

from __future__ import annotations

from django.utils import timezone

from accounts.hubspot.inbound.objects import OBJECT_ORDER
from accounts.hubspot.models import SyncCursor

OVERLAP_MS = 30_000


def cursors_start_at(instant_ms: int) -> None:
    """After a full import, incremental sync starts where the import started."""
    for object_type in OBJECT_ORDER:
        SyncCursor.objects.update_or_create(
            object_type=object_type,
            defaults={"since_ms": instant_ms, "updated_at": timezone.now()},
        )
