"""The money part of `make bench` (issue 4): deals per second through buy, pay, webhook and
funded on the embedded stack, and the time `escrow.ledger.ledger_check()` takes over a ledger of
a million entries.

    python -m bench.run --only money [--deals 1000] [--clients 4] [--ledger-entries 1000000]

Each deal, timed from the buy to the funded state read back from the database:
1. `deal_buy_now` at the asking price (the listings were published beforehand, untimed);
2. `deal_payment_start` creates the deal's PaymentIntent at localstripe (escrow.payments);
3. the card is confirmed at localstripe as Stripe.js does it (a test-card PaymentMethod attached
   to the intent, then confirm);
4. a `payment_intent.succeeded` event signed with STRIPE_WEBHOOK_SECRET is POSTed to the app's
   `/stripe/webhook/` view (Django's test client: the full middleware stack, no socket);
5. the view stores the event and queues `escrow.stripe_event_process` on commit; a real Celery
   worker (2 processes) on the embedded Redis, on a broker database of the benchmark's own,
   re-reads the intent from localstripe and funds the deal;
6. the client polls the deal until it is funded.

The ledger part builds balanced two-entry journals with set-based SQL in batches, with every
ledger trigger left in place (each batch's journals are checked for balance at its commit), then
times `ledger_check()` over the whole ledger (the deals' own journals included).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/marketplace_money_bench"
# A Redis database of the benchmarks' own, so that no other worker (make run's) takes our tasks
# and runs them against another database.
BENCH_BROKER_URL = "redis://127.0.0.1:63799/12"
TEST_CARD = "4242424242424242"
LEDGER_BATCH_JOURNALS = 50_000
FUNDED_TIMEOUT_SECONDS = 120.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def bench_environment(database_url: str) -> None:
    """The environment this process and its worker share (set before Django starts)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.development")
    os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_CELERY_BROKER_URL", BENCH_BROKER_URL)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"


