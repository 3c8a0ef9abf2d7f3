"""The functions success's alerts call through settings (ALERTS_OPENED_HOOKS,
EXPANSION_SIGNALS_RAISED_HOOKS), inside the transaction that opened the alerts
or raised the signals, so the notification is written with the event or not at
all. success never imports this app; the dotted paths live in settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import services


def alerts_opened(*, alerts: Iterable[Any]) -> None:
    services.alerts_notify(alerts=alerts)


def expansion_signals_raised(*, signals: Iterable[Any]) -> None:
    services.expansion_signals_notify(signals=signals)
