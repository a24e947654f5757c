"""Verification runs against the sandbox registry, served by a thread on a loopback port."""

from __future__ import annotations

import pytest

from listings import services as listings_services
from listings.models import Listing, ListingSearchEntry, ListingState, Right, Watch
from sandbox_registry.models import RegisterEntry
from sandbox_registry.services import PartyIn, assignment_record, entry_status_set
from tests.factories import UserFactory
from tests.sandbox_registry import conftest as sandbox_fixtures
from tests.verification.runs_support import listing_for, right_for, seed_us_patent
from verification import tasks
from verification.models import CheckOutcome, Notification, RegistryEvidence, Trigger, VerificationRun
from verification.services import listing_verify_now, rights_reverify_for_release

pytestmark = pytest.mark.django_db(transaction=True)


def _applied(result):
    """An eagerly applied task's return value, raising its error. EagerResult.get() refuses to run
    when Celery believes a task is under way in this process, which other tests can leave behind."""
    assert result.successful(), result.traceback
    return result.result


# The sandbox registry's fixtures, served by a thread (see tests/sandbox_registry/conftest.py).
sandbox = sandbox_fixtures.sandbox
sandbox_url = sandbox_fixtures.sandbox_url
seeded_sample = sandbox_fixtures.seeded_sample


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Submissions enqueue the task after commit; the tests run it themselves."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.listing_verify_task, "apply_async", lambda args=None, **kw: sent.append(args))
    return sent


def submitted(listing: Listing) -> Listing:
    return listings_services.listing_submit(listing=listing, acting_user=listing.seller)


def outcomes(run: VerificationRun) -> dict[str, str]:
    return dict(run.checks.values_list("name", "outcome"))


def test_submission_enqueues_the_run_after_commit_and_a_matching_owner_publishes(sandbox, no_broker):
    seed_us_patent(application="17000001", patent="11000001")
    listing = listing_for(right_for(application="17000001", patent="11000001"))

    listing = submitted(listing)
    assert listing.state == ListingState.SUBMITTED
    assert no_broker == [(listing.pk, "submission")]

    verdict = _applied(tasks.listing_verify_task.apply(args=(listing.pk, "submission")))

    assert verdict == "passed"
    run = VerificationRun.objects.get(listing=listing)
    assert (run.state, run.trigger, run.register) == ("passed", "submission", "USPTO Open Data Portal")
    assert set(outcomes(run).values()) == {"pass"}
    evidence = RegistryEvidence.objects.get(run=run)
    assert evidence.status == 200
    assert len(evidence.sha256) == 64
    assert evidence.read_at is not None
    assert "17000001" in evidence.url
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.PUBLISHED
    right = Right.objects.get(pk=run.right_id)
    assert right.verification_verdict == "passed"
    assert right.verification_register == "USPTO Open Data Portal"
    assert right.facts_source == "USPTO Open Data Portal"
    assert right.next_due_date is not None
    assert right.expiry_date is not None
    assert ListingSearchEntry.objects.get(listing=listing).verified is True


def test_a_fuzzy_owner_goes_to_review_with_its_score(sandbox):
    seed_us_patent(application="17000002", patent="11000002", owner="Acme Widget Holdings Corporation")
    listing = submitted(listing_for(right_for(application="17000002", patent="11000002")))

    verdict = listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION)

    assert verdict == "needs_review"
    owner = CheckOutcome.objects.get(run__listing=listing, name="owner")
    assert owner.outcome == "review"
    assert owner.score is not None
    assert 0.5 < owner.score < 1.0
    assert f"{owner.score:.2f}" in owner.evidence
    assert Listing.objects.get(pk=listing.pk).state == ListingState.NEEDS_REVIEW
    assert not ListingSearchEntry.objects.filter(listing=listing).exists()


def test_an_expired_patent_fails_and_rejects_the_listing(seeded_sample):
    right = right_for(application="10099247", patent="6858197")
    listing = submitted(listing_for(right, seller_name="National Aeronautics and Space Administration"))

    verdict = listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION)

    assert verdict == "failed"
    run = VerificationRun.objects.get(listing=listing)
    assert outcomes(run)["status"] == "fail"
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.REJECTED
    assert "Not in force (expired)" in listing.review_note
    assert Right.objects.get(pk=right.pk).status == "expired"


def test_an_abandoned_application_fails(seeded_sample):
    right = right_for(application="15123456")
    listing = submitted(listing_for(right, seller_name="The General Hospital Corporation"))

    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "failed"
    run = VerificationRun.objects.get(listing=listing)
    assert outcomes(run)["status"] == "fail"
    assert outcomes(run)["owner"] == "pass"  # "The ... Corporation" and "THE ... CORPORATION" are one name


def test_a_maintenance_fee_in_its_grace_period_is_a_warning(sandbox):
    # Granted 44 months ago: the 3.5-year fee fell due two months ago; its grace runs four more.
    seed_us_patent(application="17000003", patent="11000003", granted_months_ago=44)
    listing = submitted(listing_for(right_for(application="17000003", patent="11000003")))

    verdict = listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION)

    assert verdict == "warning"
    run = VerificationRun.objects.get(listing=listing)
    assert outcomes(run)["status"] == "warn"
    assert outcomes(run)["fees"] == "warn"
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    assert Right.objects.get(pk=run.right_id).status == "grace"


