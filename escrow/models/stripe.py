"""What the platform keeps of its conversation with Stripe: the money calls it made (keyed by the
idempotency key it sent) and the webhook events Stripe sent it (keyed by the event id).

Both tables are written before anything else happens: a money call's key is committed before
the HTTP request leaves, so a retry after a crash or a lost response reuses it and Stripe moves
the money once; an event is stored raw before it is processed, so a processing failure loses
nothing and can be replayed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class StripeRequestState(models.TextChoices):
    # The key is recorded; the call was not answered yet, or its answer was lost. A retry sends
    # the same key again, which Stripe answers with the first outcome.
    PENDING = "pending", "Pending (sent or about to be sent)"
    SUCCEEDED = "succeeded", "Succeeded"
    # Stripe refused the request for good (a declined card, an invalid request).
    FAILED = "failed", "Failed"


class StripeRequest(models.Model):
    """One call to Stripe that moves money, under its deterministic idempotency key."""

    idempotency_key = models.CharField(
        max_length=255,
        unique=True,
        help_text="Derived from the business step (e.g. 'deal:42:release'); Stripe accepts at most 255 characters.",
    )
    purpose = models.CharField(max_length=100, help_text="What the call does, e.g. 'transfer' or 'refund'.")
    params_hash = models.CharField(
        max_length=64, help_text="SHA-256 of the call's parameters: a key reused with other parameters is refused."
    )
    state = models.CharField(max_length=10, choices=StripeRequestState.choices, default=StripeRequestState.PENDING)
    response_object_id = models.CharField(max_length=255, blank=True, default="")
    response = models.JSONField(null=True, blank=True, help_text="Stripe's answer, returned again on a retry.")
    error_kind = models.CharField(max_length=40, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="stripe_request_key_not_empty"),
            models.CheckConstraint(
                condition=~Q(state=StripeRequestState.SUCCEEDED) | ~Q(response_object_id=""),
                name="stripe_request_succeeded_has_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.idempotency_key} ({self.state})"


class StripeEvent(models.Model):
    """A webhook event as Stripe sent it, stored once by its id, processed at most once."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    api_version = models.CharField(max_length=32, blank=True, default="")
    account = models.CharField(
        max_length=255, blank=True, default="", help_text="The connected account, for Connect events."
    )
    stripe_created_at = models.DateTimeField(null=True, blank=True, help_text="When Stripe created the event.")
    payload = models.JSONField(help_text="The event exactly as received.")
    received_at = models.DateTimeField(db_default=Now(), editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The replay command and staff look for the events not processed yet.
            models.Index(
                fields=["received_at"], condition=Q(processed_at__isnull=True), name="stripe_event_unprocessed"
            )
        ]
        constraints = [models.CheckConstraint(condition=~Q(event_id=""), name="stripe_event_id_not_empty")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
