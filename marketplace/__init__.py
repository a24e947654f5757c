"""The IP marketplace project: settings, URLs, the Celery app and shared helpers."""

from marketplace.celery import app as celery_app

__all__ = ["celery_app"]
