"""Watching listings, saving searches, following owners and CPC classes, and the alerts they send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from listings import search
from listings.models import Follow, Listing, ListingSearchEntry, SavedSearch, Watch
from listings.models.listings import PUBLIC_STATES
from listings.services import ListingError

MAX_SAVED_SEARCHES = 50
MAX_FOLLOWS = 100
# An alert lists this many new matches at most, and links to the search for the rest.
ALERT_LISTINGS = 20


@transaction.atomic
def watch_toggle(*, user: User, listing: Listing) -> bool:
    """Watch the listing, or stop watching it; returns whether it is now watched."""
    deleted, _ = Watch.objects.filter(user=user, listing=listing).delete()
    if deleted:
        return False
    if listing.state not in PUBLIC_STATES:
        raise ListingError("Only listings on the market can be watched.")
    Watch.objects.create(user=user, listing=listing)
    return True


@transaction.atomic
def saved_search_create(*, user: User, name: str, query_string: str) -> SavedSearch:
    name = name.strip()
    if not name:
        raise ListingError("Give the search a name.", field="name")
    # Keep only what the search itself reads, in its canonical order, so that two saves of the
    # same search are recognisably the same.
    params = search.params_parse(QueryDict(query_string))
    canonical = search.params_query_string(params)
    if SavedSearch.objects.filter(user=user).count() >= MAX_SAVED_SEARCHES:
        raise ListingError(f"You can keep {MAX_SAVED_SEARCHES} saved searches; delete one first.")
    return SavedSearch.objects.create(
        user=user, name=name[:120], query_string=canonical, last_notified_at=timezone.now()
    )


@transaction.atomic
def saved_search_delete(*, user: User, saved_search_id: int) -> None:
    if not SavedSearch.objects.filter(user=user, pk=saved_search_id).delete()[0]:
        raise ListingError("No such saved search of yours.")


@transaction.atomic
def follow_create(*, user: User, subject: str, value: str) -> Follow:
    value = " ".join(value.split())
    if subject not in Follow.Subject.values:
        raise ListingError("Follow an owner of record or a CPC class.", field="subject")
    if subject == Follow.Subject.CPC_CLASS:
        value = value.upper().replace(" ", "")
        if not (len(value) == 3 and value[0] in "ABCDEFGHY" and value[1:].isdigit()):
            raise ListingError("A CPC class is a section letter and two digits, e.g. G06.", field="value")
    if not value or len(value) > 300:
        raise ListingError("Name the owner as the register writes it.", field="value")
    if Follow.objects.filter(user=user).count() >= MAX_FOLLOWS:
        raise ListingError(f"You can follow {MAX_FOLLOWS} owners and classes; stop following one first.")
    try:
        with transaction.atomic():
            return Follow.objects.create(user=user, subject=subject, value=value, last_notified_at=timezone.now())
    except IntegrityError:
        return Follow.objects.get(user=user, subject=subject, value=value)


@transaction.atomic
def follow_delete(*, user: User, follow_id: int) -> None:
    if not Follow.objects.filter(user=user, pk=follow_id).delete()[0]:
        raise ListingError("You do not follow that.")


# --- Alerts -----------------------------------------------------------------------------------


@dataclass
class AlertReport:
    emails: int = 0
    listings: int = 0


def _new_matches_of_search(saved: SavedSearch, since: datetime) -> list[int]:
    params = search.params_parse(QueryDict(saved.query_string))
    return list(
        search.entries_matching(params)
        .filter(published_at__gt=since)
        .order_by("-published_at")
        .values_list("listing_id", flat=True)[: ALERT_LISTINGS + 1]
    )


def _new_matches_of_follow(follow: Follow, since: datetime) -> list[int]:
    entries = ListingSearchEntry.objects.filter(published_at__gt=since)
    if follow.subject == Follow.Subject.OWNER:
        entries = entries.filter(owners__contains=[follow.value])
    else:
        entries = entries.filter(cpc_classes__contains=[follow.value])
    return list(entries.order_by("-published_at").values_list("listing_id", flat=True)[: ALERT_LISTINGS + 1])


def _send(user: User, subject: str, intro: str, listing_ids: list[int], more_url: str) -> None:
    listings = Listing.objects.filter(pk__in=listing_ids[:ALERT_LISTINGS]).order_by("-published_at")
    base = settings.SITE_URL.rstrip("/")
    lines = [intro, ""]
    lines += [f"- {listing.title}\n  {base}{reverse('listings:detail', args=[listing.pk])}" for listing in listings]
    if len(listing_ids) > ALERT_LISTINGS:
        lines += ["", f"More: {base}{more_url}"]
    lines += ["", f"Manage your alerts: {base}{reverse('listings:watching')}"]
    send_mail(subject, "\n".join(lines), None, [user.email])


def alerts_send() -> AlertReport:
    """Email each saved search and follow its listings published since its last alert.

    Each subscription is handled in its own transaction, and its mark moves only with its email,
    so a crash part-way sends nothing twice and loses nothing."""
    report = AlertReport()
    for saved_id in SavedSearch.objects.filter(email_alerts=True).values_list("pk", flat=True):
        with transaction.atomic():
            saved = SavedSearch.objects.select_for_update(skip_locked=True).filter(pk=saved_id).first()
            if saved is None:
                continue
            now = timezone.now()
            ids = _new_matches_of_search(saved, saved.last_notified_at)
            if ids:
                _send(
                    saved.user,
                    f"New listings for your search “{saved.name}”",
                    f"New listings match your saved search “{saved.name}”:",
                    ids,
                    f"{reverse('listings:search')}?{saved.query_string}",
                )
                report.emails += 1
                report.listings += min(len(ids), ALERT_LISTINGS)
            saved.last_notified_at = now
            saved.save(update_fields=["last_notified_at"])
    for follow_id in Follow.objects.values_list("pk", flat=True):
        with transaction.atomic():
            follow = Follow.objects.select_for_update(skip_locked=True).filter(pk=follow_id).first()
            if follow is None:
                continue
            now = timezone.now()
            ids = _new_matches_of_follow(follow, follow.last_notified_at)
            if ids:
                what = "owner" if follow.subject == Follow.Subject.OWNER else "CPC class"
                _send(
                    follow.user,
                    f"New listings: {follow.value}",
                    f"New listings of the {what} you follow, {follow.value}:",
                    ids,
                    _follow_search_url(follow),
                )
                report.emails += 1
                report.listings += min(len(ids), ALERT_LISTINGS)
            follow.last_notified_at = now
            follow.save(update_fields=["last_notified_at"])
    return report


def _follow_search_url(follow: Follow) -> str:
    query = QueryDict(mutable=True)
    query["q" if follow.subject == Follow.Subject.OWNER else "cpc_class"] = follow.value
    return f"{reverse('listings:search')}?{query.urlencode()}"
