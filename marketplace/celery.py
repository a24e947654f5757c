"""The Celery app. Tasks live in each app's `tasks.py`, take primitive ids and call a service."""

import os

from celery import Celery, signals

# An empty DJANGO_SETTINGS_MODULE counts as unset.

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.development"

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def database_connections_tidy(sender: object = None, **kwargs: object) -> None:
    """Hand the task's database connection back to the pool (or close a broken one), as Django
    does around each request; see CELERY_DB_REUSE_MAX. An eager task runs inside its caller's
    transaction and is left alone, as Celery's own fixup leaves it."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
