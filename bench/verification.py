"""The verification part of `make bench` (issue 5): rights verified against the sandbox registry
by the Celery worker, and the time from a listing's submission to its stored verdict.

    python -m bench.run --only verification [--rights 10000] [--verification-workers 4]

In its own database (`marketplace_verification_bench`, or BENCH_VERIFICATION_DATABASE_URL):
1. The sandbox register is seeded with one US utility patent per right (`register_seed`, as
   `seed_sandbox_registry` does): most in force and held by the seller; one in twenty lapsed and
   one in twenty held by someone else, so the checks also reach their failing and review paths.
2. The sandbox registry runs as its own process (`manage.py run_sandbox_registry`) on a port of
   its own (BENCH_REGISTRY_PORT, 8481), over the benchmark's database; the registry clients
   reach it over HTTP through `SANDBOX_REGISTRY_URL` (only base URLs differ from production),
   on kept-alive connections as they reach the offices. It is read without pacing
   (`SANDBOX_REGISTRY_UNPACED`, as in development: the offices' published rate limits are the
   real offices', not the sandbox's; against the real ODP one request at a time, 0.2 s apart,
   would bound the rate).
3. Throughput: every listing (one right each) is submitted through `listing_submit`; its
   `listing_submitted` signal queues `verification.listing_verify` on commit, and a real Celery
   worker on the embedded Redis (a broker database of the benchmarks' own) verifies them. The
   clock runs from the first submission to the last verdict stored (`finished_at`).
4. Latency: with the queue empty, listings are submitted one every LATENCY_INTERVAL seconds
   (a steady trickle, as sellers submit) and each is timed from just before `listing_submit` to
   the latest `finished_at` of its runs. The p95 of the throughput phase, where most of the time
   is waiting in a queue of thousands, is reported too.

Every process (this one, the worker, the registry) runs with DEBUG off, as production does:
with DEBUG on, Django keeps every SQL statement each process sends. While the worker runs,
this process only asks how many verdicts are in (one indexed count every half second).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.money import BASE_DIR, bench_environment, percentile, process_stop, worker_start

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/marketplace_verification_bench"
REGISTRY_PORT = int(os.environ.get("BENCH_REGISTRY_PORT", "8481"))
OWNER_SUFFIX = "Holdings Inc."
LATENCY_LISTINGS = 100
LATENCY_INTERVAL = 0.25
TARGET_SECONDS = 10 * 60
TARGET_P95_SECONDS = 10.0


def register_fill(*, count: int, first_number: int) -> list[tuple[str, str, str]]:
    """`count` US patents in the sandbox register: (application number, patent number, owner)."""
    from django.utils import timezone

    from sandbox_registry.models import Kind, Office, PartyRole
    from sandbox_registry.seeding import EntrySeed, Seeds
    from sandbox_registry.services import register_seed
    from verification.registries.records import add_months

    today = timezone.localdate()
    rights: list[tuple[str, str, str]] = []
    seeds = Seeds()
    for index in range(count):
        number = first_number + index
        application, patent = f"{number + 10_000_000:08d}"[-8:], str(number)
        owner = f"Bench {number} {OWNER_SUFFIX}"
        grant = add_months(today, -12 - index % 24)  # no maintenance fee due yet
        lapsed = index % 20 == 7
        holder = f"Someone Else {number} GmbH" if index % 20 == 13 else owner
        seeds.entries.append(
            EntrySeed(
                kind=Kind.US_PATENT,
                fields={
                    "office": Office.USPTO,
                    "application_type": "UTL",
                    "application_number": application,
                    "patent_number": patent,
                    "title": f"Benchmark coupling {number}",
                    "status_code": "250" if lapsed else "150",
                    "status_text": "Patent Expired Due to NonPayment of Maintenance Fees Under 37 CFR 1.362"
                    if lapsed
                    else "Patented Case",
                    "status_date": grant,
                    "filing_date": add_months(grant, -24),
                    "grant_date": grant,
                    "pta_days": 0,
                    "source": "benchmark",
                },
                parties=[{"role": PartyRole.APPLICANT, "sequence": 1, "name": holder}],
            )
        )
        rights.append((application, patent, owner))
    register_seed(seeds=seeds)
    return rights


def drafts_create(rights: list[tuple[str, str, str]], *, run_tag: str) -> list[int]:
    """One draft listing per right, each by a seller whose legal name is the owner's (untimed)."""
    from accounts.models import User
    from listings import services
    from listings.models import OwnerOfRecord, Right
    from verification.registries.records import add_months

    expiry = add_months(dt.date.today(), 12 * 15)
    ids = []
    for index, (application, patent, owner) in enumerate(rights):
        seller = User.objects.create(email=f"seller-{run_tag}-{index}@bench.invalid", legal_name=owner)
        right = Right.objects.create(
            kind="patent",
            sub_kind="invention",
            jurisdiction="US",
            application_number=application,
            registration_number=patent,
            title=f"Benchmark coupling {patent}",
            status="in_force",
            expiry_date=expiry,
            facts_source="seller's statement",
        )
        OwnerOfRecord.objects.create(right=right, name=owner)
        listing = services.listing_create_draft(
            seller=seller,
            rights=[right],
            terms=services.ListingTerms(
                title=f"Benchmark coupling patent {patent}",
                description="",
                deal_types=["assignment"],
                price_mode="fixed",
                currency="USD",
                asking_price=5_000_000,
            ),
        )
        ids.append(listing.pk)
    return ids


