"""A hook around every HubSpot call, for a circuit breaker that lives above the transport
(accounts/hubspot/outbound/breaker.py): asked before each attempt, told how it ended.
The transport knows only this protocol, not what the guard keeps or where."""

from __future__ import annotations

from typing import Protocol

from accounts.hubspot.transport.errors import HubSpotError


class CircuitOpen(HubSpotError):
    """The guard refused the call without sending it: HubSpot is taken to be down."""

    def __init__(self, message: str) -> None:
        super().__init__(status=0, message=message, category="CIRCUIT_OPEN")


class CallGuard(Protocol):
    def before_call(self) -> None:
        """Raise CircuitOpen to refuse the attempt."""

    def succeeded(self) -> None:
        """HubSpot answered (2xx)."""

    def failed(self, error: HubSpotError) -> None:
        """The attempt failed with `error` (it may still be retried)."""


class NoGuard:
    def before_call(self) -> None:
        return None

    def succeeded(self) -> None:
        return None

    def failed(self, error: HubSpotError) -> None:
        return None
