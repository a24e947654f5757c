"""The portfolio import part of `make bench` (issue 3): a seller's CSV of 10,000 rows through the
upload check and the Celery task, until every row is a draft listing or a rejected row.

    python -m bench.run --only import [--rows 10000]

In its own database (`marketplace_import_bench`):
1. A CSV in the documented portfolio template is written with `--rows` US utility patents whose
   titles and abstracts are real (the NASA portfolio and the PatentsView exports in the shared
   data, cycled), each with numbers of its own (a fresh range per run, so nothing is a duplicate
   of an earlier run), the seller as owner of record, real CPC symbols, dates, deal types and
   prices. One row in fifty carries a malformed patent number, so the rejected-rows path runs too.
2. The clock starts before `portfolio_import_start` (the check a seller waits for) and stops when
   the job is finished, as a real Celery worker on the embedded Redis runs it.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.money import BASE_DIR, bench_environment, process_stop, worker_start

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/marketplace_import_bench"
TARGET_SECONDS = 60.0
DEAL_TYPES = ("assignment", "exclusive_licence;non_exclusive_licence", "assignment;exclusive_licence")
# Real CPC symbols of the kind the exports carry.
CPC_SYMBOLS = ("G06N 3/08", "G06N 3/04", "H04L 9/32", "A63B 69/00", "B64G 1/22", "G01S 17/89", "H01M 10/0525")


def _texts(data_dir: Path) -> list[tuple[str, str]]:
    """(title, abstract) of the real patents in the shared data."""
    patents = data_dir / "catalogue" / "patents"
    found: list[tuple[str, str]] = []
    sources = (
        ("nasa_portfolio_2014.csv", "Title", "Abstract"),
        ("pv_neural_network.csv", "patent_title", "patent_abstract"),
        ("pv_baseball.csv", "patent_title", "patent_abstract"),
    )
    for name, title_column, abstract_column in sources:
        with (patents / name).open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                title = " ".join((row.get(title_column) or "").split())
                if title:
                    found.append((title[:300], " ".join((row.get(abstract_column) or "").split())[:2000]))
    if not found:
        raise SystemExit(f"No patent titles under {patents}: the import benchmark needs the shared data.")
    return found


def portfolio_csv(*, rows: int, owner: str, data_dir: Path, seed: int = 20261125) -> bytes:
    """A portfolio template file of `rows` rows (see the module docstring)."""
    from listings.portfolio import TEMPLATE_COLUMNS

    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    texts = _texts(data_dir)
    first = 9_000_000 + (int(time.time()) % 500) * 2_000 + rng.randrange(1_000)
    today = date.today()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TEMPLATE_COLUMNS)
    writer.writeheader()
    for index, (title, abstract) in zip(range(rows), itertools.cycle(texts), strict=False):
        granted = today - timedelta(days=rng.randrange(200, 4_000))
        filed = granted - timedelta(days=rng.randrange(400, 1_500))
        deal_types = rng.choice(DEAL_TYPES)
        writer.writerow(
            {
                "kind": "patent",
                "sub_kind": "invention",
                "jurisdiction": "US",
                "registration_number": f"US {first + index:,}" if index % 50 != 7 else f"US-{index}-X",
                "title": title,
                "abstract": abstract,
                "owners": owner,
                "filing_date": filed.isoformat(),
                "grant_date": granted.isoformat(),
                "expiry_date": (filed + timedelta(days=20 * 365)).isoformat(),
                "cpc_symbols": "; ".join(rng.sample(CPC_SYMBOLS, 2)),
                "deal_types": deal_types,
                "price_mode": "fixed",
                "currency": "USD",
                "asking_price": str(rng.randrange(5, 500) * 1_000),
            }
        )
    return buffer.getvalue().encode("utf-8")


def import_run(*, database_url: str, rows: int) -> dict[str, Any]:
    from bench.run import _database_create

    _database_create(database_url)
    bench_environment(database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, transaction

    from accounts.models import User
    from listings.models import ImportJob, ImportJobState
    from listings.portfolio import portfolio_import_start

    call_command("migrate", verbosity=0)
    run_tag = uuid.uuid4().hex[:8]
    owner = f"Import Bench {run_tag} Inc."
    seller = User.objects.create_user(email=f"import-bench-{run_tag}@example.com", password=None, legal_name=owner)
    content = portfolio_csv(rows=rows, owner=owner, data_dir=Path(settings.SHARED_DATA_DIR))
    print(f"==> Import: a portfolio of {rows:,} template rows ({len(content) / 1e6:.1f} MB) in {database_url}")
    connections.close_all()
    log = BASE_DIR / ".local" / "log" / "bench-import-worker.log"
    worker = worker_start(name="bench-import", concurrency=2, log=log)
    try:
        started = time.monotonic()
        with transaction.atomic():
            job = portfolio_import_start(seller=seller, upload=io.BytesIO(content), original_name="portfolio.csv")
        checked = time.monotonic() - started
        deadline = started + 30 * 60
        while True:
            job = ImportJob.objects.get(pk=job.pk)
            if job.is_finished or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
    finally:
        process_stop(worker)
    if job.state != ImportJobState.DONE:
        raise SystemExit(f"The import did not finish: {job.get_state_display()} {job.error}")
    return {
        "rows": job.total_rows,
        "created": job.created_count,
        "rejected": job.rejected_count,
        "skipped": job.skipped_count,
        "check_seconds": round(checked, 2),
        "seconds": round(seconds, 1),
        "rows_per_second": round(job.total_rows / seconds, 1),
        "target_seconds": TARGET_SECONDS,
        "processing": "Celery worker, 2 prefork processes, embedded Redis",
        "database": database_url.rsplit("/", 1)[-1],
    }


def import_print(result: dict[str, Any]) -> None:
    verdict = "ok" if result["seconds"] <= result["target_seconds"] else "MISSED"
    print(
        f"Import: {result['rows']:,} rows in {result['seconds']:.1f} s ({result['rows_per_second']:,.0f} rows/s; "
        f"upload check {result['check_seconds']:.2f} s): {result['created']:,} drafts, "
        f"{result['rejected']:,} rejected, {result['skipped']:,} skipped "
        f"(target {result['target_seconds']:.0f} s: {verdict})"
    )
