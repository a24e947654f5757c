"""`make bench`: build a catalogue of a million listings from real text, serve it with the
production web server setup, and measure the results page.

    python -m bench.run [--only search|money|verification|import] [--size 1000000] [--reuse] [--port 8470]

With no --only, the four parts run in turn, each in its own process and database: the search
benchmark below, then bench.money (issue 4: deals per second through buy, pay, webhook and
funded; ledger_check over a million entries), bench.verification (issue 5: rights verified
against the sandbox registry by the Celery worker; submission-to-verdict time) and bench.imports
(issue 3: a portfolio CSV of 10,000 rows imported by the Celery task). Each part merges its
figures into bench/results/latest.json (the search figures at the top level, the others under
"money", "verification" and "import").

The search part:

Steps, in one run:
1. Migrate the benchmark database (its name must end in "_bench"; DATABASE_URL names it) and
   build the catalogue (bench.catalogue), unless --reuse finds one of the requested size.
2. Start gunicorn as production runs it (marketplace.wsgi behind the production settings, with
   bench.settings adding only a trivial endpoint), on a loopback port, with local values for the
   environment production requires. Nothing caches query results.
3. Warm-up: the concurrent clients of step 5 run the mix for WARMUP_SECONDS, not measured.
4. Latency: every query of the mix (at least 40, in classes) is requested PASSES times, one at a
   time; server-side times come from gunicorn's access log (%(D)s, microseconds in the worker),
   and the CPU time each class costs the web server and PostgreSQL from /proc (on Linux).
5. Throughput: 8 concurrent clients cycle through the mix for --seconds, then the trivial endpoint
   for the same time, against the same server. Meanwhile the CPU time of the web server's
   processes, of PostgreSQL's and of the clients is read from /proc (on Linux), and reported per
   request: where a results page's cost lies, against the trivial request's.
6. Print a table and write bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/marketplace_bench"
# Passes measured over the mix: a class of three queries gets 30 requests, so its p95 is a
# percentile rather than the single slowest request.
PASSES = 10
# Before anything is measured, the clients run the mix for this long (not counted). Each gunicorn
# worker keeps a pool of PostgreSQL connections, and a server process pays for its first touch of
# every shared-buffer page it reads (a page fault: a deep page read 27 ms warm and 70-80 ms in a
# fresh connection) and for filling its catalogue caches; a running site's pooled connections have
# long paid both. Under the concurrent clients every worker and pooled connection serves the mix.
WARMUP_SECONDS = 15.0
CLIENTS = 8
CLASS_HEADER = "X-Bench-Class"
TARGET_P95_MS = 50.0
TARGET_THROUGHPUT_SHARE = 0.10
TARGET_BUILD_SECONDS = 15 * 60


@dataclass
class Query:
    klass: str
    params: dict[str, str]

    @property
    def path(self) -> str:
        return "/listings/" + ("?" + urlencode(self.params) if self.params else "")


def _django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.development")
    import django

    django.setup()


def query_mix() -> list[Query]:
    """The query mix. Owner names and office numbers are read from the catalogue (the most
    frequent owners; numbers of a few rights in different offices and spellings)."""
    from django.db import connection

    mix = [
        Query("common term", {"q": "system"}),
        Query("common term", {"q": "neural network"}),
        Query("common term", {"q": "method"}),
        Query("common term", {"q": "apparatus"}),
        Query("common term", {"q": "device"}),
        Query("rare term", {"q": "gyroscope"}),
        Query("rare term", {"q": "electrolyte"}),
        Query("rare term", {"q": "symphony"}),
        Query("rare term", {"q": "pitching"}),
        Query("phrase", {"q": '"neural network"'}),
        Query("phrase", {"q": '"baseball bat"'}),
        Query("phrase", {"q": '"solar cell"'}),
        Query("several terms", {"q": "wireless sensor network"}),
        Query("several terms", {"q": "image classification convolutional"}),
        Query("several terms", {"q": "lithium battery electrode"}),
        Query("exclusion", {"q": "network -neural"}),
        Query("exclusion", {"q": "baseball -bat"}),
        Query("exclusion", {"q": "robot -arm"}),
        Query("no query, facet", {"kind": "trademark"}),
        Query("no query, facet", {"jurisdiction": "EU"}),
        Query("no query, facet", {"status": "in_force"}),
        Query("no query, facet", {"cpc_section": "G"}),
        Query("no query, facet", {"cpc_class": "H04"}),
        Query("no query, facet", {"nice": "25"}),
        Query("no query, facet", {"deal_type": "exclusive_licence"}),
        Query("no query, facet", {"price": "100k_1m"}),
        Query("no query, facet", {"term": "over_15"}),
        Query("no query, facet", {"verified": "1"}),
        Query("front page", {}),
        Query("sort", {"sort": "price_asc"}),
        Query("sort", {"sort": "price_desc"}),
        Query("sort", {"sort": "term_desc"}),
        Query("sort", {"q": "system", "sort": "newest"}),
        Query("sort", {"q": "neural network", "sort": "price_asc"}),
        Query("query and facets", {"q": "system", "kind": "patent", "jurisdiction": "CN"}),
        Query("query and facets", {"q": "battery", "cpc_section": "H", "price": "under_10k"}),
        # A narrow facet value with a common word: a patent class in one office, and a trademark
        # class (clothing), whose set counted for the other facets is close to the exact limit.
        Query("query and facets", {"q": "method", "cpc_class": "A63", "jurisdiction": "US"}),
        Query("query and facets", {"q": "system", "kind": "trademark", "nice": "25"}),
        Query("deep page", {"page": "400"}),
        Query("deep page", {"q": "system", "sort": "newest", "page": "300"}),
        Query("deep page", {"q": "neural network", "page": "40"}),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM listings_ownerofrecord GROUP BY name HAVING count(*) BETWEEN 20 AND 20000 "
            "ORDER BY count(*) DESC, name LIMIT 3"
        )
        for (name,) in cursor.fetchall():
            mix.append(Query("owner name", {"q": name}))
        spellings = [
            ("US", "patent", "registration_number", lambda n: f"US {int(n):,}"),
            ("US", "patent", "application_number", lambda n: f"{n[:2]}/{n[2:5]},{n[5:]}"),
            ("CN", "patent", "application_number", lambda n: f"CN{n}"),
            ("US", "trademark", "application_number", lambda n: n),
            ("EU", "trademark", "application_number", lambda n: f"EUTM {n}"),
        ]
        for jurisdiction, kind, column, spell in spellings:
            cursor.execute(
                f"SELECT {column} FROM listings_right WHERE jurisdiction = %s AND kind = %s AND {column} <> '' "  # noqa: S608
                "ORDER BY id LIMIT 1 OFFSET 777",
                [jurisdiction, kind],
            )
            row = cursor.fetchone()
            if row:
                mix.append(Query("office number", {"q": spell(row[0])}))
    return mix


def _request(port: int, path: str, klass: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # Production sits behind a TLS-terminating proxy that says so.
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https", CLASS_HEADER: klass})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _server_start(*, port: int, database_url: str, log: Path, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "REDIS_URL": env.get("REDIS_URL", "redis://127.0.0.1:63799/0"),
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
            "STRIPE_API_BASE": env.get("STRIPE_API_BASE", "http://127.0.0.1:8420"),
            "STATIC_ROOT": str(BASE_DIR / ".local" / "bench-static"),
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True
    )
    log.unlink(missing_ok=True)
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        "marketplace.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        str(log),
        "--access-logformat",
        f'%({{{CLASS_HEADER.lower()}}}i)s|%(s)s|%(D)s|"%(r)s"',
    ]
    process = subprocess.Popen(argv, cwd=BASE_DIR, env=env, start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _request(port, "/bench/trivial/", "warmup") == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def _server_stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _server_times(log: Path) -> dict[str, list[float]]:
    """Milliseconds per query class, from the access log; a non-2xx/3xx answer is an error."""
    times: dict[str, list[float]] = {}
    pattern = re.compile(r"^(?P<klass>[^|]*)\|(?P<status>\d+)\|(?P<micros>\d+)\|")
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = pattern.match(line)
        if not match or match["klass"] in {"-", "warmup"}:
            continue
        if not match["status"].startswith(("2", "3")):
            raise SystemExit(f"The server answered {match['status']}: {line}")
        times.setdefault(match["klass"], []).append(int(match["micros"]) / 1000)
    return times


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


# The processes whose CPU time a throughput run reports, by what their command line holds.
CPU_GROUPS = (("web server", "gunicorn"), ("PostgreSQL", "postgres"))


def _cpu_seconds() -> dict[str, float]:
    """The CPU time (user and system) used so far by the machine's gunicorn and PostgreSQL
    processes and by this one (the clients), by group; {} where /proc cannot tell (not Linux)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return {}
    groups = {name: 0.0 for name, _ in CPU_GROUPS} | {"clients": 0.0}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if int(entry.name) == os.getpid():
                # This process's threads come and go with each throughput run: only its stat keeps
                # the time of the ended ones.
                groups["clients"] += _process_cpu_seconds(entry)
                continue
            for name, marker in CPU_GROUPS:
                if marker in command:
                    groups[name] += _process_cpu_seconds(entry, precise=True)
                    break
        except OSError:
            continue  # the process ended meanwhile
    return groups


