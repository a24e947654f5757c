"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

# An empty DJANGO_SETTINGS_MODULE counts as unset.

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"

application = get_asgi_application()