def test_a_lapse_recorded_in_the_sandbox_suspends_the_published_listing_on_the_next_recheck(sandbox):
    entry = seed_us_patent(application="17000004", patent="11000004")
    listing = submitted(listing_for(right_for(application="17000004", patent="11000004")))
    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "passed"
    watcher = UserFactory()
    Watch.objects.create(user=watcher, listing=listing)

    entry_status_set(entry=entry, outcome="lapsed")
    verdict = _applied(tasks.listing_verify_task.apply(args=(listing.pk, "periodic")))

    assert verdict == "failed"
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.SUSPENDED
    assert not ListingSearchEntry.objects.filter(listing=listing, verified=True).exists()
    kinds = set(Notification.objects.filter(user=listing.seller).values_list("kind", flat=True))
    assert {"status_changed", "listing_suspended"} <= kinds
    assert Notification.objects.filter(user=watcher, kind="listing_suspended").count() == 1
    from django.core import mail

    assert any(watcher.email in m.to for m in mail.outbox)


def test_a_security_interest_recorded_later_is_announced_and_suspends_unless_disclosed(sandbox):
    entry = seed_us_patent(application="17000005", patent="11000005")
    listing = submitted(listing_for(right_for(application="17000005", patent="11000005")))
    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "passed"

    assignment_record(
        entries=[entry],
        conveyance_text="SECURITY INTEREST",
        assignors=[PartyIn(name="Acme Widgets, Inc.")],
        assignees=[PartyIn(name="First Lender Bank, N.A.")],
    )
    verdict = listing_verify_now(listing=listing, trigger=Trigger.PERIODIC)

    assert verdict == "failed"
    run = VerificationRun.objects.filter(listing=listing, trigger="periodic").get()
    assert outcomes(run)["encumbrances"] == "fail"
    assert "First Lender Bank" in run.checks.get(name="encumbrances").evidence
    assert Notification.objects.filter(user=listing.seller, kind="encumbrance_recorded").exists()
    assert Listing.objects.get(pk=listing.pk).state == ListingState.SUSPENDED
    right = Right.objects.get(pk=run.right_id)
    assert list(right.encumbrances.values_list("kind", "party")) == [("security_interest", "First Lender Bank, N.A.")]


def test_a_disclosed_security_interest_passes(sandbox):
    entry = seed_us_patent(application="17000006", patent="11000006")
    assignment_record(
        entries=[entry],
        conveyance_text="SECURITY INTEREST",
        assignors=[PartyIn(name="Acme Widgets, Inc.")],
        assignees=[PartyIn(name="First Lender Bank, N.A.")],
    )
    listing = listing_for(
        right_for(application="17000006", patent="11000006"),
        description="Subject to a security interest held by First Lender Bank N.A., released at closing.",
    )
    assert listing_verify_now(listing=submitted(listing), trigger=Trigger.SUBMISSION) == "passed"


def test_before_release_accepts_the_buyer_once_the_recordation_names_them(sandbox):
    entry = seed_us_patent(application="17000007", patent="11000007")
    listing = submitted(listing_for(right_for(application="17000007", patent="11000007")))
    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "passed"
    assert rights_reverify_for_release(listing=listing) is True

    assignment_record(
        entries=[entry],
        conveyance_text="ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS).",
        assignors=[PartyIn(name="Acme Widgets, Inc.")],
        assignees=[PartyIn(name="Buyer Holdings LLC")],
    )

    assert rights_reverify_for_release(listing=listing, buyer_name="Buyer Holdings, L.L.C.") is True
    assert rights_reverify_for_release(listing=listing, buyer_name="Someone Else GmbH") is False
    # Escrow decides what happens to the listing: the check leaves its state alone.
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    assert RegisterEntry.objects.filter(pk=entry.pk).exists()


def test_owners_the_register_confirms_are_left_in_place_and_changed_ones_replaced(sandbox):
    entry = seed_us_patent(application="17000008", patent="11000008")
    listing = submitted(listing_for(right_for(application="17000008", patent="11000008")))
    assert listing_verify_now(listing=listing, trigger=Trigger.SUBMISSION) == "passed"
    right = Right.objects.get(listing_rights__listing=listing)
    stored = list(right.owners.values_list("pk", "name", "address", "country"))
    assert [name for _, name, _, _ in stored] == ["Acme Widgets, Inc."]

    assert listing_verify_now(listing=listing, trigger=Trigger.PERIODIC) == "passed"
    # The same rows: a register that confirms the owners rewrites nothing.
    assert list(right.owners.values_list("pk", "name", "address", "country")) == stored

    entry.parties.update(name="Acme Widget Holdings Corporation")
    listing_verify_now(listing=listing, trigger=Trigger.PERIODIC)

    assert list(right.owners.values_list("name", flat=True)) == ["Acme Widget Holdings Corporation"]
    run = VerificationRun.objects.filter(listing=listing, trigger=Trigger.PERIODIC).latest("pk")
    # The claims the reviewer sees are the owners stored before this read.
    assert run.claims["claimed_owners"] == ["Acme Widgets, Inc."]


def test_a_submitted_listing_is_verified_in_a_few_dozen_statements(sandbox, django_assert_max_num_queries):
    """The run's own reads and writes are batched (the listing's runs queued and started in one
    transaction, one statement per table written); the rest are listings' (state, facts, search
    index). It took 62 statements before they were batched; a regression shows here."""
    seed_us_patent(application="17000009", patent="11000009")
    listing = submitted(listing_for(right_for(application="17000009", patent="11000009")))

    with django_assert_max_num_queries(48):
        assert _applied(tasks.listing_verify_task.apply(args=(listing.pk, "submission"))) == "passed"

    run = VerificationRun.objects.get(listing=listing)
    assert (run.state, run.attempts) == ("passed", 1)
    assert run.started_at is not None
    assert run.started_at <= run.finished_at