def _process_cpu_seconds(entry: Path, *, precise: bool = False) -> float:
    """A process's CPU time so far. Its stat counts in ticks (10 ms), too coarse for one request;
    with `precise`, its threads' schedstat is read instead where the kernel keeps it (nanoseconds,
    but without the time of threads that have ended)."""
    if precise:
        try:
            return sum(int((task / "schedstat").read_text().split()[0]) for task in (entry / "task").iterdir()) / 1e9
        except (OSError, ValueError, IndexError):
            pass  # no schedstat here: the ticks
    # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measured(port: int, paths: list[tuple[str, str]], seconds: float) -> tuple[float, dict[str, float]]:
    """Requests per second of a throughput run, and the CPU milliseconds per request of each
    group of processes while it ran (empty where /proc cannot tell)."""
    before = _cpu_seconds()
    started = time.monotonic()
    rps = _throughput(port, paths, seconds)
    requests = rps * (time.monotonic() - started)
    after = _cpu_seconds()
    cpu = {name: round((after[name] - before[name]) / requests * 1000, 2) for name in after if requests}
    return rps, cpu


def _latency_run(port: int, mix: list[Query]) -> dict[str, dict[str, float]]:
    """Request every query of the mix PASSES times, one at a time (the server logs the latency),
    and return the CPU milliseconds per request of the web server's and PostgreSQL's processes by
    query class: where each class's cost lies."""
    readable = bool(_cpu_seconds())
    spent: dict[str, dict[str, float]] = {}
    requests: dict[str, int] = {}
    for _ in range(PASSES):
        for query in mix:
            before = _cpu_seconds()
            _request(port, query.path, query.klass)
            after = _cpu_seconds()
            totals = spent.setdefault(query.klass, {name: 0.0 for name, _ in CPU_GROUPS})
            for name in totals:
                totals[name] += after.get(name, 0.0) - before.get(name, 0.0)
            requests[query.klass] = requests.get(query.klass, 0) + 1
    if not readable:
        return {}
    return {
        klass: {name: round(seconds / requests[klass] * 1000, 2) for name, seconds in totals.items()}
        for klass, totals in spent.items()
    }


