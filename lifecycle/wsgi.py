"""WSGI entry point. Production deployments set DJANGO_SETTINGS_MODULE."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifecycle.settings.production")

application = get_wsgi_application()

# The loaded project lives as long as the worker: out of the collector's sight, so
# its full collections (every few hundred requests of a busy page) walk only what
# requests make (lifecycle/ops/memory.py; docs/performance.md, "The collector in a
# web worker").
from lifecycle.ops.memory import loaded_app_frozen  # noqa: E402 - after the settings

loaded_app_frozen()
