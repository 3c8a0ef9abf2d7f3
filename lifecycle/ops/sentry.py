"""Optional error reporting to Sentry (or anything that speaks its protocol)."""

from __future__ import annotations

import os


def sentry_init(dsn: str) -> None:
    """Report unhandled errors of web requests and django-q2 tasks. Sends no personal
    data (no user emails, no request bodies); SENTRY_TRACES_SAMPLE_RATE turns on
    performance traces, SENTRY_ENVIRONMENT names the deployment."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), LoggingIntegration()],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,
    )
