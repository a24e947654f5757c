"""The seller's margin deposits (with their receipts) and payouts, for the deals dashboard."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from escrow import margin, payouts, receipts

register = template.Library()


@register.simple_tag
def seller_money(user: User | AnonymousUser) -> dict[str, Any]:
    if not isinstance(user, User):
        return {"awaiting": [], "deposits": [], "owed": [], "can_be_paid": False}
    deposits = list(margin.margin_deposits_of(user=user))
    by_deposit = receipts.margin_receipts_of(user=user, deposits=deposits)
    for deposit in deposits:
        deposit.receipts = by_deposit.get(deposit.pk, [])  # type: ignore[attr-defined]
    return {
        "awaiting": list(margin.listings_awaiting_margin(user=user)),
        "deposits": deposits,
        "owed": payouts.seller_owed(user=user),
        "can_be_paid": payouts.seller_payout_account(user=user) is not None,
    }
