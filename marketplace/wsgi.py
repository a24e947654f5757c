"""WSGI entry point (gunicorn marketplace.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

# An empty DJANGO_SETTINGS_MODULE counts as unset.

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"

application = get_wsgi_application()
