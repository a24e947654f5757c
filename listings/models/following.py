"""What buyers keep an eye on: listings they watch, searches they saved, owners and CPC classes
they follow ("competitor radar"). New matches are announced by email (listings.alerts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from listings.models.listings import Listing


class Watch(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "listing"], name="watch_once")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.listing_id}"


class SavedSearch(models.Model):
    """A search's query string, re-run for alerts; `last_notified_at` bounds what is new."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=120)
    query_string = models.TextField(help_text="The search's URL parameters, e.g. q=battery&kind=patent.")
    email_alerts = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_notified_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Follow(models.Model):
    """Following an owner of record or a CPC class: their new listings are announced."""

    class Subject(models.TextChoices):
        OWNER = "owner", "Owner of record"
        CPC_CLASS = "cpc_class", "CPC class"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    subject = models.CharField(max_length=16, choices=Subject.choices)
    value = models.CharField(max_length=300, help_text="The owner's name, or a CPC class such as G06.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_notified_at = models.DateTimeField()

    class Meta:
        ordering = ["subject", "value"]
        constraints = [models.UniqueConstraint(fields=["user", "subject", "value"], name="follow_once")]

    def __str__(self) -> str:
        return f"{self.get_subject_display()}: {self.value}"
