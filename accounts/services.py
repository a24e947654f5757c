"""Writes to accounts. Views, forms and serializers parse and authorise, then call one of these."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User, api_token_hash

# Writing last_used_at on every request would turn each API read into a write; a minute's
# precision is enough to tell a live key from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)

PROFILE_FIELDS = ("display_name", "organisation", "country", "legal_name", "legal_address")

# An active key per person is plenty for scripts and partners; more is a leak waiting to happen.
MAX_ACTIVE_API_TOKENS = 20


class AccountError(Exception):
    """A refused account action, with a message fit to show the person."""


@transaction.atomic
def profile_update(*, user: User, **changes: str) -> User:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise AccountError(f"These profile fields do not exist: {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*changes])
    return user


@transaction.atomic
def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a key and return it with its record: the only time the key itself exists."""
    name = name.strip()
    if not name:
        raise AccountError("Give the key a name, so that you can tell it apart later.")
    # Lock the user row so that two concurrent requests cannot both pass the cap.
    User.objects.select_for_update().get(pk=user.pk)
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_API_TOKENS:
        raise AccountError(f"You already have {MAX_ACTIVE_API_TOKENS} active keys; revoke one first.")
    key = f"ipm_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:12], key_hash=api_token_hash(key))
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user: User) -> ApiToken:
    if token.user_id != acting_user.pk:
        raise AccountError("That key is not yours.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token for a key, or None. Marks it used (coarsely, see LAST_USED_PRECISION)."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
