"""A card typed on the pay page: Stripe.js tokenizes it (here: the token made at localstripe as
createToken makes it), the card view charges it on the deal's or deposit's one PaymentIntent,
3-D Secure is finished by the cardholder, and the return page applies the payment."""

from __future__ import annotations

import pytest
from django.test import Client

from escrow import payments, stripe_gateway
from escrow.models import Deal, DealState, Journal, MarginDeposit, StripeRequest
from listings.models import Listing, ListingState
from tests.escrow.money_path import (
    card_authenticate,
    card_token,
    deal_awaiting_payment,
    listing_awaiting_margin,
    localstripe,
)
from tests.factories import UserFactory

DECLINED = "4000000000000002"  # refused when the card is saved, before any charge
THREE_D_SECURE = "4000002760003184"  # the bank always asks the cardholder to authenticate


def deal_intent(deal: Deal) -> dict:
    key = payments.deal_payment_key(deal.pk)
    return localstripe("GET", f"/v1/payment_intents/{payments.payment_intent_id_for(key=key)}")


def state_of(deal: Deal) -> tuple:
    """What a refused card must not change: the deal, the ledger, the intent's status."""
    deal = Deal.objects.get(pk=deal.pk)
    return (deal.state, deal.funding_key, Journal.objects.count(), deal_intent(deal)["status"])


@pytest.fixture
def deal(client: Client, db: None) -> Deal:
    """A deal awaiting payment, its buyer logged in and its pay page opened (the intent made)."""
    deal = deal_awaiting_payment()
    client.force_login(deal.buyer)
    assert client.get(f"/deals/{deal.pk}/pay/").status_code == 200
    return deal


def pay(client: Client, deal: Deal, token: str):
    return client.post(f"/deals/{deal.pk}/pay/card/", {"card_token": token})


def test_a_typed_card_pays_the_deal_once_and_the_return_page_funds_it(client, deal):
    token = card_token()

    response = pay(client, deal, token)
    again = pay(client, deal, token)  # a double click: the same card, charged once
    assert client.get(f"/deals/{deal.pk}/pay/return/").status_code == 302

    assert response.status_code == 200
    assert response.json() == {"status": "succeeded", "return_url": f"/deals/{deal.pk}/pay/return/"}
    assert again.json()["status"] == "succeeded"
    record = StripeRequest.objects.get(idempotency_key=f"deal:{deal.pk}:payment:card:{token}")
    assert (record.state, record.purpose, record.attempts) == ("succeeded", "payment_intent_confirm", 1)
    intent = deal_intent(deal)
    assert intent["status"] == "succeeded"
    assert intent["customer"].startswith("cus_")
    deal = Deal.objects.get(pk=deal.pk)
    assert (deal.state, deal.payment_reference) == (DealState.FUNDED, intent["id"])


def test_a_declined_card_is_refused_with_its_message_changing_nothing_and_another_card_pays(client, deal):
    before = state_of(deal)

    response = pay(client, deal, card_token(DECLINED))

    assert response.status_code == 402
    assert response.json() == {"error": "Your card was declined."}
    assert state_of(deal) == before
    assert before[-1] == "requires_payment_method"
    assert not StripeRequest.objects.filter(purpose="payment_intent_confirm").exists()

    assert pay(client, deal, card_token()).json()["status"] == "succeeded"
    client.get(f"/deals/{deal.pk}/pay/return/")
    assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED


def test_a_3d_secure_card_waits_for_the_cardholder_and_pays_once_authenticated(client, deal):
    response = pay(client, deal, card_token(THREE_D_SECURE))

    assert response.json()["status"] == "requires_action"
    client.get(f"/deals/{deal.pk}/pay/return/")
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT  # not paid until authenticated

    intent = deal_intent(deal)
    assert card_authenticate(intent["id"], intent["client_secret"])["status"] == "succeeded"
    client.get(f"/deals/{deal.pk}/pay/return/")
    assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED


def test_a_failed_authentication_charges_nothing_and_the_buyer_can_pay_with_another_card(client, deal):
    pay(client, deal, card_token(THREE_D_SECURE))
    intent = deal_intent(deal)

    assert card_authenticate(intent["id"], intent["client_secret"], success=False)["status"] == (
        "requires_payment_method"
    )
    client.get(f"/deals/{deal.pk}/pay/return/")
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT

    assert pay(client, deal, card_token()).json()["status"] == "succeeded"
    client.get(f"/deals/{deal.pk}/pay/return/")
    assert Deal.objects.get(pk=deal.pk).state == DealState.FUNDED


