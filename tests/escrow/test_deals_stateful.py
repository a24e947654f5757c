"""A stateful property test of the deal lifecycle (Invariant 2): Hypothesis drives one deal with
duplicated and reordered payment confirmations, worker retries, disputes and staff decisions in
any order. After every step: money left escrow at most once and to one party, to the seller only
after recording; refunds never exceed what was captured; the whole ledger balances."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from escrow import services
from escrow.ledger import ledger_check
from escrow.models import Deal, DealState, Journal, JournalKind
from escrow.services import DealError
from marketplace.money import Money
from tests.escrow.conftest import Registry
from tests.escrow.test_deals_support import deal_balances, fixed_listing, staff_user
from tests.factories import UserFactory

PAYMENTS = ["pi_a", "pi_b"]


class DealMachine(RuleBasedStateMachine):
    # The register the releases re-verify against (set by the test: a machine takes no fixtures).
    registry: Registry

    @initialize(price=st.integers(min_value=1, max_value=10**12))
    def agree(self, price: int) -> None:
        listing = fixed_listing(asking_price=price)
        self.registry.record(listing)
        self.deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create())
        self.staff = staff_user(decide=True)
        self.recorded_before_release = False

    def _try(self, call: Callable[[], object]) -> None:
        with contextlib.suppress(DealError):
            call()

    @property
    def current(self) -> Deal:
        return Deal.objects.get(pk=self.deal.pk)

    @rule(payment=st.sampled_from(PAYMENTS), off_by=st.sampled_from([0, 0, 0, 1, -1]))
    def webhook_funds(self, payment: str, off_by: int) -> None:
        # The same event may come many times and after anything else; a wrong amount is refused.
        deal = self.current
        amount = Money(deal.total_due.amount + off_by, deal.currency) if deal.total_due.amount + off_by else None
        if amount is None:
            return
        self._try(
            lambda: services.deal_mark_funded(
                deal=deal, amount=amount, payment_reference=payment, idempotency_key=payment
            )
        )

    @rule()
    def start_transfer(self) -> None:
        self._try(lambda: services.deal_start_transfer(deal=self.deal, acting_user=self.staff))

    @rule()
    def mark_recorded(self) -> None:
        self._try(lambda: services.deal_mark_recorded(deal=self.deal, acting_user=self.staff))

    @rule(times=st.integers(min_value=1, max_value=3))
    def release_with_retries(self, times: int) -> None:
        for _ in range(times):
            self._try(lambda: services.deal_release(deal=self.deal, acting_user=None))

    @rule(times=st.integers(min_value=1, max_value=3))
    def refund_with_retries(self, times: int) -> None:
        for _ in range(times):
            self._try(lambda: services.deal_refund(deal=self.deal, acting_user=self.staff, reason="Transfer refused."))

    @rule(by_buyer=st.booleans())
    def dispute(self, by_buyer: bool) -> None:
        party = self.deal.buyer if by_buyer else self.deal.seller
        self._try(lambda: services.deal_dispute_open(deal=self.deal, acting_user=party, reason="Not as described."))

    @rule(outcome=st.sampled_from(["release", "refund"]))
    def decide(self, outcome: str) -> None:
        self._try(
            lambda: services.deal_dispute_decide(
                deal=self.deal, acting_user=self.staff, outcome=outcome, reason="Decided on the evidence."
            )
        )

    @rule()
    def deadline_sweep(self) -> None:
        services.deals_cancel_unpaid(now=self.current.payment_deadline + timedelta(seconds=1))

    @invariant()
    def money_leaves_escrow_at_most_once_to_one_party(self) -> None:
        if not hasattr(self, "deal"):
            return
        deal = self.current
        balances = deal_balances(deal)
        journals = Journal.objects.filter(reference=deal.reference)
        releases = journals.filter(kind=JournalKind.DEAL_RELEASED).count()
        refunds = journals.filter(kind=JournalKind.DEAL_REFUNDED).count()
        assert journals.filter(kind=JournalKind.DEAL_FUNDED).count() <= 1
        assert releases + refunds <= 1
        captured = Money(deal.funded_amount, deal.currency)
        if releases:
            assert deal.recorded_at is not None
            assert deal.released_at is not None
            assert deal.recorded_at <= deal.released_at
            assert deal.state == DealState.RELEASED
            assert balances.payable == deal.seller_proceeds
            assert balances.refunds.is_zero
            assert balances.escrow.is_zero
        else:
            assert balances.payable.is_zero
        if refunds:
            assert balances.refunds == captured
            assert balances.escrow.is_zero
        assert balances.refunds <= captured
        assert deal.refunded_amount <= deal.funded_amount
        # What is held plus what went out is exactly what came in.
        assert balances.escrow + balances.refunds + balances.payable + deal.platform_fees * releases == captured
        assert ledger_check().balanced


@pytest.mark.django_db
def test_the_deal_lifecycle_keeps_the_money_invariants(registry, monkeypatch):
    monkeypatch.setattr(DealMachine, "registry", registry, raising=False)
    run_state_machine_as_test(
        DealMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
