"""`replay_stripe_events` and `reconcile_stripe` against the HTTP stand-in for Stripe."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from escrow.ledger import journal_post, ledger_account_for
from escrow.models import JournalKind, LedgerAccountKind, StripeEvent
from escrow.webhooks import register_handler, unregister_handler
from marketplace.money import Money
from tests.escrow.stripe_fakes import events_dir, fake_stripe_running
from tests.factories import UserFactory


@pytest.fixture
def fake(settings, db):
    with fake_stripe_running() as running:
        settings.STRIPE_API_BASE = running.url
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        yield running


@pytest.fixture
def routed():
    calls: list[str] = []

    def handler(event: StripeEvent) -> None:
        calls.append(event.event_id)

    types = sorted({json.loads(path.read_text())["type"] for path in events_dir().glob("event_*.json")})
    for event_type in types:
        register_handler(event_type, handler)
    yield calls
    for event_type in types:
        unregister_handler(event_type, handler)


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def events_state() -> list[tuple]:
    return list(
        StripeEvent.objects.order_by("event_id").values_list("event_id", "processed_at", "attempts", "processing_error")
    )


def test_replay_stores_and_processes_missed_events_and_a_second_run_changes_nothing(fake, routed):
    by_id = {}
    for path in sorted(events_dir().glob("event_*.json")):
        event = json.loads(path.read_text())
        by_id.setdefault(event["id"], event)
    fake.events = list(by_id.values())

    first = run("replay_stripe_events", "--since", "2021-05-01T00:00")
    state = events_state()
    second = run("replay_stripe_events", "--since", "2021-05-01T00:00")

    assert "Listed 4 event(s)" in first
    assert "stored 4 new, processed 4, failed 0" in first
    assert "Listed 4 event(s)" in second
    assert "stored 0 new, processed 0, failed 0" in second
    assert [event_id for event_id, *_ in state] == sorted(by_id)
    assert all(processed_at is not None for _, processed_at, _, _ in state)
    assert events_state() == state
    assert sorted(routed) == sorted(by_id)


def test_replay_processes_an_event_whose_processing_failed_and_skips_events_before_since(fake):
    failures = [RuntimeError("temporarily failing")]

    def handler(event: StripeEvent) -> None:
        if failures:
            raise failures.pop()

    now = int(time.time())
    old = {"id": "evt_old", "object": "event", "type": "transfer.created", "created": now - 86_400, "data": {}}
    new = {"id": "evt_new", "object": "event", "type": "transfer.created", "created": now - 60, "data": {}}
    fake.events = [old, new]
    since = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    register_handler("transfer.created", handler)
    try:
        with pytest.raises(CommandError, match="1 event"):
            run("replay_stripe_events", "--since", since)
        assert StripeEvent.objects.get().processing_error == "RuntimeError: temporarily failing"

        out = run("replay_stripe_events", "--since", since)
    finally:
        unregister_handler("transfer.created", handler)

    assert "stored 0 new, processed 1, failed 0" in out
    event = StripeEvent.objects.get()
    assert (event.event_id, event.attempts, event.processing_error) == ("evt_new", 2, "")


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01T00:00", "2999-01-01T00:00"])
def test_replay_refuses_a_bad_since_and_changes_nothing(fake, since):
    with pytest.raises(CommandError, match="--since"):
        run("replay_stripe_events", "--since", since)

    assert fake.requests == []
    assert not StripeEvent.objects.exists()


def post_charge(*, txn_id: str, gross: int, fee: int, currency: str = "USD", deal: int = 1) -> None:
    """The ledger side of a captured payment: funding and the Stripe fee, both naming the txn."""
    buyer = UserFactory.create()
    cash = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=currency)
    escrow = ledger_account_for(
        kind=LedgerAccountKind.BUYER_ESCROW, owner=buyer, currency=currency, reference=f"deal:{deal}"
    )
    journal_post(
        kind=JournalKind.DEAL_FUNDED,
        idempotency_key=f"deal:{deal}:funded",
        lines=[(cash, Money(gross, currency)), (escrow, Money(-gross, currency))],
        description=f"Deal {deal} funded",
        reference=txn_id,
    )
    if fee:
        fees = ledger_account_for(kind=LedgerAccountKind.STRIPE_FEES, owner=None, currency=currency)
        journal_post(
            kind=JournalKind.STRIPE_FEE,
            idempotency_key=f"deal:{deal}:stripe_fee",
            lines=[(fees, Money(fee, currency)), (cash, Money(-fee, currency))],
            description=f"Stripe fee on deal {deal}",
            reference=txn_id,
        )


def charge_at_stripe(fake, *, amount: int, fee: int, currency: str = "usd") -> str:
    txn = fake.balance_transaction_add(
        amount=amount, fee=fee, currency=currency, type="charge", reporting_category="charge", created=int(time.time())
    )
    return txn["id"]


def today() -> str:
    return timezone.now().date().isoformat()


def test_reconciliation_of_a_day_where_the_ledger_agrees_with_stripe_reports_nothing(fake):
    post_charge(txn_id=charge_at_stripe(fake, amount=100_000, fee=2_930), gross=100_000, fee=2_930, deal=1)
    post_charge(txn_id=charge_at_stripe(fake, amount=5_000, fee=0), gross=5_000, fee=0, deal=2)

    out = run("reconcile_stripe", "--date", today())

    assert out.strip() == f"{today()}: the ledger agrees with Stripe."


def test_reconciliation_reports_every_planted_difference_and_fails(fake):
    agreed = charge_at_stripe(fake, amount=100_000, fee=2_930)
    post_charge(txn_id=agreed, gross=100_000, fee=2_930, deal=1)
    unrecorded = charge_at_stripe(fake, amount=7_000, fee=233)
    wrong_amount = charge_at_stripe(fake, amount=50_000, fee=1_480)
    post_charge(txn_id=wrong_amount, gross=50_000 - 1, fee=1_480, deal=2)
    wrong_fee = charge_at_stripe(fake, amount=20_000, fee=610)
    post_charge(txn_id=wrong_fee, gross=20_000, fee=0, deal=3)
    wrong_currency = charge_at_stripe(fake, amount=9_000, fee=0, currency="eur")
    post_charge(txn_id=wrong_currency, gross=9_000, fee=0, currency="USD", deal=4)
    post_charge(txn_id="txn_unknownAtStripe", gross=1_000, fee=0, deal=5)
    post_charge(txn_id="deal:6", gross=1_000, fee=0, deal=6)

    out = io.StringIO()
    with pytest.raises(CommandError, match="difference"):
        call_command("reconcile_stripe", "--date", today(), stdout=out)

    lines = out.getvalue().splitlines()
    assert not any(agreed in line for line in lines)
    assert any(line.startswith(f"missing_in_ledger: {unrecorded}:") for line in lines)
    assert any(line.startswith(f"amount_mismatch: {wrong_amount}:") and "moved 48519 USD" in line for line in lines)
    assert any(line.startswith(f"fee_mismatch: {wrong_fee}:") for line in lines)
    assert any(line.startswith(f"amount_mismatch: {wrong_fee}:") for line in lines)
    assert any(line.startswith(f"currency_mismatch: {wrong_currency}:") for line in lines)
    assert any(line.startswith("missing_at_stripe: txn_unknownAtStripe:") for line in lines)
    assert any(line.startswith("unlinked_ledger_journal:") and "'deal:6'" in line for line in lines)
    assert len(lines) == 8


def test_a_transfer_paid_through_the_gateway_reconciles_with_its_ledger_journal(fake):
    from escrow import stripe_gateway

    account = stripe_gateway.connected_account_create(email="s@example.com", country="US", reference="user:1")
    transfer = stripe_gateway.transfer_create(
        amount=Money(9_500, "USD"), destination_account=account.id, idempotency_key="deal:9:release"
    )
    seller = UserFactory.create()
    payable = ledger_account_for(kind=LedgerAccountKind.SELLER_PAYABLE, owner=seller, currency="USD")
    cash = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency="USD")
    # The payable must hold the amount first (a non-negative account).
    post_charge(txn_id=charge_at_stripe(fake, amount=9_500, fee=0), gross=9_500, fee=0, deal=9)
    journal_post(
        kind=JournalKind.CORRECTION,
        idempotency_key="deal:9:payable",
        lines=[(cash, Money(9_500, "USD")), (payable, Money(-9_500, "USD"))],
        description="test set-up: seller payable",
        reference="txn_setup_not_cash",
    )
    journal_post(
        kind=JournalKind.SELLER_PAYOUT,
        idempotency_key="deal:9:payout",
        lines=[(payable, Money(9_500, "USD")), (cash, Money(-9_500, "USD"))],
        description="Deal 9 paid out",
        reference=transfer.balance_transaction,
    )

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile_stripe", "--date", today(), stdout=out)

    # Only the set-up journal, which moved cash under a made-up id, differs.
    assert out.getvalue().splitlines() == [
        "missing_at_stripe: txn_setup_not_cash: the ledger posted it but Stripe has no such balance transaction."
    ]


def test_reconcile_refuses_a_bad_date(fake):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("reconcile_stripe", "--date", "23/11/2026")
    assert fake.requests == []