def worker_start(*, name: str, concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    """A Celery worker with this process's environment (database, broker), its queue purged of
    whatever an interrupted run left."""
    celery = str(Path(sys.executable).parent / "celery")
    subprocess.run(  # noqa: S603
        [celery, "-A", "marketplace", "purge", "-f"],
        cwd=BASE_DIR,
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        celery,
        "-A",
        "marketplace",
        "worker",
        "-l",
        "warning",
        "--concurrency",
        str(concurrency),
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=BASE_DIR, env=dict(os.environ), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    time.sleep(3)  # the pool's processes import Django
    if process.poll() is not None:
        raise SystemExit(f"The Celery worker exited at once; see {log}")
    return process


def process_stop(process: subprocess.Popen[bytes]) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _localstripe(method: str, path: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    from django.conf import settings

    body = urllib.parse.urlencode(fields or {}).encode() if method == "POST" else None
    request = urllib.request.Request(  # noqa: S310 (the configured localstripe)
        f"{settings.STRIPE_API_BASE}{path}",
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def card_confirm(payment_intent_id: str) -> dict[str, Any]:
    """What Stripe.js's confirmCardPayment does with a test card typed in."""
    method = _localstripe(
        "POST",
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": TEST_CARD,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    )
    _localstripe("POST", f"/v1/payment_intents/{payment_intent_id}", {"payment_method": method["id"]})
    return _localstripe("POST", f"/v1/payment_intents/{payment_intent_id}/confirm")


def webhook_signature(payload: bytes, *, secret: str) -> str:
    """Stripe's Stripe-Signature header: HMAC-SHA256 of 'timestamp.payload'."""
    import hashlib
    import hmac

    moment = int(time.time())
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def listings_prepare(*, count: int, run_tag: str) -> list[tuple[int, int]]:
    """`count` published fixed-price listings, each with its own seller and a buyer: (listing id,
    buyer id). Through the listing services, with the verification signal held back (this part
    measures money, and staff approval publishes a listing as a review would)."""
    from datetime import date

    from accounts.models import User
    from listings import services
    from listings.models import OwnerOfRecord, Right
    from listings.signals import listing_submitted

    receivers = list(listing_submitted.receivers)
    listing_submitted.receivers = []
    try:
        staff = User.objects.create(email=f"staff-{run_tag}@bench.invalid", legal_name="Bench Staff", is_staff=True)
        pairs: list[tuple[int, int]] = []
        first_number = 90_000_000 + Right.objects.count()
        for index in range(count):
            seller = User.objects.create(email=f"seller-{run_tag}-{index}@bench.invalid", legal_name=f"Seller {index}")
            buyer = User.objects.create(email=f"buyer-{run_tag}-{index}@bench.invalid", legal_name=f"Buyer {index}")
            right = Right.objects.create(
                kind="patent",
                sub_kind="invention",
                jurisdiction="US",
                registration_number=str(first_number + index),
                title=f"Benchmark coupling {index}",
                filing_date=date(2015, 3, 2),
                grant_date=date(2018, 6, 5),
                expiry_date=date(2035, 3, 2),
                status="in_force",
                facts_source="benchmark",
            )
            OwnerOfRecord.objects.create(right=right, name=seller.legal_name)
            listing = services.listing_create_draft(
                seller=seller,
                rights=[right],
                terms=services.ListingTerms(
                    title=f"Benchmark coupling patent {index}",
                    description="",
                    deal_types=["assignment"],
                    price_mode="fixed",
                    currency="USD",
                    asking_price=100_000 + index,
                ),
            )
            services.listing_submit(listing=listing, acting_user=seller)
            services.listing_verification_needs_review(listing=listing, note="Benchmark: straight to staff review.")
            services.listing_approve(listing=listing, acting_user=staff)
            pairs.append((listing.pk, buyer.pk))
        return pairs
    finally:
        listing_submitted.receivers = receivers


def _deal_run(listing_id: int, buyer_id: int) -> float:
    """One deal from buy to funded; seconds."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from escrow.models import Deal, DealState
    from escrow.payments import deal_payment_start
    from escrow.services import deal_buy_now
    from listings.models import Listing

    listing = Listing.objects.get(pk=listing_id)
    buyer = User.objects.get(pk=buyer_id)
    started = time.perf_counter()
    deal = deal_buy_now(listing=listing, buyer=buyer)
    intent = deal_payment_start(deal=deal, buyer=buyer)
    confirmed = card_confirm(intent.id)
    if confirmed.get("status") != "succeeded":
        raise RuntimeError(f"localstripe did not confirm {intent.id}: {confirmed.get('status')}")
    payload = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": confirmed},
        }
    ).encode()
    response = Client().post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=webhook_signature(payload, secret=settings.STRIPE_WEBHOOK_SECRET),
    )
    if response.status_code != 200:
        raise RuntimeError(f"The webhook answered {response.status_code}: {response.content[:200]!r}")
    deadline = time.monotonic() + FUNDED_TIMEOUT_SECONDS
    while Deal.objects.filter(pk=deal.pk).values_list("state", flat=True).get() != DealState.FUNDED:
        if time.monotonic() > deadline:
            raise RuntimeError(f"Deal #{deal.pk} was not funded within {FUNDED_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.005)
    return time.perf_counter() - started


def deals_measure(*, pairs: list[tuple[int, int]], clients: int) -> dict[str, Any]:
    from django.db import connection

    queue = list(pairs)
    lock = threading.Lock()
    seconds: list[float] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            while not errors:
                with lock:
                    if not queue:
                        return
                    listing_id, buyer_id = queue.pop()
                elapsed = _deal_run(listing_id, buyer_id)
                with lock:
                    seconds.append(elapsed)
        except Exception as error:  # noqa: BLE001 (reported by the main thread)
            errors.append(error)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"The deals run failed: {errors[0]!r}")
    return {
        "deals": len(seconds),
        "clients": clients,
        "seconds": round(wall, 1),
        "deals_per_second": round(len(seconds) / wall, 2),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
    }


def ledger_fill(*, entries: int, run_tag: str, progress: Callable[[str], None]) -> int:
    """Add balanced two-entry journals (platform cash against platform fees revenue, neither
    guarded non-negative) with set-based SQL until the ledger holds at least `entries` entries.
    The ledger's triggers stay on: each batch commits, and is checked, as one transaction."""
    from django.db import connection, transaction

    from escrow.ledger import ledger_account_for
    from escrow.models import Entry, JournalKind, LedgerAccountKind

    cash = ledger_account_for(kind=LedgerAccountKind.PLATFORM_CASH, owner=None, currency="USD")
    fees = ledger_account_for(kind=LedgerAccountKind.PLATFORM_FEES, owner=None, currency="USD")
    journals = max(0, entries - Entry.objects.count() + 1) // 2
    done = 0
    while done < journals:
        batch = min(LEDGER_BATCH_JOURNALS, journals - done)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                WITH posted AS (
                    INSERT INTO escrow_journal (kind, idempotency_key, description, reference)
                    SELECT %(kind)s, %(tag)s || n, 'Benchmark journal ' || n, ''
                    FROM generate_series(%(first)s, %(last)s) AS n
                    RETURNING id
                )
                INSERT INTO escrow_entry (journal_id, account_id, amount, currency)
                SELECT posted.id, side.account_id, side.sign * (posted.id %% 100000 + 1), 'USD'
                FROM posted
                CROSS JOIN (VALUES (%(cash)s::bigint, 1), (%(fees)s::bigint, -1)) AS side (account_id, sign)
                """,
                {
                    "kind": JournalKind.CORRECTION.value,
                    "tag": f"bench:{run_tag}:ledger:",
                    "first": done,
                    "last": done + batch - 1,
                    "cash": cash.pk,
                    "fees": fees.pk,
                },
            )
        done += batch
        progress(f"{2 * done:,} of {2 * journals:,} entries")
    return 2 * journals


def ledger_measure(*, entries: int, run_tag: str, progress: Callable[[str], None]) -> dict[str, Any]:
    from django.db import connection

    from escrow.ledger import ledger_check

    started = time.perf_counter()
    added = ledger_fill(entries=entries, run_tag=run_tag, progress=progress)
    build = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE escrow_entry")
        cursor.execute("VACUUM ANALYZE escrow_journal")
    ledger_check()  # warm-up: the first reads the tables from disk into the cache
    times = []
    check = None
    for _ in range(3):
        started = time.perf_counter()
        check = ledger_check()
        times.append(time.perf_counter() - started)
    assert check is not None
    if not check.balanced:
        raise SystemExit(f"The benchmark ledger does not balance: {check.problem_count} problems")
    return {
        "entries": check.entries,
        "journals": check.journals,
        "entries_added": added,
        "build_seconds": round(build, 1),
        "triggers": "all on (balance checked at each batch's commit)",
        "balanced": check.balanced,
        "check_seconds": round(statistics.median(times), 2),
        "check_runs": len(times),
    }


def money_run(*, database_url: str, deals: int, clients: int, ledger_entries: int) -> dict[str, Any]:
    from bench.run import _database_create

    _database_create(database_url)
    bench_environment(database_url)
    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connections

    logging.getLogger("stripe").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    run_tag = uuid.uuid4().hex[:8]
    print(f"==> Money: {deals:,} published listings in {database_url} (untimed)", flush=True)
    pairs = listings_prepare(count=deals, run_tag=run_tag)
    connections.close_all()
    log = BASE_DIR / ".local" / "log" / "bench-money-worker.log"
    worker = worker_start(name="bench-money", concurrency=2, log=log)
    try:
        print(f"==> Money: {deals:,} deals, buy -> pay -> webhook -> funded, {clients} clients", flush=True)
        result = deals_measure(pairs=pairs, clients=clients)
    finally:
        process_stop(worker)
    result["processing"] = "Celery worker, 2 prefork processes, embedded Redis (broker db 12)"
    print(f"==> Money: a ledger of {ledger_entries:,} entries, then ledger_check()", flush=True)
    ledger = ledger_measure(
        entries=ledger_entries, run_tag=run_tag, progress=lambda message: print(f"    {message}", flush=True)
    )
    return {"deals": result, "ledger": ledger}


def money_print(result: dict[str, Any]) -> None:
    deals, ledger = result["deals"], result["ledger"]
    print(
        f"Money: {deals['deals']:,} deals in {deals['seconds']:.1f} s with {deals['clients']} clients: "
        f"{deals['deals_per_second']:.2f} deals/s, per deal p50 {deals['p50_ms']:.0f} ms, p95 {deals['p95_ms']:.0f} ms "
        f"({deals['processing']})"
    )
    print(
        f"Ledger: ledger_check() over {ledger['entries']:,} entries / {ledger['journals']:,} journals: "
        f"{ledger['check_seconds']:.2f} s (median of {ledger['check_runs']}; balanced: {ledger['balanced']})"
    )
