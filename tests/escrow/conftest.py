"""Ledger fixtures: a buyer whose escrow for one deal holds 1,000.00 USD, and helpers to prove
that a refused posting changed nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections
from django.utils import timezone

from accounts.models import User
from escrow.ledger import account_balance, journal_post, ledger_account_for
from escrow.models import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind
from listings.models import Listing, Right
from marketplace.money import Money
from sandbox_registry.models import Kind, Office, PartyRole, RecordedAssignment, RegisterEntry
from sandbox_registry.seeding import EntrySeed, Seeds
from sandbox_registry.server import application
from sandbox_registry.services import ASSIGNED_SERIES, PartyIn, assignment_record, entry_status_set, register_seed
from sandbox_registry.vocabulary import STATUSES
from tests.factories import UserFactory
from verification.registries.records import add_months


@dataclass
class Books:
    buyer: User
    seller: User
    cash: LedgerAccount
    escrow: LedgerAccount
    payable: LedgerAccount
    fees: LedgerAccount

    def balances(self) -> dict[str, Money]:
        return {name: account_balance(account=getattr(self, name)) for name in ("cash", "escrow", "payable", "fees")}


def books_open(*, funded: int = 100_000, currency: str = "USD") -> Books:
    buyer, seller = UserFactory.create(), UserFactory.create()
    books = Books(
        buyer=buyer,
        seller=seller,
        cash=ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency=currency),
        escrow=ledger_account_for(
            kind=LedgerAccountKind.BUYER_ESCROW, owner=buyer, currency=currency, reference="deal:1"
        ),
        payable=ledger_account_for(kind=LedgerAccountKind.SELLER_PAYABLE, owner=seller, currency=currency),
        fees=ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency=currency),
    )
    if funded:
        # The buyer's payment captured at Stripe: cash up (debit), escrow owes the buyer (credit).
        journal_post(
            kind=JournalKind.DEAL_FUNDED,
            idempotency_key="deal:1:funded",
            lines=[(books.cash, Money(funded, currency)), (books.escrow, Money(-funded, currency))],
            description="Deal 1 funded",
            reference="deal:1",
        )
    return books


def ledger_state(books: Books) -> tuple[int, int, dict[str, Money]]:
    """Everything a refused posting must leave as it was."""
    return Journal.objects.count(), Entry.objects.count(), books.balances()


@pytest.fixture
def books(db: None) -> Books:
    return books_open()


# --- A register to re-verify against before release ---------------------------------------------
#
# Escrow re-verifies a listing's rights against the register before it releases the escrow to the
# seller (DESIGN.md invariant 2). The tests release against the sandbox registry, served once per
# session on a loopback port by a thread, as tests/sandbox_registry/conftest.py serves it.
#
# The sandbox answers from its own connection, so it sees only committed rows, while most escrow
# tests run inside a transaction that is rolled back. The register's entries are therefore written
# (and removed at the end of the test) by a short-lived thread of their own, which commits them:
# the register lives apart from the marketplace's data, as a real office's does.

FAST_REGISTRY = {
    "min_interval": 0.0,
    "backoff_base": 0.0,
    "backoff_max": 0.0,
    "connect_timeout": 2.0,
    "read_timeout": 10.0,
    "max_attempts": 1,
}
OFFICES = ("uspto_odp", "tsdr", "uspto_assignment", "euipo", "epo_ops")
ASSIGNMENT_TEXT = "ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS)."


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def _served(server: ThreadingHTTPServer | ThreadedWSGIServer) -> Iterator[str]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def registry_url() -> Iterator[str]:
    server = ThreadedWSGIServer(("127.0.0.1", 0), _Quiet, allow_reuse_address=True)
    server.set_app(application())
    yield from _served(server)


def _registry_settings(settings: Any, base: str) -> None:
    settings.USPTO_ODP_BASE_URL = f"{base}/uspto-odp"
    settings.USPTO_TSDR_BASE_URL = f"{base}/tsdr"
    settings.USPTO_ASSIGNMENT_BASE_URL = f"{base}/uspto-assignment"
    settings.EUIPO_BASE_URL = f"{base}/euipo"
    settings.EUIPO_TOKEN_URL = ""
    settings.EPO_OPS_BASE_URL = f"{base}/epo-ops/3.2"
    settings.REGISTRY_HTTP_POLICIES = {office: dict(FAST_REGISTRY) for office in OFFICES}
    settings.REGISTRY_REDIS_LOCKS = False


T = TypeVar("T")


def _committed(work: Callable[[], T]) -> T:
    """Run `work` on a thread of its own (its own connection, autocommit): what it writes is
    committed at once and visible to the sandbox's threads, whatever the test's transaction."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - raised again on the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


