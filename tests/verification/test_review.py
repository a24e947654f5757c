"""Staff review in the admin: the queue, the side-by-side page and the decision, by reviewers only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.staff import VERIFICATION_REVIEWERS, staff_groups_sync
from listings import services as listings_services
from listings.models import Listing, ListingState, Right
from tests.factories import UserFactory
from tests.verification.runs_support import listing_for, right_for
from verification.models import CheckOutcome, ReviewDecision, RunState, Trigger, VerificationRun
from verification.services import ReviewError, run_decide

pytestmark = pytest.mark.django_db


def review_run(*, state: str = RunState.NEEDS_REVIEW, application: str = "17000010") -> VerificationRun:
    listing = listing_for(right_for(application=application), seller_name="Acme Widgets Inc.")
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    listings_services.listing_verification_started(listing=listing)
    listings_services.listing_verification_needs_review(listing=listing, note="owner near miss")
    run = VerificationRun.objects.create(
        right=listing.rights.get(),
        listing=listing,
        trigger=Trigger.SUBMISSION,
        state=state,
        register="USPTO Open Data Portal",
        facts={"owners": [{"name": "Acme Widget Holdings Corporation", "role": "applicant"}], "status": "in_force"},
        claims={"seller_name": "Acme Widgets Inc."},
        summary="Owner of record is the seller: review",
    )
    CheckOutcome.objects.create(run=run, name="owner", outcome="review", evidence="similarity 0.78", score=0.78)
    return run


@pytest.fixture
def reviewer():
    staff_groups_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=VERIFICATION_REVIEWERS))
    return user


def test_a_reviewer_approves_and_the_listing_is_published(reviewer):
    run = review_run()

    decision = run_decide(run=run, acting_user=reviewer, decision="approve", reason="Assignment deed uploaded.")

    assert (decision.decided_by, decision.decision) == (reviewer, "approve")
    listing = Listing.objects.get(pk=run.listing_id)
    assert listing.state == ListingState.PUBLISHED
    assert Right.objects.get(pk=run.right_id).verification_verdict == "passed"


def test_a_reviewer_rejects_with_a_reason_the_seller_reads(reviewer):
    run = review_run()

    run_decide(run=run, acting_user=reviewer, decision="reject", reason="The owner of record is another company.")

    listing = Listing.objects.get(pk=run.listing_id)
    assert listing.state == ListingState.REJECTED
    assert listing.review_note == "The owner of record is another company."


@pytest.mark.parametrize(
    ("decision", "reason", "message"),
    [("approve", "  ", "reason"), ("maybe", "x", "approve or reject")],
)
def test_a_decision_without_reason_or_choice_is_refused_and_changes_nothing(reviewer, decision, reason, message):
    run = review_run()
    with pytest.raises(ReviewError, match=message):
        run_decide(run=run, acting_user=reviewer, decision=decision, reason=reason)
    assert not ReviewDecision.objects.exists()
    assert Listing.objects.get(pk=run.listing_id).state == ListingState.NEEDS_REVIEW


def test_staff_outside_the_reviewers_group_cannot_decide(db):
    run = review_run()
    staff = UserFactory(is_staff=True)
    with pytest.raises(ReviewError, match="Only verification reviewers"):
        run_decide(run=run, acting_user=staff, decision="approve", reason="Looks fine.")
    assert not ReviewDecision.objects.exists()


def test_a_run_is_decided_once(reviewer):
    run = review_run()
    run_decide(run=run, acting_user=reviewer, decision="approve", reason="ok")
    with pytest.raises(ReviewError, match="decided already"):
        run_decide(run=run, acting_user=reviewer, decision="reject", reason="changed my mind")
    assert ReviewDecision.objects.count() == 1


def test_the_admin_queue_lists_waiting_runs_oldest_first(client, reviewer):
    first, second = review_run(), review_run(state=RunState.WARNING, application="17000011")
    VerificationRun.objects.create(right=first.right, listing=None, trigger=Trigger.STAFF, state=RunState.PASSED)
    client.force_login(reviewer)

    page = client.get(reverse("admin:verification_verificationrun_changelist"))

    assert page.status_code == 200
    ids = [run.pk for run in page.context["cl"].result_list]
    assert ids == [first.pk, second.pk]


def test_the_admin_page_shows_both_sides_and_records_the_decision(client, reviewer):
    run = review_run()
    client.force_login(reviewer)
    url = reverse("admin:verification_verificationrun_change", args=[run.pk])

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Widget Holdings Corporation" in html
    assert "Acme Widgets Inc." in html
    assert "score 0.78" in html
    assert 'id="review-decide"' in html

    response = client.post(
        reverse("admin:verification_run_decide", args=[run.pk]), {"decision": "approve", "reason": "Deed checked."}
    )
    assert response.status_code == 302
    assert ReviewDecision.objects.get(run=run).reason == "Deed checked."


def test_the_admin_refuses_a_decision_from_staff_without_the_permission(client):
    run = review_run()
    staff_groups_sync()
    viewer = UserFactory(is_staff=True)
    allowed = Group.objects.get(name=VERIFICATION_REVIEWERS).permissions.exclude(codename="decide_verificationrun")
    viewer.user_permissions.add(*allowed)
    client.force_login(viewer)

    page = client.get(reverse("admin:verification_verificationrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert 'id="review-decide"' not in page.content.decode()
    response = client.post(
        reverse("admin:verification_run_decide", args=[run.pk]), {"decision": "approve", "reason": "ok"}
    )

    assert response.status_code == 403
    assert not ReviewDecision.objects.exists()
    assert Listing.objects.get(pk=run.listing_id).state == ListingState.NEEDS_REVIEW
