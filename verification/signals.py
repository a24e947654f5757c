"""Notifications verification sends upward, after commit.

`listing_suspended` is the hook for escrow (which sits above verification and so cannot be
called from here): escrow connects to it to tell the buyers with open offers or deals on the
listing. Sent with `listing_id` (int) and `reason` (str) once the suspension is committed.
"""

from __future__ import annotations

from django.dispatch import Signal

listing_suspended = Signal()