class Registry:
    """The sandbox register as the escrow tests need it: each right of a listing on record with an
    owner (the seller by default), lapsed, or assigned to the buyer as a recordation would."""

    def __init__(self) -> None:
        self.entry_ids: list[int] = []
        self.assignment_ids: list[int] = []

    @staticmethod
    def application_number_of(right: Right) -> str:
        # The tests' rights carry a patent number only; the register files each under an
        # application number of the series the USPTO never gives (as the sandbox does itself).
        return f"{ASSIGNED_SERIES}{int(right.registration_number) % 1_000_000:06d}"

    def record(self, listing: Listing, *, owner: str | None = None) -> list[RegisterEntry]:
        """Every right of the listing granted a year ago, in force, with `owner` (the seller's
        legal name unless told) as the owner of record."""
        name = owner if owner is not None else listing.seller.legal_name
        rights = list(listing.rights.order_by("pk"))
        grant = add_months(timezone.localdate(), -12)
        seeds = Seeds(
            entries=[
                EntrySeed(
                    kind=Kind.US_PATENT,
                    fields={
                        "office": Office.USPTO,
                        "application_type": "UTL",
                        "application_number": self.application_number_of(right),
                        "patent_number": right.registration_number,
                        "title": right.title,
                        "status_code": STATUSES[Kind.US_PATENT]["in_force"][0],
                        "status_text": STATUSES[Kind.US_PATENT]["in_force"][1],
                        "status_date": grant,
                        "filing_date": add_months(grant, -24),
                        "grant_date": grant,
                        "pta_days": 0,
                        "source": "escrow tests",
                    },
                    parties=[{"role": PartyRole.APPLICANT, "sequence": 1, "name": name}],
                )
                for right in rights
            ]
        )
        numbers = [self.application_number_of(right) for right in rights]

        def write() -> list[RegisterEntry]:
            register_seed(seeds=seeds)
            return list(RegisterEntry.objects.filter(kind=Kind.US_PATENT, application_number__in=numbers))

        entries = _committed(write)
        self.entry_ids.extend(entry.pk for entry in entries)
        return entries

    def lapse(self, entries: list[RegisterEntry]) -> None:
        """The office records that the maintenance fee was not paid: the patents lapsed."""
        _committed(lambda: [entry_status_set(entry=entry, outcome="lapsed") for entry in entries])

    def assign(self, entries: list[RegisterEntry], *, assignor: str, assignee: str) -> None:
        """The office records the transfer: the register now names the assignee as owner."""
        assignment = _committed(
            lambda: assignment_record(
                entries=entries,
                conveyance_text=ASSIGNMENT_TEXT,
                assignors=[PartyIn(name=assignor)],
                assignees=[PartyIn(name=assignee)],
            )
        )
        self.assignment_ids.append(assignment.pk)

    def clear(self) -> None:
        def delete() -> None:
            RecordedAssignment.objects.filter(pk__in=self.assignment_ids).delete()
            RegisterEntry.objects.filter(pk__in=self.entry_ids).delete()

        _committed(delete)


@pytest.fixture
def registry(db: None, settings: Any, registry_url: str) -> Iterator[Registry]:
    """The sandbox register, empty; `registry.record(listing)` before a release puts the
    listing's rights on record with the seller as owner."""
    _registry_settings(settings, registry_url)
    registry = Registry()
    try:
        yield registry
    finally:
        registry.clear()


class _Failing(BaseHTTPRequestHandler):
    """An office whose servers fail: every request gets a 500."""

    def do_GET(self) -> None:
        body = b'{"error": "Internal Server Error"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def registry_down(db: None, settings: Any) -> Iterator[str]:
    """Every register answers 500."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    for base in _served(server):
        _registry_settings(settings, base)
        yield base