@pytest.mark.parametrize(
    "token",
    ["", "4242424242424242", "tok_", "tok_x'; DROP TABLE", "tok_" + "a" * 300, "pm_card_visa"],
)
def test_an_unreadable_card_token_is_refused_before_stripe_is_asked(client, db, token):
    deal = deal_awaiting_payment()
    client.force_login(deal.buyer)

    response = pay(client, deal, token)

    assert response.status_code == 400
    assert response.json() == {"error": "The card could not be read: enter it again."}
    assert not StripeRequest.objects.exists()  # not even the deal's intent was made
    assert Deal.objects.get(pk=deal.pk).state == DealState.AWAITING_PAYMENT


def test_paying_a_funded_deal_again_by_card_is_refused_and_changes_nothing(client, deal):
    pay(client, deal, card_token())
    client.get(f"/deals/{deal.pk}/pay/return/")
    before = (StripeRequest.objects.count(), state_of(deal))

    response = pay(client, deal, card_token())

    assert response.status_code == 409
    assert "there is nothing to pay" in response.json()["error"]
    assert (StripeRequest.objects.count(), state_of(deal)) == before


def test_only_the_buyer_pays_the_deal_by_card(client, deal):
    before = (StripeRequest.objects.count(), state_of(deal))
    token = card_token()

    client.force_login(deal.seller)
    assert pay(client, deal, token).status_code == 403
    client.force_login(UserFactory.create())
    assert pay(client, deal, token).status_code == 404

    assert (StripeRequest.objects.count(), state_of(deal)) == before


def test_the_card_view_takes_only_a_post_carrying_the_csrf_token(deal):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(deal.buyer)
    before = state_of(deal)

    assert browser.get(f"/deals/{deal.pk}/pay/card/").status_code == 405
    assert pay(browser, deal, card_token()).status_code == 403

    assert state_of(deal) == before


def test_the_card_form_posts_the_token_with_the_csrf_token_to_the_card_view(client, deal):
    page = client.get(f"/deals/{deal.pk}/pay/").content.decode()

    assert f'data-card-url="/deals/{deal.pk}/pay/card/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "stripe.createToken(card)" in page
    assert "stripe.confirmCardPayment(secret)" in page


def test_the_gateway_refuses_a_token_that_is_not_a_card_token():
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="could not be read"):
        stripe_gateway.card_token_check(None)
    assert stripe_gateway.card_token_check("tok_1AbC_2") == "tok_1AbC_2"


# --- The margin deposit ------------------------------------------------------------------------


def test_a_typed_card_pays_the_margin_deposit_after_a_declined_one_and_the_listing_goes_live(client, db, settings):
    listing = listing_awaiting_margin(settings)
    client.force_login(listing.seller)
    assert client.get(f"/deals/margin/{listing.pk}/").status_code == 200
    before = (Journal.objects.count(), MarginDeposit.objects.get(listing=listing).state)

    declined = client.post(f"/deals/margin/{listing.pk}/card/", {"card_token": card_token(DECLINED)})

    assert declined.status_code == 402
    assert declined.json() == {"error": "Your card was declined."}
    assert (Journal.objects.count(), MarginDeposit.objects.get(listing=listing).state) == before
    assert Listing.objects.get(pk=listing.pk).state == ListingState.AWAITING_MARGIN

    paid = client.post(f"/deals/margin/{listing.pk}/card/", {"card_token": card_token()})
    assert paid.json() == {"status": "succeeded", "return_url": f"/deals/margin/{listing.pk}/return/"}
    client.get(paid.json()["return_url"])
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    assert MarginDeposit.objects.get(listing=listing).state == "paid"


def test_only_the_seller_pays_the_margin_deposit_by_card(client, db, settings):
    listing = listing_awaiting_margin(settings)
    client.force_login(UserFactory.create())

    response = client.post(f"/deals/margin/{listing.pk}/card/", {"card_token": card_token()})

    assert response.status_code == 404  # a listing awaiting its deposit is visible to its seller only
    assert not StripeRequest.objects.exists()
    assert not MarginDeposit.objects.filter(listing=listing).exists()
