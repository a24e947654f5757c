"""The escrow app's models, one module per concern; each is imported here for Django to find."""

from escrow.models.deals import (
    Deal,
    DealEvent,
    DealFee,
    DealState,
    FeeKind,
    FeeSchedule,
    Offer,
    OfferState,
    Party,
    ValueAddedService,
)
from escrow.models.ledger import (
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    NormalBalance,
)
from escrow.models.margin import ConnectedAccount, MarginDeposit, MarginDepositState, MarginRule
from escrow.models.stripe import StripeEvent, StripeRequest, StripeRequestState

__all__ = [
    "ConnectedAccount",
    "Deal",
    "DealEvent",
    "DealFee",
    "DealState",
    "Entry",
    "FeeKind",
    "FeeSchedule",
    "Journal",
    "JournalKind",
    "LedgerAccount",
    "LedgerAccountKind",
    "MarginDeposit",
    "MarginDepositState",
    "MarginRule",
    "NormalBalance",
    "Offer",
    "OfferState",
    "Party",
    "StripeEvent",
    "StripeRequest",
    "StripeRequestState",
    "ValueAddedService",
]
