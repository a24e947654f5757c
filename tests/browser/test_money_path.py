"""The money path in Chromium against localstripe: the seller pays the margin deposit and the
listing goes live; the buyer buys and pays with a test card; the deal is funded; staff mark it
recorded in the admin and release it; the seller's payable shows; both dashboards show the
ledger lines of the deal.

About the card step: the pages load localstripe's stand-in Stripe.js, which mounts its card
element (checked below), but its `confirmCardPayment` ignores the card typed in: it only posts
`/v1/payment_intents/{id}/_authenticate`, which localstripe accepts solely for an intent already
in `requires_action` (a 3-D Secure card attached server-side), and its `createPaymentMethod` is
an empty stub. A PaymentIntent created for Stripe.js has no payment method yet
(`requires_payment_method`), so the stand-in answers 400 and no card could ever be charged
through it. The test therefore does at localstripe's API exactly what Stripe.js does with the
card typed in (a card PaymentMethod 4242 4242 4242 4242, attached to the intent and confirmed),
then follows the page's own return link, which applies the payment through the same path as
the webhook.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from escrow.ledger import entries_of
from escrow.models import Deal, DealState, MarginDeposit, StripeRequest
from listings.models import Listing, ListingState
from tests.browser.test_catalogue_flow import log_in, log_out
from tests.escrow import conftest as escrow_fixtures
from tests.escrow.money_path import card_confirm, listing_awaiting_margin, tasks_sent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The register the release re-verifies against: the sandbox registry on a loopback port (see
# tests/escrow/conftest.py).
registry = escrow_fixtures.registry
registry_url = escrow_fixtures.registry_url


def pay_by_card(page, *, key: str) -> None:
    """On a pay page: the stand-in's card element is there and takes the card; the card is
    confirmed as Stripe.js would (see the module's docstring); then the page's return link."""
    card = page.locator("#card-element input")
    expect(card.first).to_be_visible()
    card.nth(0).fill("4242424242424242")
    intent_id = StripeRequest.objects.get(idempotency_key=key).response_object_id
    assert card_confirm(intent_id)["status"] == "succeeded"
    page.get_by_role("link", name="Check the payment").click()


def dashboard_ledger_rows(page, deal: Deal) -> list[str]:
    rows = page.locator(f"#deal-{deal.pk} table tr").all_inner_texts()
    return [re.sub(r"\s+", " ", row).strip() for row in rows]


def test_margin_listing_live_buy_pay_fund_record_release_and_the_dashboards(page, settings, monkeypatch, registry):
    listing = listing_awaiting_margin(settings)
    registry.record(listing)
    seller = listing.seller
    buyer = UserFactory.create(email="buyer@example.com")
    staff = UserFactory.create(email="staff@example.com", is_staff=True, is_superuser=True)

    with tasks_sent(monkeypatch) as sent:
        # The seller pays the margin deposit; the listing goes live.
        log_in(page, seller.email)
        page.goto(f"/listings/{listing.pk}/")
        page.get_by_role("link", name="Pay margin deposit").click()
        expect(page.locator("#amounts")).to_contain_text("250.00 USD")
        pay_by_card(page, key=f"listing:{listing.pk}:margin")
        expect(page.get_by_text("Margin deposit received")).to_be_visible()
        assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
        assert MarginDeposit.objects.get(listing=listing).state == "paid"
        log_out(page)

        # The buyer buys at the asking price and pays into escrow.
        log_in(page, buyer.email)
        page.goto(f"/listings/{listing.pk}/")
        page.get_by_role("button", name="Buy now").click()
        deal = Deal.objects.get(listing=listing)
        page.get_by_role("link", name="Pay 25,000.00 USD into escrow").click()
        expect(page.locator("#amounts")).to_contain_text("25,000.00 USD")
        pay_by_card(page, key=f"deal:{deal.pk}:payment")
        expect(page.get_by_text("is funded and held in escrow")).to_be_visible()
        assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED
        log_out(page)

        # Staff mark the transfer recorded in the admin, then release.
        log_in(page, staff.email)
        page.goto("/admin/escrow/deal/")
        page.locator(f"input[name=_selected_action][value='{deal.pk}']").check()
        page.locator("select[name=action]").select_option("mark_recorded")
        page.get_by_role("button", name="Go").click()
        expect(page.get_by_text(f"Deal #{deal.pk} is recorded.")).to_be_visible()
        page.goto(f"/deals/staff/{deal.pk}/release/")
        page.get_by_role("button", name="Release the escrow to the seller").click()
        expect(page.get_by_text(f"Deal #{deal.pk} released")).to_be_visible()
        log_out(page)

    deal = Deal.objects.get(pk=deal.pk)
    assert deal.state == DealState.RELEASED
    # The payout and the margin's return were queued on commit; the seller has no Connect account.
    assert ("escrow.deal_payout", deal.pk) in sent
    assert ("escrow.margin_refund_pay", MarginDeposit.objects.get(listing=listing).pk) in sent

    # The seller's dashboard: the payable owed, and the ledger lines of their own accounts.
    log_in(page, seller.email)
    page.goto("/deals/")
    expect(page.locator("#payout-owed")).to_contain_text("25,000.00 USD")
    seller_rows = dashboard_ledger_rows(page, deal)
    log_out(page)
    log_in(page, buyer.email)
    page.goto("/deals/")
    buyer_rows = dashboard_ledger_rows(page, deal)

    seller_lines = [e for e in entries_of(user=seller) if e.account.reference == deal.reference]
    buyer_lines = [e for e in entries_of(user=buyer) if e.account.reference == deal.reference]
    assert len(seller_rows) == len(seller_lines) == 1
    assert len(buyer_rows) == len(buyer_lines) == 2
    # The release is one journal: the seller's credit and the buyer's debit are its two sides.
    assert any("Escrow released to the seller" in row and "-25,000.00 USD" in row for row in seller_rows)
    assert any("Escrow released to the seller" in row and "25,000.00 USD" in row for row in buyer_rows)
    assert any("Deal funded by the buyer" in row for row in buyer_rows)
