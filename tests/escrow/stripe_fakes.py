"""A stand-in for Stripe at the HTTP layer, for what localstripe lacks: Connect (accounts,
account links, transfers), balance transactions filtered by date, a fixed list of events, and
Stripe's documented idempotency rule.

It serves Stripe's real objects (from `stripe/fixtures3.json` in the shared data, read by path)
with the fields of each request applied, on a loopback port; the SDK reaches it through
STRIPE_API_BASE, so the code under test is the production code path. Idempotency, as Stripe
documents it: a POST with an Idempotency-Key already seen, on the same endpoint with the same
parameters, gets the first response again; with other parameters, a 400 `idempotency_error`.

A test can make it lose responses: `drop_responses = n` applies the next n requests, then
closes the connection without answering, as a timeout or a network cut after Stripe moved the
money would.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings

JSON = dict[str, Any]


def fixtures_path() -> Path:
    return Path(settings.SHARED_DATA_DIR) / "stripe" / "fixtures3.json"


def events_dir() -> Path:
    return Path(settings.SHARED_DATA_DIR) / "stripe" / "events"


def form_decode(pairs: list[tuple[str, str]]) -> JSON:
    """Stripe's form encoding ('metadata[deal]=1', 'types[0]=card') back into nested values."""
    result: JSON = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists_restore(result)


def _lists_restore(node: Any) -> Any:
    if isinstance(node, dict):
        restored = {key: _lists_restore(value) for key, value in node.items()}
        if restored and all(key.isdigit() for key in restored):
            return [restored[key] for key in sorted(restored, key=int)]
        return restored
    return node


class StripeHTTPError(Exception):
    def __init__(self, status: int, error: JSON) -> None:
        super().__init__(error.get("message"))
        self.status = status
        self.error = error


def _missing(kind: str, object_id: str) -> StripeHTTPError:
    return StripeHTTPError(
        404,
        {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such {kind}: '{object_id}'",
        },
    )


def _invalid(message: str, param: str = "") -> StripeHTTPError:
    return StripeHTTPError(
        400, {"type": "invalid_request_error", "code": "parameter_invalid", "message": message, "param": param}
    )


