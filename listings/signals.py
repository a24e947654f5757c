"""The one upward notification listings sends: a listing was submitted.

Listings must not import the verification app above it, yet a submission has to start a
verification run. The signal is sent after the submitting transaction commits; verification
connects to it in its AppConfig.ready and enqueues its task.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `listing_id` (int) once the submission is committed.
listing_submitted = Signal()
