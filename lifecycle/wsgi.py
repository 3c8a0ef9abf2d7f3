"""WSGI entry point. Production deployments set DJANGO_SETTINGS_MODULE."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifecycle.settings.production")

application = get_wsgi_application()
