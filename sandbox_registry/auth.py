"""The credentials each office asks for, checked the way the office checks them.

ODP and TSDR take an API key in a header; EUIPO and EPO OPS hand out bearer tokens for client
credentials. Any non-empty key or client id is accepted unless `SANDBOX_REGISTRY_API_KEY` is set,
in which case keys and client secrets must equal it. Tokens are signed, so that any sandbox
process (or a restarted one) accepts a token another issued, until it expires.
"""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

TOKEN_LIFETIME_SECONDS = 1200


def _expected_key() -> str:
    return str(getattr(settings, "SANDBOX_REGISTRY_API_KEY", "") or "")


def api_key_valid(key: str | None) -> bool:
    if not key:
        return False
    expected = _expected_key()
    return not expected or key == expected


def client_valid(client_id: str, secret: str) -> bool:
    if not client_id or not secret:
        return False
    expected = _expected_key()
    return not expected or secret == expected


def token_issue(*, office: str, client_id: str) -> str:
    return signing.dumps({"client": client_id}, salt=f"sandbox_registry.{office}")


def token_client(request: HttpRequest, *, office: str) -> str | None:
    """The client a valid bearer token was issued to, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        payload = signing.loads(token.strip(), salt=f"sandbox_registry.{office}", max_age=TOKEN_LIFETIME_SECONDS)
    except signing.BadSignature:
        return None
    client = payload.get("client") if isinstance(payload, dict) else None
    return str(client) if client else None


def basic_credentials(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password
