"""A release refused because the register could not confirm the rights goes on once a reviewer
approves the before-release verification run that held it, without reading the register again;
a rejection, an old approval or a right still waiting keeps the money in escrow."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import TestCase
from django.utils import timezone

from accounts.staff import VERIFICATION_REVIEWERS, staff_groups_sync
from escrow import services
from escrow.models import Deal, DealState
from escrow.services import DealError
from escrow.tasks import deal_release_after_review_task
from listings.models import Listing, ListingState
from tests.escrow.conftest import Registry
from tests.escrow.money_path import tasks_sent
from tests.escrow.test_deals_support import deal_balances, deal_fresh, snapshot, staff_user
from tests.escrow.test_release_reverify import BUYER, REFUSED, SELLER, before_release_runs
from tests.factories import UserFactory, make_listing, make_right
from verification.models import Notification, RunState, VerificationRun
from verification.services import run_decide

pytestmark = pytest.mark.django_db

ANOTHER_OWNER = "Globex Patent Licensing GmbH"


@pytest.fixture
def reviewer():
    staff_groups_sync()
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=VERIFICATION_REVIEWERS))
    return user


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The deals the approval queues for release (instead of sending them to the broker)."""
    sent: list[int] = []
    monkeypatch.setattr(deal_release_after_review_task, "delay", sent.append)
    return sent


def recorded_deal(*, rights: int = 1) -> Deal:
    listing = make_listing(seller=UserFactory.create(legal_name=SELLER), rights=[make_right() for _ in range(rights)])
    deal = services.deal_buy_now(listing=listing, buyer=UserFactory.create(legal_name=BUYER))
    deal = services.deal_mark_funded(
        deal=deal, amount=deal.total_due, payment_reference="pi_r", idempotency_key=f"payment_intent:r{deal.pk}"
    )
    return services.deal_mark_recorded(deal=deal, acting_user=staff_user())


def release_refused(deal: Deal) -> list[VerificationRun]:
    with pytest.raises(DealError, match=REFUSED):
        services.deal_release(deal=deal, acting_user=staff_user())
    runs = before_release_runs(deal)
    assert {run.state for run in runs} == {RunState.NEEDS_REVIEW}
    return runs


def decide(run: VerificationRun, reviewer, decision: str = "approve") -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_decide(run=run, acting_user=reviewer, decision=decision, reason="Globex is the seller's former name.")


def test_approving_the_run_that_held_a_release_releases_it_without_the_register(
    registry: Registry, reviewer, queued, monkeypatch
):
    deal = recorded_deal()
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    [run] = release_refused(deal)

    decide(run, reviewer)
    assert queued == [deal.pk]
    # The register forgets the right: a release that read it again would be refused.
    registry.clear()
    with tasks_sent(monkeypatch) as sent, TestCase.captureOnCommitCallbacks(execute=True):
        assert services.deal_release_after_review(deal_id=deal.pk) == "released"

    deal = deal_fresh(deal)
    assert deal.state == DealState.RELEASED
    assert deal_balances(deal).payable == deal.seller_proceeds
    assert sent == [("escrow.deal_payout", deal.pk)]
    assert before_release_runs(deal) == [run]  # no second read of the register
    last_step = deal.events.order_by("at", "id").last()
    assert last_step is not None
    assert f"staff approving verification run #{run.pk}" in last_step.note
    assert Listing.objects.get(pk=deal.listing_id).state == ListingState.SOLD
    released = Notification.objects.filter(kind=Notification.Kind.DEAL_RELEASED)
    assert sorted(released.values_list("user_id", flat=True)) == sorted([deal.buyer_id, deal.seller_id])
    # The task delivered twice releases once.
    assert services.deal_release_after_review(deal_id=deal.pk) == "nothing"


def test_staff_may_release_by_hand_once_the_run_is_approved(registry: Registry, reviewer, queued, monkeypatch):
    deal = recorded_deal()
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    [run] = release_refused(deal)
    decide(run, reviewer)

    with tasks_sent(monkeypatch):
        released = services.deal_release(deal=deal, acting_user=staff_user())

    assert deal_fresh(released).state == DealState.RELEASED
    assert before_release_runs(deal) == [run]


def test_a_rejected_run_queues_nothing_and_the_money_stays_in_escrow(registry: Registry, reviewer, queued):
    deal = recorded_deal()
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    [run] = release_refused(deal)

    decide(run, reviewer, decision="reject")
    before, balances = snapshot(), deal_balances(deal)

    assert queued == []
    assert services.deal_release_after_review(deal_id=deal.pk) == "waiting"
    # The rejection suspended the listing: staff refund or look into it; no release goes through.
    assert Listing.objects.get(pk=deal.listing_id).state == ListingState.SUSPENDED
    with pytest.raises(DealError, match="suspended"):
        services.deal_release(deal=deal, acting_user=staff_user())
    assert snapshot() == before
    assert deal_balances(deal) == balances
    assert deal_fresh(deal).state == DealState.RECORDED


def test_an_approval_older_than_a_week_is_not_relied_on(registry: Registry, reviewer, queued):
    deal = recorded_deal()
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    [run] = release_refused(deal)
    decide(run, reviewer)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert services.deal_release_after_review(deal_id=deal.pk) == "waiting"
        # Staff releasing by hand read the register again, which still names another owner.
        release_refused(deal)

    assert deal_fresh(deal).state == DealState.RECORDED
    assert len(before_release_runs(deal)) == 2


def test_a_release_waits_until_every_rights_run_is_approved(registry: Registry, reviewer, queued, monkeypatch):
    deal = recorded_deal(rights=2)
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    first, second = release_refused(deal)

    decide(first, reviewer)
    assert queued == [deal.pk]
    assert services.deal_release_after_review(deal_id=deal.pk) == "waiting"
    assert deal_fresh(deal).state == DealState.RECORDED

    decide(second, reviewer)
    with tasks_sent(monkeypatch):
        assert services.deal_release_after_review(deal_id=deal.pk) == "released"
    assert deal_fresh(deal).state == DealState.RELEASED
    assert len(before_release_runs(deal)) == 2


def test_approving_a_run_with_no_recorded_deal_queues_nothing(registry: Registry, reviewer, queued):
    deal = recorded_deal()
    registry.record(deal.listing, owner=ANOTHER_OWNER)
    [run] = release_refused(deal)
    services.deal_dispute_open(deal=deal, acting_user=deal.buyer, reason="The seller sold it to Globex.")

    decide(run, reviewer)

    assert queued == []
    assert deal_fresh(deal).state == DealState.DISPUTED
