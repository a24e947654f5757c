"""Pages of verification for sellers and owners: the progress of a listing's verification, "My
rights" with an iCal feed of their deadlines, and the site's alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from listings.models import Listing, ListingState, Right
from verification.models import Notification, VerificationRun

ICAL_SALT = "verification.my-rights-ical"
# Listings in these states no longer hold a right for their seller.
_GONE = (ListingState.WITHDRAWN, ListingState.REJECTED, ListingState.SOLD)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def ical_token(user: User) -> str:
    """The user's feed address secret: signed, so it cannot be guessed or altered."""
    return signing.dumps({"u": user.pk}, salt=ICAL_SALT, compress=True)


def _owned_rights(user: User) -> QuerySet[Right]:
    return (
        Right.objects.filter(listings__seller=user)
        .exclude(listings__state__in=_GONE)
        .distinct()
        .order_by("next_due_date", "expiry_date", "pk")
    )


@login_required
def listing_progress(request: HttpRequest, listing_id: int) -> HttpResponse:
    """The small fragment the listing's edit page polls while verification runs."""
    listing = get_object_or_404(Listing, pk=listing_id, seller=_user(request))
    runs = (
        VerificationRun.objects.filter(listing=listing)
        .select_related("right")
        .prefetch_related("checks")
        .order_by("-created_at", "-pk")
    )
    latest: dict[int, VerificationRun] = {}
    for run in runs:
        latest.setdefault(run.right_id, run)
    in_progress = listing.state in (ListingState.SUBMITTED, ListingState.VERIFYING) or any(
        not run.is_finished for run in latest.values()
    )
    return render(
        request,
        "verification/_progress.html",
        {"listing": listing, "runs": list(latest.values()), "in_progress": in_progress},
    )


@login_required
def my_rights(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    feed = request.build_absolute_uri(reverse("verification:my-rights-ical", args=[ical_token(user)]))
    return render(
        request,
        "verification/my_rights.html",
        {"rights": _owned_rights(user).prefetch_related("owners"), "ical_url": feed, "today": timezone.localdate()},
    )


def _ical_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ical_fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start = [], 0
    while start < len(data):
        size = 75 if start == 0 else 74
        end = start + size
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _ical_event(*, uid: str, day: date, summary: str, description: str, stamp: datetime) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"SUMMARY:{_ical_text(summary)}",
        f"DESCRIPTION:{_ical_text(description)}",
        "END:VEVENT",
    ]


def my_rights_ical(request: HttpRequest, token: str) -> HttpResponse:
    """The deadlines of a user's rights as an iCalendar feed, at a signed per-user address
    (calendar apps cannot log in)."""
    try:
        payload = signing.loads(token, salt=ICAL_SALT)
        user = User.objects.get(pk=payload["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist) as error:
        raise Http404("No such calendar.") from error
    stamp = datetime.now(tz=UTC)
    host = request.get_host().split(":")[0]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//IP Marketplace//My rights//EN", "CALSCALE:GREGORIAN"]
    for right in _owned_rights(user):
        label = f"{right.number_display} {right.title[:80]}"
        if right.next_due_date:
            lines += _ical_event(
                uid=f"right-{right.pk}-due-{right.next_due_date:%Y%m%d}@{host}",
                day=right.next_due_date,
                summary=f"Fee or renewal due: {label}",
                description=f"Grace period ends {right.grace_end_date:%d %B %Y}." if right.grace_end_date else "",
                stamp=stamp,
            )
        if right.grace_end_date:
            lines += _ical_event(
                uid=f"right-{right.pk}-grace-{right.grace_end_date:%Y%m%d}@{host}",
                day=right.grace_end_date,
                summary=f"Grace period ends: {label}",
                description="The right lapses if the fee or renewal is not paid by today.",
                stamp=stamp,
            )
        if right.expiry_date:
            lines += _ical_event(
                uid=f"right-{right.pk}-expiry-{right.expiry_date:%Y%m%d}@{host}",
                day=right.expiry_date,
                summary=f"Expires: {label}",
                description=f"Source: {right.facts_source}.",
                stamp=stamp,
            )
    lines.append("END:VCALENDAR")
    body = "\r\n".join(_ical_fold(line) for line in lines) + "\r\n"
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="my-rights.ics"'
    return response


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = Notification.objects.filter(user=_user(request))[:200]
    return render(request, "verification/notifications.html", {"notifications": items})


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user=_user(request), read_at__isnull=True).update(read_at=timezone.now())
    return HttpResponseRedirect(reverse("verification:notifications"))
