"""A seller submits a patent listing; the worker verifies it against the sandbox registry and the
badge appears; a staff reviewer decides a name mismatch in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.staff import VERIFICATION_REVIEWERS, staff_groups_sync
from listings import services as listings_services
from listings.models import Listing, ListingState
from tests.browser.test_catalogue_flow import log_in, log_out
from tests.factories import UserFactory
from tests.sandbox_registry import conftest as sandbox_fixtures
from tests.verification.runs_support import listing_for, right_for, seed_us_patent
from verification import tasks
from verification.models import ReviewDecision, Trigger, VerificationRun
from verification.services import listing_verify_now

pytestmark = pytest.mark.django_db(transaction=True)

# The sandbox registry's fixtures, served by a thread (see tests/sandbox_registry/conftest.py).
sandbox = sandbox_fixtures.sandbox
sandbox_url = sandbox_fixtures.sandbox_url


@pytest.fixture
def eager_worker(monkeypatch):
    """The worker, in process: the task runs as soon as the submission commits."""
    monkeypatch.setattr(
        tasks.listing_verify_task,
        "apply_async",
        lambda args=None, **kwargs: tasks.listing_verify_task.apply(args=args),
    )


def test_a_submitted_patent_is_verified_and_the_badge_appears(page, sandbox, eager_worker):
    seed_us_patent(application="17000100", patent="11000100", owner="Voltaic Materials GmbH")
    seller = UserFactory(email="seller@example.com", legal_name="Voltaic Materials GmbH")

    log_in(page, seller.email)
    page.get_by_role("link", name="Sell").click()
    page.get_by_label("Kind").select_option("patent")
    page.get_by_label("Type of right").select_option("invention")
    page.get_by_label("Office").select_option("US")
    page.get_by_label("US patent number").fill("US 11,000,100 B2")
    page.get_by_label("Title of the right (or the mark)").fill("Self-aligning widget coupling")
    page.get_by_label("Owners of record").fill("Voltaic Materials GmbH")
    page.locator("#id_title").fill("Widget coupling patent")
    page.get_by_label("Assignment (sale)").check()
    page.get_by_label("Price mode").select_option("fixed")
    page.get_by_label("Asking price").fill("50,000")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    page.get_by_role("button", name="Submit for verification").click()

    listing = Listing.objects.get(title="Widget coupling patent")
    assert listing.state == ListingState.PUBLISHED
    page.goto(f"/listings/{listing.pk}/")
    badge = page.locator("#verification-badge")
    badge.get_by_text("Verified").wait_for()
    assert "USPTO Open Data Portal" in badge.inner_text()
    badge.get_by_text("Evidence summary").click()
    badge.get_by_text("Owner of record is the seller: pass").wait_for()


def test_a_reviewer_decides_a_name_mismatch_in_the_admin(page, sandbox):
    seed_us_patent(application="17000101", patent="11000101", owner="Acme Widget Holdings Corporation")
    listing = listing_for(right_for(application="17000101", patent="11000101"))
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "needs_review"
    staff_groups_sync()
    reviewer = UserFactory(email="reviewer@example.com", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=VERIFICATION_REVIEWERS))
    run = VerificationRun.objects.get(listing=listing)

    log_in(page, reviewer.email)
    page.goto("/admin/verification/verificationrun/")
    page.get_by_role("link", name=str(run.pk), exact=True).click()
    side = page.locator("#review-side-by-side")
    side.get_by_text("Acme Widget Holdings Corporation").first.wait_for()
    side.get_by_text("Acme Widgets Inc.").first.wait_for()
    page.get_by_text("score 0.").first.wait_for()
    page.get_by_label("Reason (kept with the run; the seller reads it):").fill("Deed of assignment checked.")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Decision recorded: approve.").wait_for()

    assert ReviewDecision.objects.get(run=run).decided_by == reviewer
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    log_out(page)
