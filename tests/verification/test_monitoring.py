"""Owners' side: deadline alerts, "My rights", the iCal feed, alerts, the badge and progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from listings import services as listings_services
from listings.models import Right
from tests.factories import UserFactory
from tests.verification.runs_support import listing_for, right_for
from verification.models import Notification, Trigger, VerificationRun
from verification.services.monitoring import changes_announce, deadline_alerts_send, recheck_slot_listing_ids
from verification.views import ical_token

pytestmark = pytest.mark.django_db


def published(right: Right, **kwargs):
    listing = listing_for(right, **kwargs)
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    listings_services.listing_verification_started(listing=listing)
    return listings_services.listing_verification_passed(listing=listing)


def test_a_deadline_is_announced_once_per_threshold(settings, django_capture_on_commit_callbacks):
    settings.VERIFICATION_DEADLINE_WARNING_DAYS = [90, 30]
    today = timezone.localdate()
    right = right_for(application="17000020", next_due_date=today + timedelta(days=25))
    listing = published(right)

    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_alerts_send(today=today) == 1
        assert deadline_alerts_send(today=today) == 0

    notice = Notification.objects.get(user=listing.seller)
    assert notice.kind == "deadline"
    assert "in 25 days" in notice.body
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [listing.seller.email]


def test_no_alert_outside_the_window(settings):
    settings.VERIFICATION_DEADLINE_WARNING_DAYS = [30]
    right = right_for(application="17000021", next_due_date=timezone.localdate() + timedelta(days=60))
    published(right)
    assert deadline_alerts_send() == 0


def test_changes_found_by_a_recheck_are_announced_once():
    right = right_for(application="17000022")
    listing = published(right)
    before = {"status": "in_force", "assignments": []}
    after = {
        "status": "lapsed",
        "status_text": "Patent Expired Due to NonPayment of Maintenance Fees",
        "status_date": "2026-01-01",
        "assignments": [{"kind": "assignment", "reel_frame": "080001/0001", "assignees": ["Other Co"]}],
    }

    assert changes_announce(right=right, before=before, after=after, run_id=1) == 2
    assert changes_announce(right=right, before=before, after=after, run_id=2) == 0
    assert set(Notification.objects.filter(user=listing.seller).values_list("kind", flat=True)) == {
        "status_changed",
        "assignment_recorded",
    }


def test_my_rights_lists_the_rights_and_the_feed_holds_their_deadlines(client):
    today = timezone.localdate()
    right = right_for(
        application="17000023", next_due_date=today + timedelta(days=40), grace_end_date=today + timedelta(days=220)
    )
    listing = published(right)
    stranger_right = right_for(application="17000024")
    published(stranger_right)
    client.force_login(listing.seller)

    page = client.get(reverse("verification:my-rights"))
    assert page.status_code == 200
    assert list(page.context["rights"]) == [right]

    feed = client.get(reverse("verification:my-rights-ical", args=[ical_token(listing.seller)]))
    body = feed.content.decode()
    assert feed["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{right.next_due_date:%Y%m%d}" in body
    assert body.count("BEGIN:VEVENT") == 3  # due, grace end, expiry
    assert "17000024" not in body


def test_a_forged_feed_address_is_not_found(client, user):
    token = ical_token(user)
    assert client.get(reverse("verification:my-rights-ical", args=[token[:-2] + "xx"])).status_code == 404


def test_the_progress_fragment_is_the_sellers_only(client):
    right = right_for(application="17000025")
    listing = listing_for(right)
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    VerificationRun.objects.create(right=right, listing=listing, trigger=Trigger.SUBMISSION)

    client.force_login(UserFactory())
    assert client.get(reverse("verification:listing-progress", args=[listing.pk])).status_code == 404
    client.force_login(listing.seller)
    page = client.get(reverse("verification:listing-progress", args=[listing.pk]))
    assert page.status_code == 200
    assert 'data-in-progress="true"' in page.content.decode()


def test_the_badge_shows_the_register_and_the_evidence_summary(client):
    right = right_for(application="17000026")
    listing = published(right)
    listings_services.right_verification_record(
        right=right,
        verdict="passed",
        register="USPTO Open Data Portal",
        summary="In force: pass - Patented Case (code 150).",
        as_of=timezone.now(),
    )

    html = client.get(reverse("listings:detail", args=[listing.pk])).content.decode()

    assert 'id="verification-badge"' in html
    assert "Verified" in html
    assert "USPTO Open Data Portal" in html
    assert "<summary>Evidence summary</summary>" in html
    assert "Patented Case (code 150)" in html


def test_recheck_slots_cover_every_published_listing_once_a_day(settings):
    settings.VERIFICATION_RECHECK_SLOTS = 4
    ids = [published(right_for(application=f"1700003{i}")).pk for i in range(6)]
    now = timezone.now().replace(hour=0, minute=0)
    seen = [pk for hour in (0, 6, 12, 18) for pk in recheck_slot_listing_ids(now=now.replace(hour=hour))]
    assert sorted(seen) == sorted(ids)
