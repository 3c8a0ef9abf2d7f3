"""Other apps hear of alerts and expansion signals through dotted paths in
settings (success imports none of them). Hooks run inside the caller's
transaction: what they write commits or rolls back with the event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


def hooks_run(setting: str, **kwargs: Any) -> None:
    for path in getattr(settings, setting, ()):
        import_string(path)(**kwargs)
