"""The Celery app. Tasks live in each app's `tasks.py`, take primitive ids and call a service."""

import os

from celery import Celery

# An empty DJANGO_SETTINGS_MODULE counts as unset.

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.development"

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
