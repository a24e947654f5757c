"""The one HTTP layer every registry client goes through.

Why one layer: the offices fail in the same few ways (timeouts, 5xx, 429 with Retry-After, an
HTML error page served with status 200, an empty body) and each failure must reach the caller
as a typed error, never as an empty record that a check could read as "nothing wrong". Here
live the timeouts, the retries with backoff, the per-office pacing and the lock that keeps an
office that allows no parallel requests (the USPTO Open Data Portal) from getting any.

Pacing and locks are per office and per process (a threading lock and the time of the last
request); with `REGISTRY_REDIS_LOCKS` on, a Redis lock and a shared last-request time extend
them across processes (Celery workers), so the rate is the office's, not each worker's.

Connections are kept alive between reads: each process and thread keeps its own pool of
connections per office (a worker verifying thousands of rights would otherwise open a TCP
connection, and against the real offices a TLS session, for every answer). Only the
connections are shared: each client gets a fresh session, so no cookie or header set by one
read reaches the next.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from redis.exceptions import RedisError
from requests.adapters import HTTPAdapter

from verification.registries.records import sha256_hex

logger = logging.getLogger(__name__)


# --- errors -------------------------------------------------------------------------------------


class RegistryError(Exception):
    """A register could not give a usable answer. Never a pass: callers retry or send to review."""

    def __init__(self, message: str, *, office: str = "", url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.office = office
        self.url = url
        self.status = status

    def __str__(self) -> str:
        where = f" ({self.office} {self.url})" if self.office or self.url else ""
        return f"{self.args[0]}{where}"


class RegistryUnavailable(RegistryError):
    """Timeouts, refused connections, 5xx after the retries, refused credentials."""


class RegistryNotFound(RegistryError):
    """The office has no right under this number (or refuses the number as malformed)."""


class InvalidRegistryNumber(RegistryNotFound):
    """The number is not in the office's format (or is a number of another kind of right)."""


class RegistryMalformed(RegistryError):
    """The office answered, but not with what its API promises: HTML, empty, bad XML or JSON."""