def _submit(listing_id: int) -> dt.datetime:
    from django.utils import timezone

    from listings import services
    from listings.models import Listing

    listing = Listing.objects.select_related("seller").get(pk=listing_id)
    submitted = timezone.now()
    services.listing_submit(listing=listing, acting_user=listing.seller)
    return submitted


def _verdicts(listing_ids: list[int]) -> dict[int, tuple[dt.datetime, int]]:
    """For each listing whose runs of this submission all finished: (last finish, runs)."""
    from django.db.models import Count, Max, Q

    from verification.models import Trigger, VerificationRun

    rows = (
        VerificationRun.objects.filter(listing_id__in=listing_ids, trigger=Trigger.SUBMISSION)
        .values("listing_id")
        .annotate(done=Max("finished_at"), runs=Count("id"), open=Count("id", filter=Q(finished_at__isnull=True)))
    )
    return {row["listing_id"]: (row["done"], row["runs"]) for row in rows if row["open"] == 0 and row["done"]}


def _finished_runs(listing_ids: list[int]) -> int:
    """How many submission runs of these listings have their verdict: the cheap question the
    wait polls (a range when the ids are consecutive, as drafts_create makes them), before the
    full per-listing answer is asked once. Asking that every half second of a 10,000-listing
    run cost a quarter of the machine, taken from the workers being measured."""
    from verification.models import Trigger, VerificationRun

    runs = VerificationRun.objects.filter(trigger=Trigger.SUBMISSION, finished_at__isnull=False)
    low, high = min(listing_ids), max(listing_ids)
    if high - low + 1 == len(set(listing_ids)):
        return runs.filter(listing_id__gte=low, listing_id__lte=high).count()
    return runs.filter(listing_id__in=listing_ids).count()


def _wait(listing_ids: list[int], *, timeout: float) -> dict[int, tuple[dt.datetime, int]]:
    deadline = time.monotonic() + timeout
    while True:
        # Each listing has at least one run: fewer finished runs than listings means not done.
        if _finished_runs(listing_ids) >= len(listing_ids):
            done = _verdicts(listing_ids)
            if len(done) == len(listing_ids):
                return done
        if time.monotonic() > deadline:
            missing = len(listing_ids) - len(_verdicts(listing_ids))
            raise SystemExit(f"{missing} listings had no verdict after {timeout:.0f} s")
        time.sleep(0.5)


def submissions_measure(
    listing_ids: list[int], *, interval: float, timeout: float
) -> tuple[float, list[float], dict[int, tuple[dt.datetime, int]]]:
    """Submit the listings (one every `interval` seconds) and wait for every verdict: seconds
    from the first submission to the last verdict stored, each listing's submission-to-verdict
    seconds, and the verdicts' times and runs."""
    from django.utils import timezone

    started = timezone.now()
    submitted = {}
    for listing_id in listing_ids:
        submitted[listing_id] = _submit(listing_id)
        if interval:
            time.sleep(interval)
    done = _wait(listing_ids, timeout=timeout)
    seconds = (max(finished for finished, _ in done.values()) - started).total_seconds()
    return seconds, [(done[i][0] - submitted[i]).total_seconds() for i in listing_ids], done


@contextmanager
def registry_running(log: Path) -> Iterator[None]:
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "manage.py", "run_sandbox_registry", "--port", str(REGISTRY_PORT)]
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=BASE_DIR, env=dict(os.environ), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        import socket

        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", REGISTRY_PORT), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"The sandbox registry did not start; see {log}") from None
                time.sleep(0.3)
        yield
    finally:
        process_stop(process)