def _throughput(port: int, paths: list[tuple[str, str]], seconds: float) -> float:
    stop = time.monotonic() + seconds
    done = [0]
    lock = threading.Lock()
    errors: list[str] = []

    def client(offset: int) -> None:
        for path, klass in itertools.islice(itertools.cycle(paths), offset, None):
            if time.monotonic() >= stop or errors:
                return
            try:
                status = _request(port, path, klass)
            except OSError as error:
                errors.append(str(error))
                return
            if status >= 400:
                errors.append(f"{status} for {path}")
                return
            with lock:
                done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(index * 5,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"Throughput run failed: {errors[0]}")
    return done[0] / (time.monotonic() - started)


PARTS = ("search", "money", "verification", "import")


def results_merge(key: str | None, values: dict[str, Any]) -> None:
    """Write one part's figures into latest.json, keeping the other parts' (under `key`; the
    search figures, which came first, at the top level)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "latest.json"
    current: dict[str, Any] = {}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            current = {}
    if key is None:
        kept = {part: current[part] for part in PARTS[1:] if part in current}
        current = {**values, **kept}
    else:
        current[key] = values
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")


def _part_run(options: argparse.Namespace, argv: list[str] | None) -> int:
    """All parts in turn, or the money or the verification part."""
    if options.only == "all":
        # Each part in its own process: each has its own database, and Django starts once.
        own = [arg for arg in (argv if argv is not None else sys.argv[1:]) if not arg.startswith("--only")]
        for part in PARTS:
            command = [sys.executable, "-m", "bench.run", "--only", part, *own]
            if subprocess.run(command, cwd=BASE_DIR, check=False).returncode:  # noqa: S603
                return 1
        _print_all(json.loads((RESULTS_DIR / "latest.json").read_text(encoding="utf-8")))
        return 0
    if options.only == "money":
        from bench.money import DEFAULT_DATABASE_URL as MONEY_DATABASE_URL
        from bench.money import money_print, money_run

        money = money_run(
            database_url=os.environ.get("BENCH_MONEY_DATABASE_URL", MONEY_DATABASE_URL),
            deals=options.deals,
            clients=options.clients,
            ledger_entries=options.ledger_entries,
        )
        return _part_report("money", money, money_print)
    if options.only == "verification":
        from bench.verification import DEFAULT_DATABASE_URL as VERIFICATION_DATABASE_URL
        from bench.verification import verification_print, verification_run

        verification = verification_run(
            database_url=os.environ.get("BENCH_VERIFICATION_DATABASE_URL", VERIFICATION_DATABASE_URL),
            rights=options.rights,
            workers=options.verification_workers,
        )
        return _part_report("verification", verification, verification_print)
    if options.only == "import":
        from bench.imports import DEFAULT_DATABASE_URL as IMPORT_DATABASE_URL
        from bench.imports import import_print, import_run

        imported = import_run(
            database_url=os.environ.get("BENCH_IMPORT_DATABASE_URL", IMPORT_DATABASE_URL), rows=options.rows
        )
        return _part_report("import", imported, import_print)
    return 2


def _part_report(key: str, figures: dict[str, Any], printer: Callable[[dict[str, Any]], None]) -> int:
    """Stamp one part's figures, merge them into latest.json under `key` and print them."""
    figures["when"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
    results_merge(key, figures)
    print()
    printer(figures)
    print(f"Written: {RESULTS_DIR / 'latest.json'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[*PARTS, "all"], default="all", help="which part to run (default: all)")
    parser.add_argument("--deals", type=int, default=1000, help="money: deals through buy, pay, webhook, funded")
    parser.add_argument("--clients", type=int, default=4, help="money: concurrent buyers")
    parser.add_argument("--ledger-entries", type=int, default=1_000_000, help="money: entries in the checked ledger")
    parser.add_argument("--rights", type=int, default=10_000, help="verification: rights verified")
    parser.add_argument("--rows", type=int, default=10_000, help="import: rows of the imported portfolio")
    parser.add_argument("--verification-workers", type=int, default=4, help="verification: Celery worker processes")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep a catalogue of the requested size if present")
    parser.add_argument("--port", type=int, default=8470)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each throughput run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (as the Dockerfile runs it)")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.only != "search":
        return _part_run(options, argv)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    _database_create(database_url)
    _django_setup(database_url)
    from django.core.management import call_command

    from bench.catalogue import TEXT_NOTICE, catalogue_build, catalogue_size

    call_command("migrate", verbosity=0)
    call_command("load_classification", verbosity=0)
    build_seconds: float | None = None
    if options.reuse and catalogue_size() == options.size:
        print(f"==> Reusing the catalogue of {options.size:,} listings in {database_url}. {TEXT_NOTICE}")
    else:
        print(f"==> Building a catalogue of {options.size:,} listings in {database_url}. {TEXT_NOTICE}")
        report = catalogue_build(size=options.size, progress=lambda message: print(f"    {message}", flush=True))
        build_seconds = report.total_seconds
        print(f"    built in {build_seconds:.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items()))
    mix = query_mix()
    size = catalogue_size()
    from django.db import connections

    connections.close_all()

    log = BASE_DIR / ".local" / "log" / "bench-access.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"==> Serving with gunicorn ({options.workers} workers, production settings) on 127.0.0.1:{options.port}")
    server = _server_start(port=options.port, database_url=database_url, log=log, workers=options.workers)
    try:
        print(f"==> Warm-up: {CLIENTS} clients for {WARMUP_SECONDS:.0f} s on the mix, not measured")
        _throughput(options.port, [(query.path, "warmup") for query in mix], WARMUP_SECONDS)
        print(f"==> Latency: {len(mix)} queries x {PASSES} passes, one at a time")
        class_cpu = _latency_run(options.port, mix)
        time.sleep(1)  # let the access log flush
        times = _server_times(log)
        paths = [(query.path, "throughput") for query in mix]
        print(
            f"==> Throughput: {CLIENTS} clients for {options.seconds:.0f} s on the results page, then the trivial one"
        )
        page_rps, page_cpu = _measured(options.port, paths, options.seconds)
        trivial_rps, trivial_cpu = _measured(options.port, [("/bench/trivial/", "trivial")], options.seconds)
    finally:
        _server_stop(server)

    classes = {}
    for klass, values in times.items():
        classes[klass] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(_percentile(values, 0.95), 1),
            # CPU milliseconds per request by group of processes ({} where /proc cannot tell).
            "cpu_ms": class_cpu.get(klass, {}),
        }
    every = [value for values in times.values() for value in values]
    result = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "catalogue_size": size,
        "text": TEXT_NOTICE,
        "build_seconds": round(build_seconds, 1) if build_seconds is not None else None,
        "queries_in_mix": len(mix),
        "passes_measured": PASSES,
        "classes": classes,
        "all_queries": {"p50_ms": round(statistics.median(every), 1), "p95_ms": round(_percentile(every, 0.95), 1)},
        "throughput": {
            "clients": CLIENTS,
            "results_page_rps": round(page_rps, 1),
            "trivial_rps": round(trivial_rps, 1),
            "share": round(page_rps / trivial_rps, 3) if trivial_rps else None,
            # CPU milliseconds per request by group of processes ({} where /proc cannot tell).
            "cpu_ms_per_request": {"results_page": page_cpu, "trivial": trivial_cpu},
        },
        "server": f"gunicorn marketplace.wsgi, {options.workers} sync workers, "
        "bench.settings (production settings plus the trivial URL)",
        "queries": [{"class": query.klass, "path": query.path} for query in mix],
    }
    results_merge(None, result)
    _print_table(result)
    return 0


def _print_table(result: dict[str, Any]) -> None:
    print()
    print(f"Catalogue: {result['catalogue_size']:,} listings. {result['text']}")
    if result["build_seconds"] is not None:
        verdict = "ok" if result["build_seconds"] <= TARGET_BUILD_SECONDS else "MISSED"
        print(f"Build: {result['build_seconds']:.0f} s (target {TARGET_BUILD_SECONDS} s: {verdict})")
    # CPU per request of each class, one request at a time: the web server's and PostgreSQL's.
    cpu_header = f" {'CPU web':>8} {'CPU db':>7}"
    print(
        f"{'query class':<20} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}{cpu_header}"
        f"  target p95 <= {TARGET_P95_MS:.0f} ms"
    )
    for klass, row in sorted(result["classes"].items()):
        verdict = "ok" if row["p95_ms"] <= TARGET_P95_MS else "MISSED"
        cpu = row.get("cpu_ms") or {}
        cpu_text = f" {cpu['web server']:>8.1f} {cpu['PostgreSQL']:>7.1f}" if cpu else f" {'-':>8} {'-':>7}"
        print(f"{klass:<20} {row['requests']:>8} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}{cpu_text}  {verdict}")
    print(f"{'all':<20} {'':>8} {result['all_queries']['p50_ms']:>8.1f} {result['all_queries']['p95_ms']:>8.1f}")
    throughput = result["throughput"]
    verdict = "ok" if (throughput["share"] or 0) >= TARGET_THROUGHPUT_SHARE else "MISSED"
    print(
        f"Throughput ({throughput['clients']} clients): results page {throughput['results_page_rps']:.1f}/s, "
        f"trivial {throughput['trivial_rps']:.1f}/s, share {throughput['share']:.1%} (target 10%: {verdict})"
    )
    cpu = throughput.get("cpu_ms_per_request") or {}
    for label, key in (("results page", "results_page"), ("trivial", "trivial")):
        if cpu.get(key):
            groups = cpu[key]
            parts = ", ".join(f"{name} {value:.2f}" for name, value in groups.items())
            print(f"CPU ms per request, {label}: {parts}; {sum(groups.values()):.2f} in all")
    print(f"Written: {RESULTS_DIR / 'latest.json'}")


def _print_all(result: dict[str, Any]) -> None:
    """The parts' figures together, as latest.json holds them."""
    from bench.money import money_print
    from bench.verification import verification_print

    _print_table(result)
    if "money" in result:
        money_print(result["money"])
    if "verification" in result:
        verification_print(result["verification"])
    if "import" in result:
        from bench.imports import import_print

        import_print(result["import"])


def _database_create(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    if not name.endswith("_bench"):
        raise SystemExit(f"The benchmark database's name must end in '_bench' (got {name!r}).")
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
        # Per-database settings for the benchmark's queries (the server's own are in devstack).
        settings = (
            "jit = off",
            "max_parallel_workers_per_gather = 0",
            "work_mem = '32MB'",
            "synchronize_seqscans = off",
        )
        for setting in settings:
            admin.execute(f'ALTER DATABASE "{name}" SET {setting}')


if __name__ == "__main__":
    sys.exit(main())
