"""A HubSpot CRM sandbox: a real HTTP server that behaves as HubSpot does (see the shared
HUBSPOT.md) for the parts Lifecycle uses. It knows nothing of Django models.

    sandbox = Sandbox(tier="professional", clock=ManualClock())
    server = SandboxServer(sandbox).start()
    HubSpot(access_token="x", host=server.url)
"""

from .app import Sandbox
from .clock import ManualClock, SystemClock
from .persist import dump, load, seed
from .server import SandboxServer
from .webhooks import WebhookSettings, signature_v1, signature_v3

__all__ = [
    "ManualClock",
    "Sandbox",
    "SandboxServer",
    "SystemClock",
    "WebhookSettings",
    "dump",
    "load",
    "seed",
    "signature_v1",
    "signature_v3",
]
