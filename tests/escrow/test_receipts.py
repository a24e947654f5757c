"""PDF receipts: one per movement of money a party made or received, with the fees broken down,
the Stripe reference and the ledger journal; for that party and finance staff only. The money
moves for real: cards at localstripe, transfers at the HTTP stand-in for Stripe's Connect."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase

from accounts.models import User
from accounts.staff import FINANCE, staff_groups_sync
from escrow import margin, payments, payouts, services
from escrow.models import ConnectedAccount, Deal, FeeSchedule, Journal, JournalKind, MarginDeposit, StripeRequest
from marketplace.money import Money
from tests.escrow.money_path import card_confirm, listing_awaiting_margin, tasks_sent
from tests.escrow.pdf_text import pdf_fonts, pdf_text
from tests.escrow.stripe_fakes import fake_stripe_running
from tests.escrow.test_deals_support import staff_user
from tests.escrow.test_margin import paid_margin
from tests.factories import UserFactory, make_listing

pytestmark = pytest.mark.django_db

USD = "USD"


def journal_of(kind: str, reference_key: str) -> Journal:
    return Journal.objects.get(kind=kind, idempotency_key=reference_key)


def url_of(journal: Journal) -> str:
    return f"/deals/receipts/{journal.pk}.pdf"


def receipt_text(client, user: User, journal: Journal) -> str:
    client.force_login(user)
    response = client.get(url_of(journal))
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="receipt-R-{journal.pk:08d}.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    return pdf_text(response.content)


def bought(*, buyer: User | None = None, services_asked: tuple[str, ...] = (), **terms: Any) -> Deal:
    seller = UserFactory.create(legal_name="Acme Widgets, Inc.")
    listing = make_listing(seller=seller, **terms)
    return services.deal_buy_now(
        listing=listing, buyer=buyer or UserFactory.create(legal_name="Buyer Holdings LLC"), services=services_asked
    )


def paid_by_card(deal: Deal) -> Deal:
    """The buyer pays at localstripe as Stripe.js would; the return page applies it."""
    intent = payments.deal_payment_start(deal=deal, buyer=deal.buyer)
    card_confirm(intent.id)
    assert payments.payment_intent_settle(payment_intent_id=intent.id) == "funded"
    return Deal.objects.get(pk=deal.pk)


def funded(deal: Deal) -> Deal:
    return services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_standin", idempotency_key=f"payment_intent:{deal.pk}"
    )


def test_the_buyer_gets_a_pdf_receipt_of_the_escrow_payment_with_each_fee(client):
    FeeSchedule.objects.create(
        currency=USD, transaction_fee_basis_points=250, transaction_fee_payer="split", valuation_fee=50_000
    )
    deal = paid_by_card(bought(services_asked=("valuation",)))
    journal = journal_of(JournalKind.DEAL_FUNDED, f"deal:{deal.pk}:funded")

    text = receipt_text(client, deal.buyer, journal)

    for expected in (
        "RECEIPT",
        f"No. R-{journal.pk:08d}",
        "Payment into escrow",
        "Received from",
        "Buyer Holdings LLC",
        deal.buyer.email,
        f"#{deal.pk}, Assignment",
        f"#{deal.listing_id}: {deal.listing.title}",
        "Price",
        "25,000.00 USD",
        # 2.5% of 25,000.00 is 625.00, shared: 312.50 each.
        "Transaction fee (2.50% of the price, shared equally)",
        "312.50 USD",
        "Valuation report (per deal, paid by the buyer)",
        "500.00 USD",
        "Total paid into escrow",
        "25,812.50 USD",
        "Stripe PaymentIntent",
        deal.payment_reference,
        "Stripe balance transaction",
        journal.reference,
        f"#{journal.pk} (Deal funded by the buyer)",
    ):
        assert expected in text, expected
    assert journal.reference.startswith("txn_")
    assert "Acme Widgets" not in text  # the other party is not on the buyer's receipt
    # The same receipt, the same bytes (it is drawn from rows that never change).
    assert client.get(url_of(journal)).content == client.get(url_of(journal)).content

    page = client.get("/deals/").content.decode()
    assert url_of(journal) in page
    client.force_login(deal.seller)
    assert url_of(journal) not in client.get("/deals/").content.decode()


def test_a_receipt_is_its_partys_and_finance_staffs_only_everyone_else_gets_404(client, monkeypatch):
    deal = funded(bought())
    journal = journal_of(JournalKind.DEAL_FUNDED, f"deal:{deal.pk}:funded")
    staff_groups_sync()
    finance = UserFactory.create(is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    journals_before = Journal.objects.count()

    for someone in (deal.seller, UserFactory.create(), staff_user()):
        client.force_login(someone)
        assert client.get(url_of(journal)).status_code == 404
    client.logout()
    anonymous = client.get(url_of(journal))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    client.force_login(finance)
    assert client.get(url_of(journal)).status_code == 200
    assert Journal.objects.count() == journals_before

    # A journal that is no receipt (the decision to refund moves nothing to the card yet), and
    # one that does not exist.
    with tasks_sent(monkeypatch):
        services.deal_refund(deal=deal, acting_user=deal.seller, reason="Changed my mind.")
    decision = journal_of(JournalKind.DEAL_REFUNDED, f"deal:{deal.pk}:refunded")
    client.force_login(deal.buyer)
    assert client.get(url_of(decision)).status_code == 404
    assert client.get("/deals/receipts/999999999.pdf").status_code == 404
    assert client.get(url_of(journal)).status_code == 200


@pytest.fixture
def fake(settings):
    with fake_stripe_running() as running:
        settings.STRIPE_API_BASE = running.url
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield running


def test_the_seller_gets_receipts_of_the_release_and_of_the_payout(client, fake, registry, monkeypatch):
    FeeSchedule.objects.create(currency=USD, transaction_fee_basis_points=200, transaction_fee_payer="seller")
    deal = funded(bought())
    registry.record(deal.listing)
    staff = staff_user()
    services.deal_mark_recorded(deal=deal, acting_user=staff)
    with tasks_sent(monkeypatch), TestCase.captureOnCommitCallbacks(execute=True):
        services.deal_release(deal=deal, acting_user=staff)
    payouts.connected_account_start(user=deal.seller, refresh_url="http://t/r", return_url="http://t/d")
    account = ConnectedAccount.objects.get(user=deal.seller)
    fake.accounts[account.stripe_account_id]["capabilities"]["transfers"] = "active"
    with tasks_sent(monkeypatch):
        payouts.connected_account_refresh(stripe_account_id=account.stripe_account_id)
    assert payouts.deal_payout(deal_id=deal.pk) == "paid"
    released = journal_of(JournalKind.DEAL_RELEASED, f"deal:{deal.pk}:released")
    paid_out = journal_of(JournalKind.SELLER_PAYOUT, f"deal:{deal.pk}:payout")
    [transfer_id] = fake.transfers

    text = receipt_text(client, deal.seller, released)
    for expected in (
        "Escrow released to you",
        "Paid to",
        "Acme Widgets, Inc.",
        "25,000.00 USD",
        "Transaction fee (2.00% of the price, paid by the seller)",
        "-500.00 USD",
        "Your proceeds",
        "24,500.00 USD",
        f"#{released.pk} (Escrow released to the seller)",
    ):
        assert expected in text, expected

    text = receipt_text(client, deal.seller, paid_out)
    for expected in ("Payout to your Stripe account", "Transferred to your Stripe account", "24,500.00 USD"):
        assert expected in text, expected
    assert f"Stripe transfer\n{transfer_id}" in text
    page = client.get("/deals/").content.decode()
    assert url_of(released) in page
    assert url_of(paid_out) in page

    client.force_login(deal.buyer)
    assert client.get(url_of(released)).status_code == 404
    assert client.get(url_of(paid_out)).status_code == 404


def test_the_buyer_gets_a_receipt_of_the_refund_to_their_card(client, monkeypatch):
    deal = paid_by_card(bought())
    with tasks_sent(monkeypatch):
        services.deal_refund(deal=deal, acting_user=deal.seller, reason="I cannot transfer it.")
    assert payouts.deal_refund_pay(deal_id=deal.pk) == "paid"
    journal = journal_of(JournalKind.BUYER_REFUND_PAID, f"deal:{deal.pk}:refund_paid")
    refund_id = StripeRequest.objects.get(idempotency_key=f"deal:{deal.pk}:refund").response_object_id

    text = receipt_text(client, deal.buyer, journal)

    assert "Refund of your payment" in text
    assert "Total refunded to your card\n25,000.00 USD" in text
    assert f"Stripe refund\n{refund_id}" in text
    assert refund_id.startswith("re_")
    client.force_login(deal.seller)
    assert client.get(url_of(journal)).status_code == 404


def test_the_seller_gets_receipts_of_the_margin_deposit_paid_and_returned(client, settings, monkeypatch):
    listing = listing_awaiting_margin(settings)
    deposit = paid_margin(listing)
    with tasks_sent(monkeypatch), TestCase.captureOnCommitCallbacks(execute=True):
        margin.listing_withdraw_returning_margin(listing=listing, acting_user=listing.seller)
    assert margin.margin_refund_pay(deposit_id=deposit.pk) == "returned"
    deposit = MarginDeposit.objects.get(pk=deposit.pk)
    paid = journal_of(JournalKind.MARGIN_DEPOSIT_PAID, f"listing:{listing.pk}:margin:paid")
    returned = journal_of(JournalKind.MARGIN_DEPOSIT_RETURNED, f"listing:{listing.pk}:margin:returned")

    text = receipt_text(client, listing.seller, paid)
    assert "Margin deposit paid" in text
    assert "Total paid\n250.00 USD" in text  # 1% of 25,000.00
    assert f"Stripe PaymentIntent\n{deposit.payment_intent_id}" in text
    text = receipt_text(client, listing.seller, returned)
    assert "Total returned\n250.00 USD" in text
    assert f"Stripe refund\n{deposit.refund_id}" in text

    page = client.get("/deals/").content.decode()
    assert url_of(paid) in page
    assert url_of(returned) in page
    client.force_login(UserFactory.create())
    assert client.get(url_of(paid)).status_code == 404


def test_chinese_and_korean_names_are_set_in_cjk_fonts_and_other_scripts_degrade(client):
    buyer = UserFactory.create(
        legal_name="华为技术有限公司",
        organisation="삼성전자 Samsung",
        legal_address="深圳市龙岗区坂田华为基地\n\u041e\u041e\u041e \u0420\u043e\u043c\u0430\u0448\u043a\u0430, Zürich",
    )
    deal = funded(bought(buyer=buyer, title="一种基于神经网络的图像识别方法"))
    journal = journal_of(JournalKind.DEAL_FUNDED, f"deal:{deal.pk}:funded")

    client.force_login(buyer)
    content = client.get(url_of(journal)).content
    text = pdf_text(content)

    assert {"STSong-Light", "HYSMyeongJo-Medium"} <= set(pdf_fonts(content).values())
    for expected in (
        "华为技术有限公司",
        "삼성전자",
        " Samsung",
        "深圳市龙岗区坂田华为基地",
        "一种基于神经网络的图像识别方法",
    ):
        assert expected in text, expected
    # No font here has Cyrillic: it degrades to question marks, the Latin around it stays.
    assert "??? ???????, Zürich" in text
    assert "25,000.00 USD" in text


def test_a_long_title_wraps_onto_more_lines_and_pages_never_overflow(client):
    deal = funded(bought(title=("Sparse neural network accelerator " * 8).strip()))
    journal = journal_of(JournalKind.DEAL_FUNDED, f"deal:{deal.pk}:funded")

    text = receipt_text(client, deal.buyer, journal)

    listing_lines = [line for line in text.splitlines() if "Sparse neural network accelerator" in line]
    assert len(listing_lines) >= 3
    assert "Total paid into escrow" in text
    assert Money(2_500_000, USD) == deal.total_due
