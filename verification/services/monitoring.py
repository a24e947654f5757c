"""Monitoring: what a re-check found that changed, deadlines coming up, and who is told.

Alerts go to the site (Notification rows) and by email, once each: a notification's dedupe key
makes sending again a no-op, so a task that runs twice alerts once.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from listings.models import Listing, ListingState, Right, Watch
from verification.models import Notification
from verification.signals import listing_suspended

logger = logging.getLogger(__name__)

_LAPSED = ("lapsed", "expired", "abandoned", "cancelled")
# Listings whose sellers still hold the right through us (a closed listing's seller is not told).
_CLOSED = (ListingState.WITHDRAWN, ListingState.REJECTED, ListingState.SOLD, ListingState.DRAFT)
# Listings whose rights are monitored by the periodic re-check.
MONITORED_STATES = (ListingState.PUBLISHED, ListingState.RESERVED, ListingState.AWAITING_MARGIN)


def _listing_url(listing: Listing | None) -> str:
    if listing is None:
        return ""
    try:
        return reverse("listings:detail", args=[listing.pk])
    except NoReverseMatch:
        return ""


def notify(
    *,
    user: User | int,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    url: str = "",
    right: Right | None = None,
    listing: Listing | None = None,
) -> Notification | None:
    """Record the alert and email it after commit; None when this user was already told."""
    user_id = user if isinstance(user, int) else user.pk
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:500],
                right=right,
                listing=listing,
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: notification_email_send(notification_id=notification.pk), robust=True)
    return notification


def notification_email_send(*, notification_id: int) -> None:
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if notification.emailed_at is not None:
        return
    link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
    send_mail(
        subject=f"[IP Marketplace] {notification.title}",
        message=f"{notification.body}{link}",
        from_email=None,
        recipient_list=[notification.user.email],
    )
    Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())


def holders_of(right: Right) -> list[tuple[int, Listing]]:
    """(seller id, listing) for each open listing holding the right."""
    listings = Listing.objects.filter(rights=right).exclude(state__in=_CLOSED)
    return [(listing.seller_id, listing) for listing in listings]


def changes_announce(*, right: Right, before: dict[str, Any], after: dict[str, Any], run_id: int) -> int:
    """Tell the holders what a re-check found changed since the previous run: the right lapsed,
    an assignment or an encumbrance was recorded. Returns how many alerts were created."""
    found: list[tuple[Notification.Kind, str, str]] = []  # (kind, key, text)
    old_status, new_status = before.get("status"), after.get("status")
    if new_status != old_status and new_status in _LAPSED:
        text = f"The register now says {new_status}: {after.get('status_text') or ''}".strip()
        found.append((Notification.Kind.STATUS_CHANGED, f"status:{new_status}:{after.get('status_date')}", text))
    seen = {a.get("reel_frame") or a.get("conveyance_text") for a in before.get("assignments", [])}
    for item in after.get("assignments", []):
        key = item.get("reel_frame") or item.get("conveyance_text")
        if key in seen:
            continue
        parties = ", ".join(item.get("assignees") or []) or "an unnamed party"
        if item.get("kind") in ("security_interest", "exclusive_licence", "licence"):
            kind, what = Notification.Kind.ENCUMBRANCE_RECORDED, item["kind"].replace("_", " ")
        elif item.get("kind") in ("assignment", "merger", "change_of_name"):
            kind, what = Notification.Kind.ASSIGNMENT_RECORDED, item["kind"].replace("_", " ")
        else:
            continue
        found.append((kind, f"conveyance:{key}", f"A {what} to {parties} was recorded (reel/frame {key})."))
    created = 0
    for user_id, listing in holders_of(right):
        for kind, key, text in found:
            title = f"{right.number_display}: {Notification.Kind(kind).label.lower()}"
            if notify(
                user=user_id,
                kind=kind,
                title=title,
                body=f"{text}\n\nFound by verification run {run_id}.",
                dedupe_key=f"right:{right.pk}:{key}",
                url=_listing_url(listing),
                right=right,
                listing=listing,
            ):
                created += 1
    return created


def listing_suspension_announce(*, listing: Listing, reason: str) -> int:
    """A re-check suspended a listing: its seller and its watchers are told, and escrow (above
    us) learns through the `listing_suspended` signal after commit, to tell buyers with offers."""
    recipients = {listing.seller_id, *Watch.objects.filter(listing=listing).values_list("user_id", flat=True)}
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    created = 0
    for user_id in sorted(recipients):
        if notify(
            user=user_id,
            kind=Notification.Kind.LISTING_SUSPENDED,
            title=f"Listing suspended: {listing.title}",
            body=f"A re-check of the register failed, so the listing is suspended.\n\n{reason}",
            dedupe_key=f"suspended:{listing.pk}:{stamp}",
            url=_listing_url(listing),
            listing=listing,
        ):
            created += 1
    listing_id = listing.pk
    transaction.on_commit(
        lambda: listing_suspended.send(sender=Listing, listing_id=listing_id, reason=reason), robust=True
    )
    return created


def warning_days() -> list[int]:
    return sorted({int(d) for d in settings.VERIFICATION_DEADLINE_WARNING_DAYS}, reverse=True)


@transaction.atomic
def deadline_alerts_send(*, today: date | None = None) -> int:
    """Warn holders N days (each of VERIFICATION_DEADLINE_WARNING_DAYS) before a right's next fee
    or renewal is due; each warning once. Returns how many were created."""
    today = today or timezone.localdate()
    days = warning_days()
    if not days:
        return 0
    horizon = today + timedelta(days=max(days))
    rights = Right.objects.filter(next_due_date__gte=today, next_due_date__lte=horizon, listings__isnull=False)
    created = 0
    for right in rights.distinct():
        assert right.next_due_date is not None
        left = (right.next_due_date - today).days
        # The tightest threshold this deadline has crossed: 30 days out warns "30", not "90".
        crossed = [d for d in days if left <= d]
        if not crossed:
            continue
        threshold = min(crossed)
        for user_id, listing in holders_of(right):
            if notify(
                user=user_id,
                kind=Notification.Kind.DEADLINE,
                title=f"{right.number_display}: fee or renewal due {right.next_due_date:%d %b %Y}",
                body=(
                    f"The next maintenance fee or renewal of {right.number_display} ({right.title}) is due on "
                    f"{right.next_due_date:%d %B %Y}, in {left} days"
                    + (f"; grace period to {right.grace_end_date:%d %B %Y}." if right.grace_end_date else ".")
                ),
                dedupe_key=f"deadline:{right.pk}:{right.next_due_date.isoformat()}:{threshold}",
                url=_listing_url(listing),
                right=right,
                listing=listing,
            ):
                created += 1
    return created


def recheck_slot_listing_ids(*, now: datetime) -> list[int]:
    """The listings to re-check in the slot `now` falls in. The day is cut into
    VERIFICATION_RECHECK_SLOTS equal slots and each listing has one (its id modulo the count),
    so every monitored listing is re-checked once a day and the registers' load is spread evenly."""
    slots = max(1, int(settings.VERIFICATION_RECHECK_SLOTS))
    minutes = now.hour * 60 + now.minute
    slot = minutes * slots // (24 * 60)
    return list(
        Listing.objects.filter(state__in=MONITORED_STATES)
        .alias(slot=F("pk") % slots)
        .filter(slot=slot)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
