"""A benchmark catalogue of up to a million public listings, built from real text.

The text is real, the combination is generated: titles and abstracts of real patents (the NASA
portfolio, PatentsView and Google Patents exports), real CPC symbols (whose official titles the
search index adds), real US copyright renewals (title, author, claimants, numbers and dates as
recorded) and real Nice goods and services terms, read by path from settings.SHARED_DATA_DIR.
A seeded generator combines them into rights and listings with realistic facets (kinds, offices,
statuses following the dates, deal types, prices, terms) and owners taken from the real assignee
and claimant names. Listings are published over three years in the order of their ids, as a live
site creates and publishes them. Rows go in with COPY; the search index is then built by the
project's own set-based statement (listings.search_index), with the secondary indexes created
afterwards.

This writes only to the database it is pointed at, and refuses any database whose name does not
end in "_bench": it empties the listings tables first.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from listings.office_numbers import cn_check_digit
from listings.search_index import search_entries_refresh

TEXT_NOTICE = "The text is real, the combination is generated."
SOURCE = "Benchmark catalogue: real text, generated combination"
NASA = "National Aeronautics and Space Administration"
# Copyright renewals cover works first published 1922-1963; each is used once.
KIND_SHARES = (("patent", 0.55), ("copyright", 0.30), ("trademark", 0.15))
CPC_SECTION_WEIGHTS = {"G": 30, "H": 25, "A": 14, "B": 10, "C": 8, "F": 6, "E": 3, "D": 2, "Y": 2}
CURRENCY_WEIGHTS = {"USD": 75, "EUR": 15, "GBP": 5, "CNY": 5}
# The listings were published over this many seconds before the build (three years).
PUBLISHED_SPAN = 3 * 365 * 86400


class CatalogueBuildError(Exception):
    pass


@dataclass
class Sources:
    patents: list[tuple[str, str, str]] = field(default_factory=list)  # title, abstract, owner
    abstracts: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    renewals: list[tuple[str, str, str, str, date, list[str]]] = field(default_factory=list)
    cpc_leaves: dict[str, list[str]] = field(default_factory=dict)
    nice_terms: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class BuildReport:
    listings: int = 0
    rights: int = 0
    sellers: int = 0
    entries: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def _clean(text: str) -> str:
    return " ".join(text.replace('""', '"').strip(' "').split())


def _csv_rows(path: Path, *, skip_lines: int = 0) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        yield from csv.DictReader(handle)


def sources_read(data_dir: Path) -> Sources:  # noqa: PLR0912, PLR0915 - one reader per source, in order
    """The real text, read from the shared data folder by the formats SOURCES.md describes."""
    patents_dir = data_dir / "catalogue" / "patents"
    found = Sources()
    if not patents_dir.is_dir():
        raise CatalogueBuildError(f"{patents_dir} is missing: the benchmark needs the shared data (SHARED_DATA_DIR).")
    for raw in _csv_rows(patents_dir / "nasa_portfolio_2014.csv"):
        title, abstract = _clean(raw.get("Title") or ""), _clean(raw.get("Abstract") or "")
        if title:
            found.patents.append((title, abstract, NASA))
    for name in ("pv_neural_network.csv", "pv_baseball.csv"):
        for raw in _csv_rows(patents_dir / name):
            title, abstract = _clean(raw.get("patent_title") or ""), _clean(raw.get("patent_abstract") or "")
            if title:
                found.patents.append((title, abstract, ""))
    assignees: set[str] = {NASA}
    seen: set[str] = set()
    for path in sorted((patents_dir / "google").glob("gp-search-*.csv")):
        # The first line is the search URL; the header is on line 2.
        for raw in _csv_rows(path, skip_lines=1):
            identifier, title = (raw.get("id") or "").strip(), _clean(raw.get("title") or "")
            owner = _clean(raw.get("assignee") or "")
            if not title or identifier in seen:
                continue
            seen.add(identifier)
            found.patents.append((title, "", owner))
            if owner:
                assignees.add(owner)
    found.abstracts = [abstract for _, abstract, _ in found.patents if len(abstract) > 40]
    found.assignees = sorted(assignees)
    renewal_ids: set[str] = set()
    original_numbers: set[str] = set()
    for path in sorted((data_dir / "catalogue" / "copyright_renewals").glob("*.tsv.gz")):
        with io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace") as handle:
            for raw in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                renewal = (raw.get("id") or "").strip().upper()
                # The older volumes' columns are "title" and "author", the database exports' "titl" and "auth".
                title = _clean((raw.get("title") or raw.get("titl") or "").split("|")[0])
                claimants = [_clean(part.split("|")[0]) for part in (raw.get("claimants") or "").split("||")]
                claimants = [name[:300] for name in claimants if name]
                try:
                    original = date.fromisoformat((raw.get("odat") or "").strip())
                except ValueError:
                    continue
                if not (renewal and title and claimants) or renewal in renewal_ids or len(renewal) > 32:
                    continue
                renewal_ids.add(renewal)
                oreg = (raw.get("oreg") or "").strip().upper()[:32]
                # A work renewed twice names its original registration twice: one right holds it.
                oreg = "" if oreg in original_numbers else oreg
                original_numbers.add(oreg)
                found.renewals.append(
                    (
                        renewal,
                        oreg,
                        title[:500],
                        _clean(raw.get("author") or raw.get("auth") or ""),
                        original,
                        claimants,
                    )
                )
    for path in sorted((data_dir / "classification" / "cpc").glob("cpc-section-*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                symbol = line.split("\t", 1)[0].strip()
                if "/" in symbol and len(symbol) <= 32:
                    found.cpc_leaves.setdefault(symbol[0], []).append(symbol)
    terms = json.loads((data_dir / "classification" / "nice_ncl10_2015_terms.json").read_text(encoding="utf-8"))
    for item in terms.get("goods", []) + terms.get("services", []):
        number, description = str(item.get("number", "")), _clean(str(item.get("description", "")))
        if len(number) >= 2 and number[:2].isdigit() and 1 <= int(number[:2]) <= 45 and description:
            found.nice_terms.append((int(number[:2]), description))
    if not (found.patents and found.renewals and found.cpc_leaves and found.nice_terms):
        raise CatalogueBuildError("Some shared data sets are empty; see SOURCES.md for the expected files.")
    return found


class _Copier:
    """Buffers rows for one table and streams them with COPY (psycopg formats the values)."""

    def __init__(self, table: str, columns: list[str]) -> None:
        self.table, self.columns = table, columns
        self.pending: list[tuple[object, ...]] = []
        self.rows = 0

    def add(self, *values: object) -> None:
        self.pending.append(values)
        self.rows += 1
        if len(self.pending) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3
            with raw.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                for row in self.pending:
                    copy.write_row(row)
        self.pending = []


_TABLES = (
    "listings_listingsearchentry",
    "listings_listingright",
    "listings_ownerofrecord",
    "listings_listing",
    "listings_right",
)
# The counts the search index's triggers keep: every batch of entries rewrote their rows, and left
# to autovacuum they would be vacuumed during the measurement that follows the build.
_KEPT_COUNT_TABLES = ("listings_listingsearchfacetcount", "listings_listingsearchfacetpaircount")


def _guard_database() -> str:
    name = str(connection.settings_dict["NAME"])
    if not name.endswith("_bench"):
        raise CatalogueBuildError(
            f"Refusing to build the benchmark catalogue in database {name!r}: its name must end in '_bench' "
            "(it empties the listings tables)."
        )
    return name


def _empty_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(_TABLES)} CASCADE")
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", ["%@bench.ip-marketplace.local"])


def _years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def catalogue_build(
    *, size: int, seed: int = 20261124, progress: Callable[[str], None] = print, workers: int = 2
) -> BuildReport:
    """Empty the listings tables of this (benchmark) database and fill them with `size` public
    listings, one right each, then build the search index."""
    _guard_database()
    report = BuildReport()
    started = time.monotonic()
    sources = sources_read(Path(settings.SHARED_DATA_DIR))
    progress(
        f"Sources: {len(sources.patents):,} patent titles, {len(sources.abstracts):,} abstracts, "
        f"{len(sources.renewals):,} copyright renewals, {sum(map(len, sources.cpc_leaves.values())):,} CPC symbols, "
        f"{len(sources.nice_terms):,} Nice terms. {TEXT_NOTICE}"
    )
    _empty_tables()
    report.seconds["read sources"] = time.monotonic() - started

    started = time.monotonic()
    with connection.cursor() as cursor:
        # The rows are consistent by construction: skip the per-row foreign-key triggers while
        # copying (the search index's triggers are not involved: its entries are built after).
        cursor.execute("SET session_replication_role = replica")
    try:
        _rows_write(size=size, seed=seed, sources=sources, report=report)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    report.seconds["copy rows"] = time.monotonic() - started
    progress(f"Copied {report.listings:,} listings, {report.rights:,} rights, {report.sellers:,} sellers")

    started = time.monotonic()
    dropped = _secondary_indexes_drop()
    report.entries = _entries_build(workers=workers)
    report.seconds["search entries"] = time.monotonic() - started
    progress(f"Built {report.entries:,} search entries")

    started = time.monotonic()
    _statements_run(dropped, workers=workers)
    _indexes_check()
    with connection.cursor() as cursor:
        for table in (*_TABLES, *_KEPT_COUNT_TABLES):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("VACUUM (ANALYZE) accounts_user")
    report.seconds["indexes and analyze"] = time.monotonic() - started
    return report


# One pass writes a row of every table per listing: split up, it would pass a dozen values around.
def _rows_write(*, size: int, seed: int, sources: Sources, report: BuildReport) -> None:  # noqa: PLR0912, PLR0915
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    now = datetime.now(tz=UTC)
    today = now.date()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(max(id), 0) FROM accounts_user")
        next_user = cursor.fetchone()[0] + 1
    users = _Copier(
        "accounts_user",
        [
            "id",
            "password",
            "is_superuser",
            "email",
            "display_name",
            "organisation",
            "country",
            "legal_name",
            "legal_address",
            "is_staff",
            "is_active",
            "date_joined",
        ],
    )
    rights = _Copier(
        "listings_right",
        [
            "id",
            "kind",
            "sub_kind",
            "jurisdiction",
            "application_number",
            "publication_number",
            "registration_number",
            "title",
            "abstract",
            "goods_and_services",
            "cpc_symbols",
            "nice_classes",
            "filing_date",
            "grant_date",
            "expiry_date",
            "status",
            "office_status_code",
            "office_status_text",
            "facts_source",
            "facts_as_of",
            "created_at",
            "updated_at",
            "verification_verdict",
            "verification_register",
            "verification_summary",
        ],
    )
    owners = _Copier("listings_ownerofrecord", ["right_id", "name", "address", "country", "position"])
    listings = _Copier(
        "listings_listing",
        [
            "id",
            "title",
            "description",
            "deal_types",
            "price_mode",
            "asking_price",
            "minimum_price",
            "currency",
            "state",
            "review_note",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
            "seller_id",
        ],
    )
    links = _Copier("listings_listingright", ["listing_id", "right_id", "position"])
    sellers: dict[str, int] = {}

    def seller_of(name: str) -> int:
        user_id = sellers.get(name)
        if user_id is None:
            user_id = next_user + len(sellers)
            sellers[name] = user_id
            email = f"seller-{user_id}@bench.ip-marketplace.local"
            users.add(user_id, "!bench", False, email, name[:120], name[:200], "", name, "", False, True, now)
        return user_id

    sections = list(CPC_SECTION_WEIGHTS)
    section_weights = list(CPC_SECTION_WEIGHTS.values())
    currencies, currency_weights = list(CURRENCY_WEIGHTS), list(CURRENCY_WEIGHTS.values())
    renewals = list(sources.renewals)
    rng.shuffle(renewals)
    kinds = [kind for kind, _ in KIND_SHARES]
    kind_weights = [share for _, share in KIND_SHARES]
    first_published = now - timedelta(seconds=PUBLISHED_SPAN)
    counters = {"us_patent": 5_000_000, "us_app": 0, "cn": 0, "ep": 0, "us_tm": 0, "eu_tm": 0}

    for listing_id in range(1, size + 1):
        kind = rng.choices(kinds, kind_weights)[0]
        if kind == "copyright" and not renewals:
            kind = "patent"
        abstract = goods = ""
        cpc: list[str] = []
        nice: list[int] = []
        application = publication = registration = ""
        grant: date | None
        if kind == "patent":
            title, own_abstract, owner = rng.choice(sources.patents)
            abstract = own_abstract if own_abstract and rng.random() < 0.6 else rng.choice(sources.abstracts)
            names = [owner or rng.choice(sources.assignees)]
            if rng.random() < 0.1:
                names.append(rng.choice(sources.assignees))
            section = rng.choices(sections, section_weights)[0]
            cpc = rng.sample(sources.cpc_leaves[section], k=min(rng.randint(1, 3), len(sources.cpc_leaves[section])))
            jurisdiction = rng.choices(["US", "EP", "CN"], [70, 15, 15])[0]
            filing = date(2004, 1, 1) + timedelta(days=rng.randrange(21 * 365))
            granted = filing < today - timedelta(days=3 * 365) or rng.random() < 0.4
            grant = filing + timedelta(days=rng.randrange(700, 1500)) if granted else None
            if grant is not None and grant > today:
                grant = None
            expiry: date | None = _years(filing, 20)
            sub_kind = "invention"
            if jurisdiction == "US":
                counters["us_app"] += 1
                application = f"{13 + counters['us_app'] // 1_000_000:02d}{counters['us_app'] % 1_000_000:06d}"
                if grant is not None:
                    counters["us_patent"] += 1
                    registration = f"{counters['us_patent']:07d}"
            elif jurisdiction == "CN":
                counters["cn"] += 1
                sub_kind = "utility_model" if rng.random() < 0.3 else "invention"
                body = f"{filing.year}{'2' if sub_kind == 'utility_model' else '1'}{counters['cn']:07d}"
                application = f"{body}.{cn_check_digit(body)}"
                if sub_kind == "utility_model":
                    expiry = _years(filing, 10)
            else:
                counters["ep"] += 1
                application = f"{filing.year % 100:02d}{counters['ep']:06d}"
                if grant is not None:
                    publication = f"{1_000_000 + counters['ep']:07d}"
            source_status = "granted" if grant else "pending"
        elif kind == "copyright":
            renewal, oreg, title, author, original, names = renewals.pop()
            jurisdiction, sub_kind = "US", "copyright"
            registration, application = renewal, oreg
            abstract = f"By {author}" if author else ""
            filing, grant = original, None
            expiry = date(original.year + 95, 12, 31)
            source_status = "renewed"
        else:
            # A word mark: the first words of a real title; goods and services: real Nice terms.
            words = rng.choice(renewals or sources.renewals)[2].split() if rng.random() < 0.5 else ""
            words = words or rng.choice(sources.patents)[0].split()
            title = " ".join(words[: rng.randint(1, 3)]).strip(".,;:").upper()[:500] or "MARK"
            picked = rng.sample(sources.nice_terms, k=rng.randint(1, 4))
            nice = sorted({number for number, _ in picked})
            goods = "; ".join(description for _, description in picked)
            names = [rng.choice(sources.assignees) if rng.random() < 0.5 else rng.choice(sources.renewals)[5][0]]
            jurisdiction, sub_kind = rng.choices(["US", "EU"], [60, 40])[0], "trademark"
            filing = date(1995, 1, 1) + timedelta(days=rng.randrange(30 * 365))
            grant = filing + timedelta(days=rng.randrange(250, 700))
            if grant > today:
                grant = None
            if jurisdiction == "US":
                counters["us_tm"] += 1
                application = f"{70_000_000 + counters['us_tm']:08d}"
                registration = f"{3_000_000 + counters['us_tm']:07d}" if grant else ""
            else:
                counters["eu_tm"] += 1
                application = f"{counters['eu_tm'] + 1_000_000:09d}"
            expiry = _years(grant, 10) if grant else None
            while expiry is not None and expiry < today and rng.random() < 0.8:
                expiry = _years(expiry, 10)  # renewed
            source_status = "registered" if grant else "pending"
        if expiry is not None and expiry < today:
            status = "expired"
        elif kind != "copyright" and grant is None:
            status = "pending"
        else:
            status = rng.choices(["in_force", "grace", "lapsed"], [94, 3, 3])[0]
        right_id = listing_id
        rights.add(
            right_id, kind, sub_kind, jurisdiction, application, publication, registration, title[:500], abstract,
            goods, cpc, nice, filing, grant, expiry, status, source_status, source_status.capitalize(), SOURCE, now,
            now, now, "", "", "",
        )  # fmt: skip
        for position, name in enumerate(names):
            owners.add(right_id, name[:300], "", "", position)
        deal_types = sorted(rng.sample(["assignment", "exclusive_licence", "non_exclusive_licence"], rng.randint(1, 3)))
        mode = rng.choices(["fixed", "offers", "on_request"], [40, 30, 30])[0]
        asking = minimum = None
        if mode != "on_request":
            amount = int(10 ** rng.uniform(3, 6.7)) * 100
            asking, minimum = (amount, None) if mode == "fixed" else (amount, amount // 2)
        # Listings arrive over three years, each published after the one before it: ids are
        # given in the order sellers create listings, and a live index writes a listing's entry
        # when it is published, so its rows lie in the order of publication as these do.
        published = first_published + timedelta(seconds=PUBLISHED_SPAN * (listing_id - 1 + rng.random()) / size)
        state = "expired" if status == "expired" else ("reserved" if rng.random() < 0.02 else "published")
        listings.add(
            listing_id, title[:300], "", deal_types, mode, asking, minimum,
            rng.choices(currencies, currency_weights)[0], state, "", published, published, published, published,
            seller_of(names[0]),
        )  # fmt: skip
        links.add(listing_id, right_id, 0)
        report.listings += 1
        report.rights += 1
    for copier in (users, rights, owners, listings, links):
        copier.flush()
    report.sellers = len(sellers)
    with connection.cursor() as cursor:
        for table in ("accounts_user", "listings_right", "listings_listing", "listings_ownerofrecord"):
            highest = f"(SELECT COALESCE(max(id), 1) FROM {table})"  # noqa: S608 - fixed table names
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {highest})")


def _entries_build(*, workers: int) -> int:
    """The search entries of every listing, built by `workers` connections over id ranges."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(min(id), 0), COALESCE(max(id), 0) FROM listings_listing")
        low, high = cursor.fetchone()
    chunk = 50_000
    ranges = [(start, min(start + chunk - 1, high)) for start in range(low, high + 1, chunk)]
    written = [0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with lock:
                    if not ranges or errors:
                        return
                    start, end = ranges.pop(0)
                written_now = search_entries_refresh(listing_ids=range(start, end + 1))
                with lock:
                    written[0] += written_now
        except BaseException as error:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return written[0]


def _secondary_indexes_drop() -> list[list[str]]:
    """Drop the search entries' secondary indexes (rebuilt after the bulk insert, which is several
    times faster than maintaining them row by row); returns the statements that recreate them, in
    steps whose statements may run side by side.

    The index is partitioned: each index is recreated on the parent alone (invalid until every
    partition has its own), then on each partition under a name of ours (two statements creating
    an index on the whole partitioned table at once may pick the same generated name for a
    partition's), then attached partition by partition, which makes the parent's valid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'listings_listingsearchentry' AND i.indexname NOT IN ("
            "  SELECT conname FROM pg_constraint WHERE conrelid = 'listings_listingsearchentry'::regclass)"
        )
        found = cursor.fetchall()
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'listings_listingsearchentry'::regclass ORDER BY 1"
        )
        partitions = [name for (name,) in cursor.fetchall()]
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    parents, children, attaches = [], [], []
    for name, definition in found:
        # "CREATE [UNIQUE] INDEX name ON ONLY public.listings_listingsearchentry USING ..."
        head, using = definition.split(" USING ", 1)
        parents.append(definition)
        for partition in partitions:
            child = f"{partition}_{name}"
            children.append(f"{head.split(' INDEX ', 1)[0]} INDEX {child} ON public.{partition} USING {using}")
            attaches.append(f"ALTER INDEX {name} ATTACH PARTITION {child}")
    # The largest (the text indexes) first, so that the workers finish together.
    children.sort(key=lambda statement: "gin" not in statement.lower())
    return [parents, children, attaches]


def _indexes_check() -> None:
    """Stop the build when an index of the search entries is invalid: every query would then read
    the whole catalogue, and the benchmark would measure that."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid AND indrelid IN ("
            "  SELECT 'listings_listingsearchentry'::regclass UNION ALL "
            "  SELECT inhrelid FROM pg_inherits WHERE inhparent = 'listings_listingsearchentry'::regclass)"
        )
        invalid = [name for (name,) in cursor.fetchall()]
    if invalid:
        raise RuntimeError("These search indexes were left invalid by the build: " + ", ".join(sorted(invalid)))


def _statements_run(steps: list[list[str]], *, workers: int) -> None:
    """Run each step's statements over `workers` connections, one step after the other."""
    for statements in steps:
        _step_run(statements, workers=workers)


def _step_run(statements: list[str], *, workers: int) -> None:
    pending = list(statements)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not pending or errors:
                            return
                        statement = pending.pop(0)
                    cursor.execute(statement)
        except BaseException as error:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def catalogue_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM listings_listingsearchentry")
        return int(cursor.fetchone()[0])
