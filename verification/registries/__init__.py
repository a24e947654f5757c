"""Clients and parsers for the offices' registers; the only code that speaks their formats.

Each office module (`uspto_odp`, `tsdr`, `uspto_assignment`, `euipo`, `epo_ops`) exposes a
client class and pure `parse_*` functions that return the office-independent records of
`records`. Every failure is one of the typed errors below: a register that cannot answer
never yields a record.
"""

from verification.registries.http import (
    InvalidRegistryNumber,
    RegistryError,
    RegistryMalformed,
    RegistryNotFound,
    RegistryRateLimited,
    RegistryUnavailable,
)
from verification.registries.records import (
    AssignmentRecord,
    AssignmentSearchResult,
    Deadline,
    LegalEvent,
    Party,
    RegistryRecord,
)

__all__ = [
    "AssignmentRecord",
    "AssignmentSearchResult",
    "Deadline",
    "InvalidRegistryNumber",
    "LegalEvent",
    "Party",
    "RegistryError",
    "RegistryMalformed",
    "RegistryNotFound",
    "RegistryRateLimited",
    "RegistryRecord",
    "RegistryUnavailable",
]