def verification_run(*, database_url: str, rights: int, workers: int) -> dict[str, Any]:
    from bench.run import _database_create

    _database_create(database_url)
    bench_environment(database_url)
    os.environ["SANDBOX_REGISTRY_URL"] = f"http://127.0.0.1:{REGISTRY_PORT}"
    # No pacing and no one-at-a-time lock against the sandbox (see the module's docstring).
    os.environ["SANDBOX_REGISTRY_UNPACED"] = "true"
    os.environ["VERIFICATION_RETRY_BASE_SECONDS"] = "1"
    # As production runs: with DEBUG on, every process would keep each SQL statement it sends.
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connections

    from listings.models import Right
    from verification.models import RunState, VerificationRun

    logging.getLogger("verification").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    run_tag = uuid.uuid4().hex[:8]
    first_number = 20_000_000 + Right.objects.count()
    total = rights + LATENCY_LISTINGS
    print(f"==> Verification: {total:,} patents in the sandbox register and as draft listings (untimed)", flush=True)
    started = time.perf_counter()
    seeded = register_fill(count=total, first_number=first_number)
    listing_ids = drafts_create(seeded, run_tag=run_tag)
    print(f"    prepared in {time.perf_counter() - started:.0f} s", flush=True)
    bulk_ids, trickle_ids = listing_ids[:rights], listing_ids[rights:]
    connections.close_all()
    local = BASE_DIR / ".local" / "log"
    with registry_running(local / "bench-sandbox-registry.log"):
        worker = worker_start(name="bench-verification", concurrency=workers, log=local / "bench-verify-worker.log")
        try:
            print(f"==> Verification: {rights:,} listings submitted at once, {workers} worker processes", flush=True)
            bulk_seconds, bulk_latency, done = submissions_measure(bulk_ids, interval=0, timeout=3600)
            print(f"==> Verification: {len(trickle_ids)} listings, one every {LATENCY_INTERVAL} s", flush=True)
            _, latency, _ = submissions_measure(trickle_ids, interval=LATENCY_INTERVAL, timeout=600)
        finally:
            process_stop(worker)
    verdicts: dict[str, int] = {}
    for state in VerificationRun.objects.filter(listing_id__in=bulk_ids).values_list("state", flat=True):
        verdicts[state] = verdicts.get(state, 0) + 1
    runs = sum(runs for _, runs in done.values())
    return {
        "rights": runs,
        "listings": len(bulk_ids),
        "workers": workers,
        "seconds": round(bulk_seconds, 1),
        "rights_per_second": round(runs / bulk_seconds, 1),
        "target_seconds": TARGET_SECONDS,
        "verdicts": dict(sorted(verdicts.items())),
        "passed_share": round(verdicts.get(RunState.PASSED, 0) / max(1, runs), 3),
        "bulk_latency_p50_s": round(statistics.median(bulk_latency), 2),
        "bulk_latency_p95_s": round(percentile(bulk_latency, 0.95), 2),
        "latency": {
            "listings": len(latency),
            "interval_s": LATENCY_INTERVAL,
            "p50_s": round(statistics.median(latency), 2),
            "p95_s": round(percentile(latency, 0.95), 2),
            "target_p95_s": TARGET_P95_SECONDS,
        },
        "registry": f"manage.py run_sandbox_registry on 127.0.0.1:{REGISTRY_PORT}, unpaced (SANDBOX_REGISTRY_UNPACED)",
        "processing": f"Celery worker, {workers} prefork processes, broker {os.environ['CELERY_BROKER_URL']}",
    }


def verification_print(result: dict[str, Any]) -> None:
    verdict = "ok" if result["seconds"] <= result["target_seconds"] else "MISSED"
    print(
        f"Verification: {result['rights']:,} rights ({result['listings']:,} listings) in {result['seconds']:.0f} s, "
        f"{result['rights_per_second']:.1f}/s with {result['workers']} workers "
        f"(target {result['target_seconds']} s: {verdict}); verdicts {result['verdicts']}"
    )
    latency = result["latency"]
    verdict = "ok" if latency["p95_s"] <= latency["target_p95_s"] else "MISSED"
    print(
        f"Submission to verdict ({latency['listings']} listings, one every {latency['interval_s']} s): "
        f"p50 {latency['p50_s']:.2f} s, p95 {latency['p95_s']:.2f} s "
        f"(target {latency['target_p95_s']:.0f} s: {verdict}); "
        f"in the {result['listings']:,}-listing burst p50 {result['bulk_latency_p50_s']:.0f} s, "
        f"p95 {result['bulk_latency_p95_s']:.0f} s (queueing)"
    )
