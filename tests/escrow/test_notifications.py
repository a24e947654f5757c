"""Each step of an offer or a deal tells the other side once, in the site and by email after
commit; the one who acted is not told, and staff or the platform acting tells both parties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from accounts.models import User
from escrow import services
from escrow.models import Deal, Offer
from escrow.services.notifications import deal_event_notify
from marketplace.money import Money
from tests.escrow.money_path import tasks_sent
from tests.escrow.test_deals_support import fixed_listing, offers_listing, staff_user
from tests.factories import UserFactory
from verification.models import Notification

pytestmark = pytest.mark.django_db

K = Notification.Kind
USD = "USD"


def told(kind: str) -> list[tuple[int, str]]:
    """(user, dedupe key) of every alert of this kind, in the order made."""
    return list(Notification.objects.filter(kind=kind).order_by("id").values_list("user_id", "dedupe_key"))


def mails_to(user: User) -> list[str]:
    return [str(message.subject) for message in mail.outbox if message.to == [user.email]]


def test_an_offer_and_its_counter_tell_the_other_side_once_by_site_and_email():
    listing = offers_listing()
    seller, buyer = listing.seller, UserFactory.create()
    with TestCase.captureOnCommitCallbacks(execute=True):
        offer = services.offer_make(
            listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment", message="Interested."
        )
    assert told(K.OFFER_RECEIVED) == [(seller.pk, f"offer:{offer.pk}:offer_received")]
    assert mails_to(seller) == [f"[IP Marketplace] New offer of 15,000.00 USD on {listing.title}"]
    assert mails_to(buyer) == []
    body = mail.outbox[0].body
    assert "Interested." in body
    assert "You would receive on release: 15,000.00 USD" in body
    assert f"/deals/#offer-{offer.pk}" in body

    with TestCase.captureOnCommitCallbacks(execute=True):
        counter = services.offer_counter(offer=offer, acting_user=seller, amount=Money(1_800_000, USD))
    assert told(K.OFFER_COUNTERED) == [(buyer.pk, f"offer:{counter.pk}:offer_countered")]
    assert mails_to(buyer) == [f"[IP Marketplace] Counter-offer of 18,000.00 USD on {listing.title}"]
    assert len(mails_to(seller)) == 1


def test_acceptance_tells_the_maker_and_expires_the_other_buyers_offers_with_word_to_them():
    listing = offers_listing()
    seller, buyer, other = listing.seller, UserFactory.create(), UserFactory.create()
    offer = services.offer_make(listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment")
    outbid = services.offer_make(listing=listing, buyer=other, amount=Money(1_200_000, USD), deal_type="assignment")
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        deal = services.offer_accept(offer=offer, acting_user=seller)

    assert told(K.OFFER_ACCEPTED) == [(buyer.pk, f"offer:{offer.pk}:offer_accepted")]
    assert told(K.OFFER_EXPIRED) == [(other.pk, f"offer:{outbid.pk}:offer_expired")]
    assert told(K.DEAL_CREATED) == []  # the acceptance says it: one alert per action
    assert "The listing was reserved by another deal." in Notification.objects.get(kind=K.OFFER_EXPIRED).body
    accepted = Notification.objects.get(kind=K.OFFER_ACCEPTED)
    assert f"deal #{deal.pk}" in accepted.body
    assert "Pay 15,000.00 USD into escrow by" in accepted.body
    assert mails_to(seller) == []
    assert len(mails_to(buyer)) == len(mails_to(other)) == 1


def test_a_rejection_tells_the_maker_and_a_withdrawal_the_recipient():
    listing = offers_listing()
    seller, buyer = listing.seller, UserFactory.create()
    rejected = services.offer_make(listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment")
    services.offer_reject(offer=rejected, acting_user=seller, message="Too low for us.")
    withdrawn = services.offer_make(listing=listing, buyer=buyer, amount=Money(1_600_000, USD), deal_type="assignment")
    services.offer_withdraw(offer=withdrawn, acting_user=buyer)

    assert told(K.OFFER_REJECTED) == [(buyer.pk, f"offer:{rejected.pk}:offer_rejected")]
    assert "Too low for us." in Notification.objects.get(kind=K.OFFER_REJECTED).body
    assert told(K.OFFER_WITHDRAWN) == [(seller.pk, f"offer:{withdrawn.pk}:offer_withdrawn")]


def test_an_offer_expiring_unanswered_tells_both_sides_once_however_often_the_sweep_runs():
    listing = offers_listing()
    buyer = UserFactory.create()
    offer = services.offer_make(listing=listing, buyer=buyer, amount=Money(1_500_000, USD), deal_type="assignment")
    later = timezone.now() + timedelta(days=8)

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.offers_expire(now=later) == [offer.pk]
        assert services.offers_expire(now=later) == []

    assert sorted(told(K.OFFER_EXPIRED)) == sorted(
        [(buyer.pk, f"offer:{offer.pk}:offer_expired"), (listing.seller_id, f"offer:{offer.pk}:offer_expired")]
    )
    assert len(mails_to(buyer)) == len(mails_to(listing.seller)) == 1


def test_each_step_of_a_deal_tells_the_right_people_once(registry, monkeypatch):
    listing = fixed_listing()
    seller, buyer, staff = listing.seller, UserFactory.create(), staff_user()
    registry.record(listing)
    with tasks_sent(monkeypatch), TestCase.captureOnCommitCallbacks(execute=True):
        deal = services.deal_buy_now(listing=listing, buyer=buyer)
        deal = services.deal_mark_funded(
            deal=deal, amount=deal.total_due, payment_reference="pi_n", idempotency_key="payment_intent:pi_n"
        )
        # The same payment applied again (a webhook redelivered) tells no one twice.
        services.deal_mark_funded(
            deal=deal, amount=deal.total_due, payment_reference="pi_n", idempotency_key="payment_intent:pi_n"
        )
        services.deal_start_transfer(deal=deal, acting_user=staff)
        services.deal_mark_recorded(deal=deal, acting_user=staff)
        services.deal_release(deal=deal, acting_user=staff)

    key = f"deal:{deal.pk}"
    assert told(K.DEAL_CREATED) == [(seller.pk, f"{key}:deal_created")]
    for kind in (K.DEAL_FUNDED, K.DEAL_IN_TRANSFER, K.DEAL_RECORDED, K.DEAL_RELEASED):
        assert sorted(told(kind)) == sorted([(buyer.pk, f"{key}:{kind}"), (seller.pk, f"{key}:{kind}")]), kind
    assert len(mails_to(seller)) == 5
    assert len(mails_to(buyer)) == 4
    released = Notification.objects.get(kind=K.DEAL_RELEASED, user=seller)
    assert "25,000.00 USD is yours after fees" in released.body
    assert released.url == f"/deals/#deal-{deal.pk}"
    assert not Notification.objects.filter(user=staff).exists()


def funded_deal() -> Deal:
    deal = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory.create())
    return services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_f", idempotency_key=f"payment_intent:pi_f{deal.pk}"
    )


def test_a_refund_by_the_seller_tells_the_buyer_only(monkeypatch):
    deal = funded_deal()
    with tasks_sent(monkeypatch):
        services.deal_refund(deal=deal, acting_user=deal.seller, reason="I cannot transfer it after all.")

    assert told(K.DEAL_REFUNDED) == [(deal.buyer_id, f"deal:{deal.pk}:deal_refunded")]
    assert "I cannot transfer it after all." in Notification.objects.get(kind=K.DEAL_REFUNDED).body


def test_a_dispute_tells_the_other_party_and_its_decision_both_once(monkeypatch):
    deal = funded_deal()
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="The seller does not sign.")
    with tasks_sent(monkeypatch):
        services.deal_dispute_decide(
            deal=deal, acting_user=staff_user(decide=True), outcome="refund", reason="Seller default."
        )

    assert told(K.DISPUTE_OPENED) == [(deal.seller_id, f"deal:{deal.pk}:dispute_opened")]
    assert (
        "The buyer opened a dispute: The seller does not sign." in Notification.objects.get(kind=K.DISPUTE_OPENED).body
    )
    decided = Notification.objects.filter(kind=K.DISPUTE_DECIDED)
    assert sorted(decided.values_list("user_id", flat=True)) == sorted([deal.buyer_id, deal.seller_id])
    assert "refunded to the buyer" in decided.first().body
    assert told(K.DEAL_REFUNDED) == []  # the decision's alert says where the money went


def test_a_cancellation_at_the_payment_deadline_tells_both_and_one_by_a_party_the_other():
    unpaid = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory.create())
    withdrawn = services.deal_buy_now(listing=fixed_listing(), buyer=UserFactory.create())
    services.deal_cancel(deal=withdrawn, acting_user=withdrawn.buyer, reason="Budget cut.")

    assert services.deals_cancel_unpaid(now=timezone.now() + timedelta(days=6)) == [unpaid.pk]

    cancelled = Notification.objects.filter(kind=K.DEAL_CANCELLED)
    assert sorted(
        cancelled.filter(dedupe_key=f"deal:{unpaid.pk}:deal_cancelled").values_list("user_id", flat=True)
    ) == sorted([unpaid.buyer_id, unpaid.seller_id])
    assert list(
        cancelled.filter(dedupe_key=f"deal:{withdrawn.pk}:deal_cancelled").values_list("user_id", flat=True)
    ) == [withdrawn.seller_id]
    assert "Not paid by the deadline." in cancelled.filter(user=unpaid.buyer).get().body


def test_telling_again_tells_no_one_and_sends_no_email():
    with TestCase.captureOnCommitCallbacks(execute=True):
        deal = funded_deal()
    sent = len(mail.outbox)
    assert sent == 3  # the seller of the deal agreed; both of the funding

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert deal_event_notify(deal=deal, kind=K.DEAL_FUNDED, actor=None) == 0

    assert Notification.objects.filter(kind=K.DEAL_FUNDED).count() == 2
    assert len(mail.outbox) == sent


def test_an_action_rolled_back_tells_no_one():
    listing = offers_listing()

    def request_failing_after_the_offer() -> None:
        with transaction.atomic():
            services.offer_make(
                listing=listing, buyer=UserFactory.create(), amount=Money(1_500_000, USD), deal_type="assignment"
            )
            raise RuntimeError("the request failed after the offer")

    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
        request_failing_after_the_offer()

    assert not Offer.objects.exists()
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_the_alerts_page_lists_the_deal_alerts(client):
    deal = funded_deal()
    client.force_login(deal.seller)

    page = client.get("/verification/notifications/").content.decode()

    assert f"Deal #{deal.pk} funded" in page
    assert f"/deals/#deal-{deal.pk}" in page
