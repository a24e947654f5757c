"""Connect onboarding and transfers, and the idempotency of money calls, against the HTTP
stand-in for Stripe (localstripe has no Connect and ignores idempotency keys)."""

from __future__ import annotations

import pytest

from escrow import stripe_gateway
from escrow.models import StripeRequest, StripeRequestState
from marketplace.money import Money
from tests.escrow.stripe_fakes import fake_stripe_running


@pytest.fixture
def fake(settings, db):
    with fake_stripe_running() as running:
        settings.STRIPE_API_BASE = running.url
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        yield running


@pytest.fixture
def seller_account(fake):
    return stripe_gateway.connected_account_create(email="seller@example.com", country="US", reference="user:7")


def transfers_posted(fake) -> list[tuple[str, str, str]]:
    return [request for request in fake.requests if request[:2] == ("POST", "/v1/transfers")]


def test_a_seller_onboards_with_a_connected_account_and_an_account_link(fake, seller_account):
    assert seller_account.id.startswith("acct_")
    assert seller_account.email == "seller@example.com"
    assert seller_account.country == "US"
    assert not seller_account.payouts_enabled
    assert not seller_account.can_receive_transfers
    assert fake.accounts[seller_account.id]["metadata"] == {"reference": "user:7"}

    link = stripe_gateway.account_link_create(
        account_id=seller_account.id,
        refresh_url="https://market.example/sell/onboarding/refresh/",
        return_url="https://market.example/sell/onboarding/done/",
    )

    assert link.url.startswith(f"https://connect.stripe.com/setup/e/{seller_account.id}/")
    assert link.expires_at is not None
    assert stripe_gateway.connected_account_retrieve(account_id=seller_account.id).id == seller_account.id


def test_creating_the_connected_account_again_for_the_same_seller_opens_no_second_account(fake, seller_account):
    again = stripe_gateway.connected_account_create(email="seller@example.com", country="US", reference="user:7")

    assert again.id == seller_account.id
    assert list(fake.accounts) == [seller_account.id]


def test_an_account_link_for_an_unknown_account_is_an_invalid_request(fake, db):
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="No such account"):
        stripe_gateway.account_link_create(
            account_id="acct_unknown", refresh_url="https://x.example/r", return_url="https://x.example/d"
        )


def test_a_transfer_pays_the_seller_and_records_its_key_and_outcome(fake, seller_account):
    transfer = stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"),
        destination_account=seller_account.id,
        idempotency_key="deal:42:release",
        transfer_group="deal:42",
    )

    assert transfer.amount == Money(95_000, "USD")
    assert transfer.destination == seller_account.id
    assert transfer.transfer_group == "deal:42"
    assert transfer.balance_transaction in fake.balance_transactions
    assert list(fake.transfers) == [transfer.id]
    record = StripeRequest.objects.get()
    assert (record.idempotency_key, record.purpose, record.state) == ("deal:42:release", "transfer", "succeeded")
    assert (record.response_object_id, record.attempts) == (transfer.id, 1)


def test_a_transfer_whose_response_is_lost_is_retried_by_the_client_with_the_same_key_and_pays_once(
    fake, seller_account
):
    fake.drop_responses = 1  # Stripe applies the transfer; the answer is lost on the way back.

    transfer = stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )

    assert len(fake.transfers) == 1
    assert transfer.id in fake.transfers
    posted = transfers_posted(fake)
    assert len(posted) == 2
    assert {key for _, _, key in posted} == {"deal:42:release"}
    assert StripeRequest.objects.get().state == StripeRequestState.SUCCEEDED


def test_a_transfer_whose_response_is_lost_is_retried_later_with_the_stored_key_and_pays_once(
    fake, seller_account, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # The worker itself retries, e.g. a Celery retry.
    fake.drop_responses = 1

    with pytest.raises(stripe_gateway.StripeUnavailable):
        stripe_gateway.transfer_create(
            amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
        )
    record = StripeRequest.objects.get()
    assert (record.state, record.attempts, record.error_kind) == ("pending", 1, "unavailable")
    assert len(fake.transfers) == 1  # Stripe did move the money.

    transfer = stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )

    assert list(fake.transfers) == [transfer.id]
    record.refresh_from_db()
    assert (record.state, record.attempts, record.response_object_id) == ("succeeded", 2, transfer.id)
    assert [key for _, _, key in transfers_posted(fake)] == ["deal:42:release", "deal:42:release"]


def test_a_succeeded_transfer_asked_again_is_answered_from_the_record_without_calling_stripe(fake, seller_account):
    first = stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )

    again = stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )

    assert again == first
    assert len(transfers_posted(fake)) == 1
    assert StripeRequest.objects.get().attempts == 1


def test_the_same_key_with_another_amount_is_refused_before_stripe_is_asked(fake, seller_account):
    stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )

    with pytest.raises(stripe_gateway.StripeIdempotencyConflict, match="other parameters"):
        stripe_gateway.transfer_create(
            amount=Money(96_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
        )

    assert len(transfers_posted(fake)) == 1
    assert len(fake.transfers) == 1


def test_stripe_refuses_a_key_reused_with_other_parameters_and_nothing_moves(fake, seller_account):
    stripe_gateway.transfer_create(
        amount=Money(95_000, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
    )
    # As if the key had been used by another copy of the platform sharing the Stripe account.
    StripeRequest.objects.all().delete()

    with pytest.raises(stripe_gateway.StripeIdempotencyConflict, match="same parameters"):
        stripe_gateway.transfer_create(
            amount=Money(1, "USD"), destination_account=seller_account.id, idempotency_key="deal:42:release"
        )

    assert len(fake.transfers) == 1
    record = StripeRequest.objects.get()
    assert (record.state, record.error_kind) == ("failed", "idempotency_conflict")


@pytest.mark.parametrize(
    ("amount", "destination", "message"),
    [
        (Money(0, "USD"), "acct_ok", "positive amount"),
        (Money(-5, "USD"), "acct_ok", "positive amount"),
        (Money(100, "USD"), "user:7", "not a connected account"),
    ],
)
def test_a_transfer_with_bad_input_is_refused_and_nothing_is_sent_or_stored(fake, db, amount, destination, message):
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match=message):
        stripe_gateway.transfer_create(amount=amount, destination_account=destination, idempotency_key="deal:1:release")

    assert fake.requests == []
    assert not StripeRequest.objects.exists()


def test_a_transfer_to_an_unknown_account_fails_for_good_and_a_retry_fails_the_same_without_calling(fake, db):
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="No such destination"):
        stripe_gateway.transfer_create(
            amount=Money(100, "USD"), destination_account="acct_missing", idempotency_key="deal:1:release"
        )
    with pytest.raises(stripe_gateway.StripeInvalidRequest, match="No such destination"):
        stripe_gateway.transfer_create(
            amount=Money(100, "USD"), destination_account="acct_missing", idempotency_key="deal:1:release"
        )

    assert len(transfers_posted(fake)) == 1
    assert fake.transfers == {}
    record = StripeRequest.objects.get()
    assert (record.state, record.error_kind, record.attempts) == ("failed", "invalid_request", 1)


def test_money_call_refuses_to_run_inside_a_transaction(fake, seller_account):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        stripe_gateway.transfer_create(
            amount=Money(100, "USD"), destination_account=seller_account.id, idempotency_key="deal:1:release"
        )

    assert transfers_posted(fake) == []
