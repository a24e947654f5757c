"""The refusal every offer and deal service raises (in a module of its own, so that the fee
reckoning and the services that use it can both import it)."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Why an action was refused; the API maps each to an HTTP status."""

    INVALID = "invalid"  # the input itself is wrong (400)
    FORBIDDEN = "forbidden"  # not this person's to do (403)
    CONFLICT = "conflict"  # the thing's state does not allow it now (409)


class DealError(Exception):
    """A refused offer or deal action, with a message fit to show the person. Nothing changed."""

    def __init__(self, message: str, *, code: Refusal = Refusal.CONFLICT, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
