"""The escrow app's models, one module per concern; each is imported here for Django to find."""

from escrow.models.ledger import (
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    NormalBalance,
)

__all__ = ["Entry", "Journal", "JournalKind", "LedgerAccount", "LedgerAccountKind", "NormalBalance"]
