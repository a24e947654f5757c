"""The money path in Chromium against localstripe: the seller pays the margin deposit and the
listing goes live; the buyer buys and pays with a test card; the deal is funded; staff mark it
recorded in the admin and release it; the seller's payable shows; both dashboards show the
ledger lines of the deal.

The cards are typed into the card element of localstripe's stand-in Stripe.js, as a person
would: its createToken makes the token, the page posts it to the card view, which charges it on
the payment's intent; a declined card first shows its error and changes nothing. A 3-D Secure
card is answered in the stand-in's authentication dialog.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from escrow.ledger import entries_of
from escrow.models import Deal, DealState, Journal, MarginDeposit, StripeRequest
from listings.models import Listing, ListingState
from tests.browser.test_catalogue_flow import log_in, log_out
from tests.escrow import conftest as escrow_fixtures
from tests.escrow.money_path import deal_awaiting_payment, listing_awaiting_margin, localstripe, tasks_sent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The register the release re-verifies against: the sandbox registry on a loopback port (see
# tests/escrow/conftest.py).
registry = escrow_fixtures.registry
registry_url = escrow_fixtures.registry_url

DECLINED = "4000000000000002"


def card_type(page, number: str) -> None:
    """Type a card into the stand-in's card element (number, expiry 12/30, CVC, postcode)."""
    fields = {"number": number, "exp_month": "12", "exp_year": "30", "cvc": "123", "postal_code": "10001"}
    for field, value in fields.items():
        page.locator(f"#card-element input[placeholder={field}]").fill(value)


def pay_by_card(page, *, key: str, refused: Callable[[], tuple]) -> None:
    """On a pay page: a declined card shows its error and changes nothing (`refused` tells what
    must stay the same); then the test card pays, and the page goes on to its return view."""
    expect(page.locator("#card-element input").first).to_be_visible()
    before = refused()
    card_type(page, DECLINED)
    page.locator("#pay-button").click()
    expect(page.locator("#card-errors")).to_have_text("Your card was declined.")
    expect(page.locator("#pay-button")).to_be_enabled()
    assert refused() == before
    assert intent_status(key) == "requires_payment_method"

    card_type(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.wait_for_url("**/deals/")
    assert intent_status(key) == "succeeded"
    # Charged by the card view, with the typed card's token: one attempt, confirmed once.
    (attempt,) = StripeRequest.objects.filter(idempotency_key__startswith=f"{key}:card:tok_", state="succeeded")
    assert (attempt.purpose, attempt.attempts) == ("payment_intent_confirm", 1)


def intent_status(key: str) -> str:
    intent_id = StripeRequest.objects.get(idempotency_key=key).response_object_id
    return str(localstripe("GET", f"/v1/payment_intents/{intent_id}")["status"])


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
        pay_by_card(
            page,
            key=f"listing:{listing.pk}:margin",
            refused=lambda: (
                Listing.objects.get(pk=listing.pk).state,
                MarginDeposit.objects.get(listing=listing).state,
                Journal.objects.count(),
            ),
        )
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
        pay_by_card(
            page,
            key=f"deal:{deal.pk}:payment",
            refused=lambda: (Deal.objects.get(pk=deal.pk).state, Journal.objects.count()),
        )
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


def test_a_3d_secure_card_is_paid_once_the_cardholder_completes_the_authentication(page, live_server):
    deal = deal_awaiting_payment()
    log_in(page, deal.buyer.email)
    page.goto(f"/deals/{deal.pk}/pay/")
    card_type(page, "4000002760003184")

    # The cardholder fails the bank's challenge: nothing is charged, the form says so.
    page.locator("#pay-button").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.locator("#card-errors")).to_contain_text("not authenticated")
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT
    assert intent_status(f"deal:{deal.pk}:payment") == "requires_payment_method"

    # Then completes it.
    page.locator("#pay-button").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("is funded and held in escrow")).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED
