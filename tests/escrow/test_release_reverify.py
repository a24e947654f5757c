"""Invariant 2: the escrow goes to the seller only after the rights are re-verified against the
register (the sandbox registry on a loopback port, see conftest.py), and buyers with open offers
hear of a suspension once, and so do the buyers of active deals."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, TestCase

from escrow import services
from escrow.models import Deal, DealState, Offer, OfferState, StripeRequest
from escrow.payouts import seller_owed
from escrow.services import DealError
from listings.models import Listing, ListingState
from marketplace.money import Money
from tests.escrow.conftest import Registry
from tests.escrow.money_path import tasks_sent
from tests.escrow.test_deals_support import deal_balances, deal_fresh, snapshot, staff_user
from tests.factories import PASSWORD, UserFactory, make_listing
from verification.models import Notification, RunState, Trigger, VerificationRun
from verification.services import listing_verify_now
from verification.signals import listing_suspended

pytestmark = pytest.mark.django_db

SELLER = "Acme Widgets, Inc."
BUYER = "Buyer Holdings LLC"
REFUSED = "could not be re-verified against the register"


def recorded_deal(*, decide: bool = False) -> Deal:
    """A deal funded and recorded, its listing held by SELLER and bought by BUYER."""
    listing = make_listing(seller=UserFactory.create(legal_name=SELLER))
    deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create(legal_name=BUYER))
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_1", idempotency_key=f"pi_1:{deal.pk}"
    )
    staff = staff_user()
    services.deal_start_transfer(deal=deal, acting_user=staff)
    return services.deal_mark_recorded(deal=deal, acting_user=staff)


def before_release_runs(deal: Deal) -> list[VerificationRun]:
    return list(VerificationRun.objects.filter(listing=deal.listing, trigger=Trigger.BEFORE_RELEASE))


def refused_and_nothing_changed(deal: Deal, release, monkeypatch) -> None:
    """The release is refused; the ledger, the states and the payouts are as they were."""
    before, balances = snapshot(), deal_balances(deal)
    stripe_requests = StripeRequest.objects.count()
    with (
        tasks_sent(monkeypatch) as sent,
        TestCase.captureOnCommitCallbacks(execute=True),
        pytest.raises(DealError, match=REFUSED),
    ):
        release()
    assert snapshot() == before
    assert deal_balances(deal) == balances
    assert deal_fresh(deal).state == DealState.RECORDED
    assert Listing.objects.get(pk=deal.listing_id).state == ListingState.RESERVED
    assert sent == []
    assert StripeRequest.objects.count() == stripe_requests
    assert seller_owed(user=deal.seller) == []


def test_a_release_re_verifies_against_the_register_first(registry: Registry):
    deal = recorded_deal()
    registry.record(deal.listing, owner=SELLER)

    released = services.deal_release(deal=deal, acting_user=staff_user())

    assert deal_fresh(released).state == DealState.RELEASED
    assert deal_balances(deal).payable == deal.seller_proceeds
    [run] = before_release_runs(deal)
    assert run.state == RunState.PASSED
    assert run.evidence.filter(status=200).exists()
    # The verdict before release is escrow's to act on: it does not touch the listing (sold now).
    assert Listing.objects.get(pk=deal.listing_id).state == ListingState.SOLD


def test_a_lapsed_right_refuses_the_release_and_keeps_the_failed_run(registry: Registry, monkeypatch):
    deal = recorded_deal()
    registry.lapse(registry.record(deal.listing, owner=SELLER))

    refused_and_nothing_changed(deal, lambda: services.deal_release(deal=deal, acting_user=staff_user()), monkeypatch)

    [run] = before_release_runs(deal)
    assert run.state == RunState.FAILED
    assert dict(run.checks.values_list("name", "outcome"))["status"] == "fail"


def test_another_owner_of_record_refuses_the_release(registry: Registry, monkeypatch):
    deal = recorded_deal()
    registry.record(deal.listing, owner="Globex Patent Licensing GmbH")

    refused_and_nothing_changed(deal, lambda: services.deal_release(deal=deal, acting_user=None), monkeypatch)

    [run] = before_release_runs(deal)
    assert run.state == RunState.NEEDS_REVIEW
    assert dict(run.checks.values_list("name", "outcome"))["owner"] == "review"


def test_a_register_answering_500_refuses_the_release_and_queues_the_run_for_review(registry_down, monkeypatch):
    deal = recorded_deal()

    refused_and_nothing_changed(deal, lambda: services.deal_release(deal=deal, acting_user=None), monkeypatch)

    [run] = before_release_runs(deal)
    assert run.state == RunState.NEEDS_REVIEW
    assert "500" in run.error
    assert dict(run.checks.values_list("name", "outcome")) == {"registry": "review"}


def test_a_register_that_names_the_buyer_after_recordation_allows_the_release(registry: Registry):
    deal = recorded_deal()
    entries = registry.record(deal.listing, owner=SELLER)
    registry.assign(entries, assignor=SELLER, assignee=BUYER)

    released = services.deal_release(deal=deal, acting_user=None)

    assert deal_fresh(released).state == DealState.RELEASED
    assert before_release_runs(deal)[0].state == RunState.PASSED


def test_a_recordation_to_someone_else_refuses_the_release(registry: Registry, monkeypatch):
    deal = recorded_deal()
    entries = registry.record(deal.listing, owner=SELLER)
    registry.assign(entries, assignor=SELLER, assignee="Initech Intellectual Property Corp.")

    refused_and_nothing_changed(deal, lambda: services.deal_release(deal=deal, acting_user=None), monkeypatch)


def test_a_dispute_decided_for_the_seller_re_verifies_too(registry: Registry, monkeypatch):
    deal = recorded_deal()
    registry.lapse(registry.record(deal.listing, owner=SELLER))
    deal = services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="The patent lapsed.")
    decider = staff_user(decide=True)
    before, balances = snapshot(), deal_balances(deal)

    with pytest.raises(DealError, match=REFUSED):
        services.deal_dispute_decide(deal=deal, acting_user=decider, outcome="release", reason="Recorded.")

    assert snapshot() == before
    assert deal_balances(deal) == balances
    assert deal_fresh(deal).state == DealState.DISPUTED
    assert deal_fresh(deal).decision_reason == ""
    # Staff can still decide for the buyer: a refund needs no register.
    refunded = services.deal_dispute_decide(deal=deal, acting_user=decider, outcome="refund", reason="Lapsed.")
    assert deal_fresh(refunded).state == DealState.REFUNDED


def test_the_staff_release_page_shows_the_refusal(registry: Registry):
    deal = recorded_deal()
    registry.record(deal.listing, owner="Globex Patent Licensing GmbH")
    staff = staff_user()
    client = Client()
    assert client.login(email=staff.email, password=PASSWORD)
    before = snapshot()

    response = client.post(f"/deals/staff/{deal.pk}/release/", follow=True)

    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert snapshot() == before


def test_a_deal_that_cannot_be_released_does_not_read_the_register(registry_down):
    deal = recorded_deal()
    deal = services.deal_dispute_open(deal=deal, acting_user=deal.seller, reason="Buyer unreachable.")

    with pytest.raises(DealError, match="disputed"):
        services.deal_release(deal=deal, acting_user=None)

    assert before_release_runs(deal) == []


# --- A suspension reaches the buyers with open offers -------------------------------------------


def test_a_suspension_reaches_each_buyer_with_an_open_offer_once(registry: Registry):
    seller = UserFactory.create(legal_name=SELLER)
    listing = make_listing(seller=seller, price_mode="offers", asking_price=None, minimum_price=1_000_000)
    entries = registry.record(listing, owner=SELLER)
    amount = Money(1_500_000, "USD")
    waiting, withdrawn, rejected = UserFactory.create(), UserFactory.create(), UserFactory.create()
    open_offer = services.offer_make(listing=listing, buyer=waiting, amount=amount, deal_type="assignment")
    offer = services.offer_make(listing=listing, buyer=withdrawn, amount=amount, deal_type="assignment")
    services.offer_withdraw(offer=offer, acting_user=withdrawn)
    offer = services.offer_make(listing=listing, buyer=rejected, amount=amount, deal_type="assignment")
    services.offer_reject(offer=offer, acting_user=seller)
    registry.lapse(entries)
    mail.outbox.clear()

    # The periodic re-check finds the lapse and suspends the listing; the signal goes on commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert listing_verify_now(listing=listing, trigger=Trigger.PERIODIC) == RunState.FAILED
    assert Listing.objects.get(pk=listing.pk).state == ListingState.SUSPENDED
    # The same announcement delivered again tells no one twice.
    with TestCase.captureOnCommitCallbacks(execute=True):
        listing_suspended.send(sender=Listing, listing_id=listing.pk, reason="Delivered again.")

    told = Notification.objects.filter(kind=Notification.Kind.LISTING_SUSPENDED, listing=listing)
    assert list(told.filter(user=waiting).values_list("dedupe_key", flat=True)) == [
        f"suspended:{listing.pk}:offer:{open_offer.pk}"
    ]
    assert not told.filter(user__in=[withdrawn, rejected]).exists()
    to_buyers = [m for m in mail.outbox if set(m.to) & {waiting.email, withdrawn.email, rejected.email}]
    assert [m.to for m in to_buyers] == [[waiting.email]]
    assert "suspended" in to_buyers[0].subject.lower()
    assert "Not in force" in to_buyers[0].body
    assert Offer.objects.get(pk=open_offer.pk).state == OfferState.OPEN


def test_a_suspension_reaches_the_buyer_of_the_active_deal_once(registry: Registry):
    seller = UserFactory.create(legal_name=SELLER)
    listing = make_listing(seller=seller)
    entries = registry.record(listing, owner=SELLER)
    gone, paying = UserFactory.create(), UserFactory.create()
    cancelled = services.deal_buy_now(listing=listing, buyer=gone)
    services.deal_cancel(deal=cancelled, acting_user=gone, reason="Changed my mind.")
    deal = services.deal_buy_now(listing=Listing.objects.get(pk=listing.pk), buyer=paying)
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_s", idempotency_key="payment_intent:pi_s"
    )
    registry.lapse(entries)
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert listing_verify_now(listing=listing, trigger=Trigger.PERIODIC) == RunState.FAILED
    assert Listing.objects.get(pk=listing.pk).state == ListingState.SUSPENDED
    with TestCase.captureOnCommitCallbacks(execute=True):
        listing_suspended.send(sender=Listing, listing_id=listing.pk, reason="Delivered again.")

    told = Notification.objects.filter(kind=Notification.Kind.LISTING_SUSPENDED, listing=listing)
    assert list(told.filter(user=paying).values_list("dedupe_key", flat=True)) == [
        f"suspended:{listing.pk}:deal:{deal.pk}"
    ]
    assert not told.filter(user=gone).exists()
    notice = told.get(user=paying)
    assert "Your payment stays in escrow: nothing is released to the seller" in notice.body
    assert notice.url == f"/deals/#deal-{deal.pk}"
    assert [m.to for m in mail.outbox if set(m.to) & {paying.email, gone.email}] == [[paying.email]]
    # The deal itself is untouched: staff decide what happens to the money.
    assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED


def test_a_buyer_who_has_not_paid_yet_is_told_to_hold_the_payment(registry: Registry):
    seller = UserFactory.create(legal_name=SELLER)
    listing = make_listing(seller=seller)
    entries = registry.record(listing, owner=SELLER)
    deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create())
    registry.lapse(entries)

    with TestCase.captureOnCommitCallbacks(execute=True):
        listing_verify_now(listing=listing, trigger=Trigger.PERIODIC)

    notice = Notification.objects.get(kind=Notification.Kind.LISTING_SUSPENDED, user=deal.buyer)
    assert "Hold your payment" in notice.body
    assert f"deal #{deal.pk}" in notice.title
