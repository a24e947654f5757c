"""Writes to offers and deals. Each public function is one action in one transaction.

Rows are always locked in the same order, the listing first and then the deal (or offer), so that
two actions on one listing queue instead of deadlocking. Every refusal raises `DealError` before
anything is written, and the database constraints back the checks (see escrow.models.deals).
"""

from escrow.services.common import DealError
from escrow.services.deals import (
    deal_buy_now,
    deal_cancel,
    deal_close,
    deal_dispute_decide,
    deal_dispute_open,
    deal_mark_funded,
    deal_mark_recorded,
    deal_refund,
    deal_release,
    deal_release_after_review,
    deal_start_transfer,
    deals_cancel_unpaid,
)
from escrow.services.offers import (
    offer_accept,
    offer_counter,
    offer_make,
    offer_reject,
    offer_withdraw,
    offers_expire,
)

__all__ = [
    "DealError",
    "deal_buy_now",
    "deal_cancel",
    "deal_close",
    "deal_dispute_decide",
    "deal_dispute_open",
    "deal_mark_funded",
    "deal_mark_recorded",
    "deal_refund",
    "deal_release",
    "deal_release_after_review",
    "deal_start_transfer",
    "deals_cancel_unpaid",
    "offer_accept",
    "offer_counter",
    "offer_make",
    "offer_reject",
    "offer_withdraw",
    "offers_expire",
]
