"""The money and verification parts of `make bench`, tiny and on the test database: the same code
paths the benchmark times, with Celery eager instead of a worker and the sandbox registry served
by a thread. No timings are asserted: only that every deal is funded, the ledger balances and
every submitted listing gets its verdict (the lapsed patent failed, the other owner's to review)."""

from __future__ import annotations

import pytest

from bench import money, verification
from escrow.ledger import ledger_check
from escrow.models import Deal, DealState
from listings.models import Listing, ListingState
from tests.sandbox_registry import conftest as sandbox_fixtures
from verification.models import RunState, VerificationRun

sandbox = sandbox_fixtures.sandbox
sandbox_url = sandbox_fixtures.sandbox_url


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    from marketplace.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


def test_five_deals_go_from_buy_to_funded_and_the_ledger_balances(transactional_db, eager):
    pairs = money.listings_prepare(count=5, run_tag="smoke")

    result = money.deals_measure(pairs=pairs, clients=2)

    assert result["deals"] == 5
    listing_ids = [listing_id for listing_id, _ in pairs]
    assert Deal.objects.filter(listing_id__in=listing_ids, state=DealState.FUNDED).count() == 5
    ledger = money.ledger_measure(entries=200, run_tag="smoke", progress=lambda message: None)
    assert ledger["balanced"] is True
    assert ledger["entries"] >= 200
    check = ledger_check()
    assert check.balanced
    assert check.entries == ledger["entries"]


def test_twenty_rights_are_verified_against_the_sandbox_registry(sandbox, eager):
    seeded = verification.register_fill(count=20, first_number=20_000_000)
    listing_ids = verification.drafts_create(seeded, run_tag="smoke")

    _, latency, done = verification.submissions_measure(listing_ids, interval=0, timeout=60)

    assert len(done) == len(latency) == 20
    states = {
        run.listing_id: run.state
        for run in VerificationRun.objects.filter(listing_id__in=listing_ids).only("listing_id", "state")
    }
    # One in twenty lapsed (index 7), one in twenty held by someone else (index 13).
    assert states[listing_ids[7]] == RunState.FAILED
    assert states[listing_ids[13]] == RunState.NEEDS_REVIEW
    others = [states[i] for n, i in enumerate(listing_ids) if n not in (7, 13)]
    assert set(others) <= {RunState.PASSED, RunState.WARNING}
    assert Listing.objects.get(pk=listing_ids[0]).state != ListingState.SUBMITTED


def _search_indexes() -> dict[str, tuple[int, bool]]:
    """Each index of the search entries' parent: (how many partitions have it, valid)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.indexrelid::regclass::text, count(c.inhrelid), bool_and(p.indisvalid) "
            "FROM pg_index p LEFT JOIN pg_inherits c ON c.inhparent = p.indexrelid "
            "WHERE p.indrelid = 'listings_listingsearchentry'::regclass GROUP BY 1"
        )
        return {name: (partitions, valid) for name, partitions, valid in cursor.fetchall()}


def test_the_catalogue_build_recreates_every_search_index_on_every_partition(transactional_db):
    from bench import catalogue

    before = _search_indexes()
    assert before
    assert all(partitions == 16 and valid for partitions, valid in before.values())

    statements = catalogue._secondary_indexes_drop()
    catalogue._statements_run(statements, workers=2)
    catalogue._indexes_check()

    assert _search_indexes() == before


def test_the_cpu_time_of_the_clients_web_server_and_database_is_read_by_group():
    from bench import run

    before = run._cpu_seconds()
    if not before:
        pytest.skip("/proc cannot tell CPU times on this system")
    # Work enough to be counted (the kernel counts CPU time in ticks of 10 ms) by this process,
    # which the benchmark's clients run in.
    sum(number * number for number in range(3_000_000))
    after = run._cpu_seconds()

    assert set(after) == {"web server", "PostgreSQL", "clients"}
    assert all(after[name] >= before[name] >= 0 for name in after)
    assert after["clients"] > before["clients"]
    assert after["PostgreSQL"] > 0  # the test database's server has run queries


def test_the_latency_run_requests_each_query_every_pass_and_reads_cpu_by_class():
    import http.server
    import threading

    from bench import run

    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mix = [run.Query("rare term", {"q": "gyroscope"}), run.Query("front page", {})]
    try:
        cpu = run._latency_run(server.server_address[1], mix)
    finally:
        server.shutdown()

    assert sorted(served) == sorted(["/listings/?q=gyroscope", "/listings/"] * run.PASSES)
    if not run._cpu_seconds():
        assert cpu == {}
        return
    assert set(cpu) == {"rare term", "front page"}
    for groups in cpu.values():
        assert set(groups) == {"web server", "PostgreSQL"}
        assert all(value >= 0 for value in groups.values())