@dataclass
class FakeStripe:
    resources: JSON
    accounts: dict[str, JSON] = field(default_factory=dict)
    transfers: dict[str, JSON] = field(default_factory=dict)
    balance_transactions: dict[str, JSON] = field(default_factory=dict)
    events: list[JSON] = field(default_factory=list)
    # key -> (endpoint and parameters, status, body)
    idempotency: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    # Every request seen: (method, path, idempotency key or "").
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    drop_responses: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # --- Objects --------------------------------------------------------------------------

    def _new(self, kind: str, prefix: str, **fields: Any) -> JSON:
        obj = copy.deepcopy(self.resources[kind])
        obj.update(fields)
        obj["id"] = f"{prefix}{secrets.token_hex(8)}"
        if "created" in obj:
            obj["created"] = int(time.time())
        return obj

    def balance_transaction_add(self, **fields: Any) -> JSON:
        txn = self._new("balance_transaction", "txn_", **fields)
        txn.setdefault("fee", 0)
        if "created" in fields:
            txn["created"] = fields["created"]
        txn["net"] = txn["amount"] - txn["fee"]
        self.balance_transactions[txn["id"]] = txn
        return txn

    def _account_create(self, params: JSON) -> JSON:
        account = self._new(
            "account",
            "acct_",
            email=params.get("email"),
            country=params.get("country", "US"),
            type=params.get("type", "express"),
            metadata=params.get("metadata", {}),
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
        )
        account["capabilities"] = dict.fromkeys(params.get("capabilities", {}), "inactive")
        self.accounts[account["id"]] = account
        return account

    def _account_link_create(self, params: JSON) -> JSON:
        account_id = params.get("account", "")
        if account_id not in self.accounts:
            raise _missing("account", account_id)
        for name in ("refresh_url", "return_url", "type"):
            if not params.get(name):
                raise _invalid(f"Missing required param: {name}.", name)
        link = copy.deepcopy(self.resources["account_link"])
        now = int(time.time())
        link.update(
            created=now,
            expires_at=now + 300,
            url=f"https://connect.stripe.com/setup/e/{account_id}/{secrets.token_urlsafe(9)}",
        )
        return link

    def _transfer_create(self, params: JSON) -> JSON:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise _invalid("Invalid integer: amount", "amount") from None
        if amount <= 0:
            raise _invalid("This value must be greater than or equal to 1.", "amount")
        destination = params.get("destination", "")
        if destination not in self.accounts:
            raise _missing("destination", destination)
        currency = params.get("currency", "")
        transfer = self._new(
            "transfer",
            "tr_",
            amount=amount,
            currency=currency,
            destination=destination,
            transfer_group=params.get("transfer_group"),
            metadata=params.get("metadata", {}),
        )
        txn = self.balance_transaction_add(
            amount=-amount,
            currency=currency,
            type="transfer",
            reporting_category="transfer",
            source=transfer["id"],
            description=None,
        )
        transfer["balance_transaction"] = txn["id"]
        self.transfers[transfer["id"]] = transfer
        return transfer

    def _list(self, objects: list[JSON], query: JSON, url: str) -> JSON:
        created = query.get("created", {})
        selected = [
            obj
            for obj in objects
            if ("gte" not in created or obj["created"] >= int(created["gte"]))
            and ("gt" not in created or obj["created"] > int(created["gt"]))
            and ("lt" not in created or obj["created"] < int(created["lt"]))
            and ("lte" not in created or obj["created"] <= int(created["lte"]))
        ]
        # Stripe lists newest first.
        selected.sort(key=lambda obj: (obj["created"], obj["id"]), reverse=True)
        if "starting_after" in query:
            ids = [obj["id"] for obj in selected]
            selected = selected[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        return {"object": "list", "url": url, "has_more": len(selected) > limit, "data": selected[:limit]}

    # --- Routing ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: JSON) -> JSON:
        if method == "POST" and path == "/v1/accounts":
            return self._account_create(params)
        if method == "POST" and path == "/v1/account_links":
            return self._account_link_create(params)
        if method == "POST" and path == "/v1/transfers":
            return self._transfer_create(params)
        if method == "GET" and path == "/v1/balance_transactions":
            return self._list(list(self.balance_transactions.values()), params, path)
        if method == "GET" and path == "/v1/events":
            return self._list(self.events, params, path)
        for prefix, table, kind in (
            ("/v1/accounts/", self.accounts, "account"),
            ("/v1/transfers/", self.transfers, "transfer"),
            ("/v1/balance_transactions/", self.balance_transactions, "balance_transaction"),
        ):
            if method == "GET" and path.startswith(prefix):
                object_id = path.removeprefix(prefix)
                if object_id not in table:
                    raise _missing(kind, object_id)
                return table[object_id]
        raise StripeHTTPError(
            404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})."}
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(raw if method == "POST" else parts.query, keep_blank_values=True)
        key = self.headers.get("Idempotency-Key", "") if method == "POST" else ""
        with fake.lock:
            fake.requests.append((method, parts.path, key))
            if not self.headers.get("Authorization", "").startswith("Bearer sk_"):
                error = {"type": "invalid_request_error", "message": "Invalid API Key provided."}
                return self._answer(401, json.dumps({"error": error}).encode())
            request_fingerprint = json.dumps([parts.path, sorted(pairs)])
            if key and key in fake.idempotency:
                first_fingerprint, status, body = fake.idempotency[key]
                if first_fingerprint != request_fingerprint:
                    error = {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same parameters they "
                        "were first used with. Try using a key other than '" + key + "' if you meant to execute "
                        "a different request.",
                    }
                    return self._answer(400, json.dumps({"error": error}).encode())
                return self._answer(status, body, {"Idempotent-Replayed": "true", "Idempotency-Key": key})
            try:
                status, payload = 200, fake.handle(method, parts.path, form_decode(pairs))
            except StripeHTTPError as error:
                status, payload = error.status, {"error": error.error}
            body = json.dumps(payload).encode()
            if key:
                fake.idempotency[key] = (request_fingerprint, status, body)
            if fake.drop_responses > 0:
                fake.drop_responses -= 1
                # Applied, but the answer never reaches the caller.
                self.close_connection = True
                return None
        self._answer(status, body)
        return None

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe


@contextmanager
def fake_stripe_running() -> Iterator[FakeStripe]:
    """A stand-in on a loopback port for the duration of the block."""
    resources = json.loads(fixtures_path().read_text())["resources"]
    fake = FakeStripe(resources=resources)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def webhook_signature(payload: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header as Stripe computes it: HMAC-SHA256 of 't.payload'."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"