class RegistryRateLimited(RegistryError):
    """The office keeps answering 429 (or asks us to wait longer than we will block a worker)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# --- policy ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficePolicy:
    """How politely and how patiently we talk to one office."""

    office: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 4  # first try included
    backoff_base: float = 0.5  # seconds; doubled on each retry, with jitter
    backoff_max: float = 8.0
    min_interval: float = 0.0  # seconds between the starts of two requests to this office
    exclusive: bool = False  # no two requests in flight at once
    max_retry_after: float = 60.0  # a longer Retry-After is reported, not slept through


# Defaults fit the real services' published limits; `REGISTRY_HTTP_POLICIES` overrides any field
# per office, e.g. {"tsdr": {"min_interval": 0}} against the sandbox registry.
DEFAULT_POLICIES: dict[str, OfficePolicy] = {
    # ODP: one request at a time per key, and a short pause between them.
    "uspto_odp": OfficePolicy(office="uspto_odp", min_interval=0.2, exclusive=True),
    # TSDR: 60 status requests a minute per key.
    "tsdr": OfficePolicy(office="tsdr", min_interval=1.0),
    # The assignment search is slow; give it room to answer.
    "uspto_assignment": OfficePolicy(office="uspto_assignment", read_timeout=60.0, min_interval=0.5),
    "euipo": OfficePolicy(office="euipo", min_interval=0.2),
    # OPS meters by traffic light; a steady pace keeps us out of the red.
    "epo_ops": OfficePolicy(office="epo_ops", min_interval=0.5),
}


# The setting naming each office's base URL: an office read at the sandbox registry's URL is the
# sandbox, not the office.
BASE_URL_SETTINGS = {
    "uspto_odp": "USPTO_ODP_BASE_URL",
    "tsdr": "USPTO_TSDR_BASE_URL",
    "uspto_assignment": "USPTO_ASSIGNMENT_BASE_URL",
    "euipo": "EUIPO_BASE_URL",
    "epo_ops": "EPO_OPS_BASE_URL",
}


def reads_the_sandbox(office: str) -> bool:
    """Whether `office` is read at the sandbox registry (development, the benchmark)."""
    sandbox = str(settings.SANDBOX_REGISTRY_URL or "").rstrip("/")
    setting = BASE_URL_SETTINGS.get(office)
    base = str(getattr(settings, setting, "") or "") if setting else ""
    return bool(sandbox and base) and (base == sandbox or base.startswith(sandbox + "/"))


def policy_for(office: str) -> OfficePolicy:
    """The office's policy: its published limits, except that the sandbox registry, when it
    stands in for the office and `SANDBOX_REGISTRY_UNPACED` is on, is read without pacing and
    in parallel (the limits are the office's, not the sandbox's); then `REGISTRY_HTTP_POLICIES`."""
    base = DEFAULT_POLICIES.get(office, OfficePolicy(office=office))
    if settings.SANDBOX_REGISTRY_UNPACED and reads_the_sandbox(office):
        base = replace(base, min_interval=0.0, exclusive=False)
    overrides: Mapping[str, Any] = settings.REGISTRY_HTTP_POLICIES.get(office, {})
    return replace(base, **overrides) if overrides else base


# --- per-office gate --------------------------------------------------------------------------------


class _OfficeGate:
    """Process-wide pacing for one office: who may send next, and when."""

    def __init__(self) -> None:
        self.exclusive_lock = threading.Lock()
        self.pacing_lock = threading.Lock()
        self.last_start = 0.0


_gates: dict[str, _OfficeGate] = {}
_gates_lock = threading.Lock()


def _gate(office: str) -> _OfficeGate:
    with _gates_lock:
        return _gates.setdefault(office, _OfficeGate())


@contextmanager
def _redis_lock(office: str, policy: OfficePolicy) -> Iterator[Any]:
    """The cross-process half of the gate, when Redis locks are switched on. Yields the Redis
    client (for the shared last-request time) or None."""
    if not settings.REGISTRY_REDIS_LOCKS or (not policy.exclusive and policy.min_interval <= 0):
        yield None  # nothing to share: no lock to take, no pace to keep
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=policy.connect_timeout)
    hold = policy.connect_timeout + policy.read_timeout + 5
    lock = client.lock(f"registry:{office}:lock", timeout=hold, blocking_timeout=hold * 2)
    try:
        acquired = lock.acquire() if policy.exclusive else True
    except RedisError as exc:
        raise RegistryUnavailable(f"cannot take the cross-process registry lock: {exc}", office=office) from exc
    if not acquired:
        raise RegistryUnavailable("timed out waiting for the cross-process registry lock", office=office)
    try:
        yield client
    finally:
        if policy.exclusive:
            try:
                lock.release()
            except RedisError:
                # The lock expires by itself; losing it late only costs the next caller a wait.
                logger.warning("could not release the registry lock for %s", office)


# --- kept-alive connections ---------------------------------------------------------------------------


_connections = threading.local()


def _connection_pool(office: str) -> HTTPAdapter:
    """This process's and thread's connections to one office. Keyed by the process id too: a
    forked worker must not share its parent's sockets."""
    pid = os.getpid()
    if getattr(_connections, "pid", None) != pid:
        _connections.pid = pid
        _connections.adapters = {}
    adapters: dict[str, HTTPAdapter] = _connections.adapters
    adapter = adapters.get(office)
    if adapter is None:
        # One thread sends one request at a time; a few hosts per office (the token endpoint,
        # a redirect) each keep a connection.
        adapter = adapters[office] = HTTPAdapter(pool_connections=4, pool_maxsize=1)
    return adapter


def registry_session(office: str) -> requests.Session:
    """A fresh session over the kept-alive connections to `office`."""
    session = requests.Session()
    adapter = _connection_pool(office)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# --- responses ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryResponse:
    """A successful answer, kept byte for byte so that the evidence can be stored and hashed."""

    office: str
    url: str
    status: int
    content_type: str
    body: bytes
    read_at: datetime

    @property
    def sha256(self) -> str:
        return sha256_hex(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise RegistryMalformed(f"the answer is not valid JSON: {exc}", office=self.office, url=self.url) from exc


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After is seconds or an HTTP date; answer in seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


# --- the client ----------------------------------------------------------------------------------------

Expect = str  # "json" | "xml" | "any"


class RegistryHttp:
    """Sends requests to one office under its policy. `sleep` and `clock` are injectable so
    that tests can check the waits asked for without spending them."""

    RETRY_STATUSES = frozenset({500, 502, 503, 504})

    def __init__(
        self,
        *,
        office: str,
        policy: OfficePolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = "ip-marketplace-verification/1.0",
    ) -> None:
        self.office = office
        self.policy = policy or policy_for(office)
        self.session = session or registry_session(office)
        self.session.headers.setdefault("User-Agent", user_agent)
        self.sleep = sleep
        self.clock = clock

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "any",
    ) -> RegistryResponse:
        return self.request("GET", url, params=params, headers=headers, expect=expect)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        expect: Expect = "json",
    ) -> RegistryResponse:
        return self.request("POST", url, data=data, headers=headers, auth=auth, expect=expect)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        expect: Expect = "any",
    ) -> RegistryResponse:
        policy = self.policy
        last_error: RegistryError | None = None
        for attempt in range(1, policy.max_attempts + 1):
            try:
                response = self._send(method, url, params=params, data=data, headers=headers, auth=auth)
            except requests.RequestException as exc:
                last_error = RegistryUnavailable(
                    f"network error: {exc.__class__.__name__}: {exc}", office=self.office, url=url
                )
                self._backoff(attempt)
                continue

            status = response.status_code
            if status == 429:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                last_error = RegistryRateLimited(
                    "the office is rate limiting us (429)", retry_after=wait, office=self.office, url=url, status=status
                )
                if wait is not None and wait > policy.max_retry_after:
                    raise last_error
                if attempt < policy.max_attempts:
                    self.sleep(wait if wait is not None else self._backoff_delay(attempt))
                continue
            if status in self.RETRY_STATUSES:
                last_error = RegistryUnavailable(
                    f"the office answered {status}", office=self.office, url=url, status=status
                )
                self._backoff(attempt)
                continue
            if status in (404, 410):
                raise RegistryNotFound(
                    "the office has no record under this number", office=self.office, url=url, status=status
                )
            if status in (400, 422):
                raise RegistryNotFound(
                    f"the office refused the number as malformed ({status}): {_snippet(response.content)}",
                    office=self.office,
                    url=url,
                    status=status,
                )
            if status in (401, 403):
                raise RegistryUnavailable(
                    f"the office refused our credentials ({status}): {_snippet(response.content)}",
                    office=self.office,
                    url=url,
                    status=status,
                )
            if not 200 <= status < 300:
                raise RegistryUnavailable(f"unexpected status {status}", office=self.office, url=url, status=status)
            return self._checked(response, url=url, expect=expect)

        assert last_error is not None
        if isinstance(last_error, RegistryRateLimited):
            raise last_error
        raise RegistryUnavailable(
            f"gave up after {policy.max_attempts} attempts: {last_error.args[0]}",
            office=self.office,
            url=url,
            status=last_error.status,
        ) from last_error

    # -- internals --

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
    ) -> requests.Response:
        policy = self.policy
        gate = _gate(self.office)
        exclusive = gate.exclusive_lock if policy.exclusive else None
        if exclusive is not None:
            exclusive.acquire()
        try:
            with _redis_lock(self.office, policy) as shared:
                self._pace(gate, shared)
                return self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=dict(headers or {}),
                    auth=auth,
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    allow_redirects=True,
                )
        finally:
            if exclusive is not None:
                exclusive.release()

    def _pace(self, gate: _OfficeGate, shared: Any) -> None:
        interval = self.policy.min_interval
        if interval <= 0:
            return
        with gate.pacing_lock:
            wait = gate.last_start + interval - self.clock()
            if shared is not None:
                # Wall-clock time is what processes share; monotonic clocks are per process.
                try:
                    last = float(shared.get(f"registry:{self.office}:last") or 0)
                    wait = max(wait, last + interval - time.time())
                except (ValueError, OSError, RedisError):
                    pass
            if wait > 0:
                self.sleep(wait)
            gate.last_start = self.clock()
            if shared is not None:
                with contextlib.suppress(OSError, RedisError):
                    shared.set(f"registry:{self.office}:last", time.time(), ex=max(1, int(interval * 10)))

    def _backoff_delay(self, attempt: int) -> float:
        policy = self.policy
        delay = min(policy.backoff_max, policy.backoff_base * (2 ** (attempt - 1)))
        # Jitter spreads the retries of many workers hit by the same outage.
        return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    def _backoff(self, attempt: int) -> None:
        if attempt < self.policy.max_attempts:
            self.sleep(self._backoff_delay(attempt))

    def _checked(self, response: requests.Response, *, url: str, expect: Expect) -> RegistryResponse:
        body = response.content or b""
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not body.strip():
            raise RegistryMalformed("the office answered with an empty body", office=self.office, url=url)
        if content_type == "text/html" or looks_like_html(body):
            raise RegistryMalformed(
                f"the office answered with an HTML page instead of data: {_snippet(body)}", office=self.office, url=url
            )
        if expect == "json" and body.lstrip()[:1] not in (b"{", b"["):
            raise RegistryMalformed(
                f"expected JSON, got {content_type or 'no content type'}", office=self.office, url=url
            )
        if expect == "xml" and body.lstrip()[:1] != b"<":
            raise RegistryMalformed(
                f"expected XML, got {content_type or 'no content type'}", office=self.office, url=url
            )
        return RegistryResponse(
            office=self.office,
            url=response.url or url,
            status=response.status_code,
            content_type=content_type,
            body=body,
            read_at=datetime.now(tz=UTC),
        )


def _snippet(body: bytes, limit: int = 160) -> str:
    text = " ".join(body[:2000].decode("utf-8", errors="replace").split())
    return text[:limit]
