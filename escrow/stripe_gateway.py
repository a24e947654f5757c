"""The one module that speaks to Stripe (the only import of the `stripe` SDK in the project).

Everything else calls these functions in the domain's words and gets back plain dataclasses and
typed exceptions, never SDK objects:

- `CardDeclined`: the buyer's card was refused; tell the person, try another card.
- `StripeUnavailable`: Stripe could not be reached, timed out or failed on its side; the outcome
  is unknown, so retry later WITH THE SAME idempotency key (Stripe then answers with the first
  outcome and moves the money once).
- `StripeInvalidRequest` (and its `StripeIdempotencyConflict`): a bug or bad data on our side;
  retrying the same request cannot succeed.
- `WebhookRefused`: a webhook whose signature, age or shape is wrong.

Every call that moves money goes through `money_call`, which commits its idempotency key
(derived by the caller from the business step, e.g. f"deal:{deal.pk}:release") before the
request leaves, and its outcome after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction

from escrow.models.stripe import StripeRequest, StripeRequestState
from marketplace.money import Money, MoneyError

logger = logging.getLogger(__name__)

# Stripe's own default tolerance, named: a signed webhook older than this is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300
# Timeouts and retries come from settings (STRIPE_TIMEOUT_SECONDS, STRIPE_MAX_NETWORK_RETRIES): a
# money call that times out is retried with the same key, and the SDK retries connection errors,
# 409 and 5xx itself, with the same idempotency key.

JSON = dict[str, Any]


# --- Errors ---------------------------------------------------------------------------------


class StripeGatewayError(Exception):
    """A Stripe call that did not succeed; the message is fit for logs and staff."""

    kind = "error"

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class CardDeclined(StripeGatewayError):
    kind = "card_declined"


class StripeUnavailable(StripeGatewayError):
    """Unknown outcome: retry with the same idempotency key."""

    kind = "unavailable"


class StripeInvalidRequest(StripeGatewayError):
    kind = "invalid_request"


class StripeIdempotencyConflict(StripeInvalidRequest):
    """The idempotency key was already used with other parameters."""

    kind = "idempotency_conflict"


class StripeConfigurationError(StripeGatewayError):
    """Wrong or missing API key, or a permission the account lacks."""

    kind = "configuration"


class WebhookRefused(Exception):
    """A webhook that is not Stripe's, too old, or not an event; nothing may be stored."""


_ERROR_KINDS: dict[str, type[StripeGatewayError]] = {
    cls.kind: cls
    for cls in (
        StripeGatewayError,
        CardDeclined,
        StripeUnavailable,
        StripeInvalidRequest,
        StripeIdempotencyConflict,
        StripeConfigurationError,
    )
}


def _error_translate(error: stripe.StripeError) -> StripeGatewayError:
    status = error.http_status
    code = error.code or ""
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.CardError):
        return CardDeclined(message, code=code, http_status=status)
    if isinstance(error, stripe.IdempotencyError):
        return StripeIdempotencyConflict(message, code=code, http_status=status)
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)) or (status is not None and status >= 500):
        return StripeUnavailable(message, code=code, http_status=status)
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        return StripeConfigurationError(message, code=code, http_status=status)
    if isinstance(error, stripe.InvalidRequestError) or (status is not None and 400 <= status < 500):
        return StripeInvalidRequest(message, code=code, http_status=status)
    return StripeUnavailable(message, code=code, http_status=status)


# --- The client -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _client_for(
    api_key: str, api_base: str, timeout: tuple[float, float], max_network_retries: int
) -> stripe.StripeClient:
    # Development and tests point every Stripe host at localstripe (or a test's stand-in).
    hosts = {"api": api_base, "connect": api_base, "files": api_base} if api_base else {}
    return stripe.StripeClient(
        api_key,
        base_addresses=hosts,  # type: ignore[arg-type]
        max_network_retries=max_network_retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _client() -> stripe.StripeClient:
    """The client for the current settings (cached per configuration, so tests may switch)."""
    timeout = tuple(settings.STRIPE_TIMEOUT_SECONDS)
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or "",
        (float(timeout[0]), float(timeout[-1])),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def _as_json(obj: stripe.StripeObject) -> JSON:
    return obj.to_dict(recursive=True, for_json=True)


def _request(call: Callable[[], stripe.StripeObject]) -> JSON:
    try:
        return _as_json(call())
    except stripe.StripeError as error:
        raise _error_translate(error) from error


# --- Idempotent money calls -----------------------------------------------------------------


def _params_hash(params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def money_call(*, key: str, purpose: str, params: Mapping[str, Any], call: Callable[[], JSON]) -> JSON:
    """Make a Stripe call that moves money exactly once under `key`; return Stripe's answer.

    1. In its own committed transaction, record the key with the parameters' hash (or find it).
       A key already used with other parameters is refused here, before Stripe is asked.
    2. Already succeeded: return the stored answer without calling (Stripe forgets keys after
       24 hours; we do not). Already refused for good: raise the same error again.
    3. Otherwise call, with the same key as every earlier attempt, and record the outcome. An
       unknown outcome (StripeUnavailable) leaves the key pending for the next retry.

    Must not run inside a transaction: the key must be committed before the request leaves,
    and no database lock may be held while waiting on the network.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise StripeInvalidRequest("An idempotency key has 1 to 255 characters, derived from the business step.")
    params_hash = _params_hash(params)
    with transaction.atomic(durable=True):
        record, _ = StripeRequest.objects.select_for_update().get_or_create(
            idempotency_key=key, defaults={"purpose": purpose, "params_hash": params_hash}
        )
        if record.params_hash != params_hash or record.purpose != purpose:
            raise StripeIdempotencyConflict(
                f"The idempotency key {key!r} was already used for {record.purpose} with other parameters; "
                "a different money movement needs its own key."
            )
        if record.state == StripeRequestState.SUCCEEDED and record.response is not None:
            return dict(record.response)
        if record.state == StripeRequestState.FAILED:
            raise _ERROR_KINDS.get(record.error_kind, StripeGatewayError)(record.error, code="replayed")
        record.attempts += 1
        record.save(update_fields=["attempts", "updated_at"])

    try:
        response = call()
    except StripeGatewayError as error:
        final = not isinstance(error, StripeUnavailable)
        StripeRequest.objects.filter(pk=record.pk).update(
            state=StripeRequestState.FAILED if final else StripeRequestState.PENDING,
            error_kind=error.kind,
            error=str(error),
        )
        raise
    object_id = str(response.get("id") or "")
    if not object_id:
        # Keep the key pending: a retry returns Stripe's first answer, which we can look at then.
        raise StripeUnavailable(f"Stripe answered {purpose} without an object id.")
    StripeRequest.objects.filter(pk=record.pk).update(
        state=StripeRequestState.SUCCEEDED, response_object_id=object_id, response=response, error_kind="", error=""
    )
    return response


# --- Results ----------------------------------------------------------------------------------


def _money_of(amount: object, currency: object) -> Money:
    try:
        return Money(int(amount), str(currency).upper())  # type: ignore[call-overload]
    except (MoneyError, TypeError, ValueError) as error:
        message = f"Stripe answered an amount we cannot read: {amount!r} {currency!r} ({error})."
        raise StripeInvalidRequest(message) from None


def _timestamp(value: object) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)  # type: ignore[call-overload]


def _id_of(value: object) -> str:
    """An expandable field: an id, or the expanded object carrying one."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: Money
    amount_received: Money
    client_secret: str
    latest_charge: str
    metadata: dict[str, str]

    @classmethod
    def from_json(cls, data: JSON) -> PaymentIntent:
        return cls(
            id=data["id"],
            status=data["status"],
            amount=_money_of(data["amount"], data["currency"]),
            amount_received=_money_of(data.get("amount_received") or 0, data["currency"]),
            client_secret=data.get("client_secret") or "",
            latest_charge=_id_of(data.get("latest_charge")),
            metadata=dict(data.get("metadata") or {}),
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: Money
    payment_intent: str
    balance_transaction: str

    @classmethod
    def from_json(cls, data: JSON) -> Refund:
        return cls(
            id=data["id"],
            status=data["status"],
            amount=_money_of(data["amount"], data["currency"]),
            payment_intent=_id_of(data.get("payment_intent")),
            balance_transaction=_id_of(data.get("balance_transaction")),
        )


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    country: str
    email: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    transfers_capability: str

    @classmethod
    def from_json(cls, data: JSON) -> ConnectedAccount:
        return cls(
            id=data["id"],
            country=data.get("country") or "",
            email=data.get("email") or "",
            charges_enabled=bool(data.get("charges_enabled")),
            payouts_enabled=bool(data.get("payouts_enabled")),
            details_submitted=bool(data.get("details_submitted")),
            transfers_capability=(data.get("capabilities") or {}).get("transfers") or "",
        )

    @property
    def can_receive_transfers(self) -> bool:
        return self.transfers_capability == "active"


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: Money
    destination: str
    transfer_group: str
    balance_transaction: str
    reversed: bool

    @classmethod
    def from_json(cls, data: JSON) -> Transfer:
        return cls(
            id=data["id"],
            amount=_money_of(data["amount"], data["currency"]),
            destination=_id_of(data.get("destination")),
            transfer_group=data.get("transfer_group") or "",
            balance_transaction=_id_of(data.get("balance_transaction")),
            reversed=bool(data.get("reversed")),
        )


@dataclass(frozen=True)
class BalanceTransaction:
    """A movement of the platform's Stripe balance. Amounts stay as Stripe gives them (minor
    units and a currency code, upper-cased) so that a currency we do not support is reported by
    reconciliation rather than refused on reading."""

    id: str
    type: str
    amount: int
    fee: int
    net: int
    currency: str
    source: str
    created: dt.datetime

    @classmethod
    def from_json(cls, data: JSON) -> BalanceTransaction:
        created = _timestamp(data["created"])
        assert created is not None
        return cls(
            id=data["id"],
            type=data.get("type") or "",
            amount=int(data["amount"]),
            fee=int(data.get("fee") or 0),
            net=int(data.get("net", int(data["amount"]) - int(data.get("fee") or 0))),
            currency=str(data["currency"]).upper(),
            source=_id_of(data.get("source")),
            created=created,
        )


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event: its identity and the payload exactly as Stripe sent it."""

    id: str
    type: str
    api_version: str
    account: str
    created: dt.datetime | None
    payload: JSON

    @classmethod
    def from_json(cls, data: object) -> WebhookEvent:
        if not isinstance(data, dict) or data.get("object") != "event":
            raise WebhookRefused("The payload is not a Stripe event.")
        event_id, event_type = data.get("id"), data.get("type")
        if not isinstance(event_id, str) or not event_id.startswith("evt_") or len(event_id) > 255:
            raise WebhookRefused("The event has no valid id.")
        if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
            raise WebhookRefused("The event has no valid type.")
        if not isinstance(data.get("data"), dict):
            raise WebhookRefused("The event carries no data.")
        try:
            created = _timestamp(data.get("created"))
        except (TypeError, ValueError, OverflowError):
            raise WebhookRefused("The event's creation time is not a timestamp.") from None
        return cls(
            id=event_id,
            type=event_type,
            api_version=str(data.get("api_version") or "")[:32],
            account=str(data.get("account") or "")[:255],
            created=created,
            payload=data,
        )


# --- Payments ---------------------------------------------------------------------------------


def payment_intent_create(
    *,
    amount: Money,
    purpose: str,
    reference: str,
    idempotency_key: str,
    customer_email: str,
    metadata: Mapping[str, str] | None = None,
    payment_method: str | None = None,
) -> PaymentIntent:
    """A card payment captured to the platform's own balance (the money is then held in the
    ledger), for `purpose` (e.g. 'deal_payment', 'margin_deposit') of `reference` (e.g.
    'deal:42'). The metadata carries both, so a webhook finds its object without our ids in
    Stripe's. The card typed on the pay page is charged later by payment_intent_card_confirm;
    `payment_method` confirms at creation instead (saved cards, tests).

    The email goes into metadata rather than `receipt_email`: the platform issues its own
    receipts, and Stripe's would duplicate them."""
    if amount.amount <= 0:
        raise StripeInvalidRequest("A payment must be of a positive amount.")
    if not purpose or not reference:
        raise StripeInvalidRequest("A payment needs a purpose and a reference.")
    full_metadata = {**(metadata or {}), "purpose": purpose, "reference": reference, "customer_email": customer_email}
    params: JSON = {
        "amount": amount.amount,
        "currency": amount.currency.lower(),
        "capture_method": "automatic",
        "payment_method_types": ["card"],
        "metadata": full_metadata,
    }
    if payment_method:
        params |= {"payment_method": payment_method, "confirm": True}
    client = _client()
    response = money_call(
        key=idempotency_key,
        purpose=f"payment_intent:{purpose}",
        params=params,
        call=lambda: _request(
            lambda: client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        ),
    )
    return PaymentIntent.from_json(response)


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    """The PaymentIntent as Stripe has it now (what a webhook handler trusts, not the event)."""
    client = _client()
    return PaymentIntent.from_json(_request(lambda: client.v1.payment_intents.retrieve(payment_intent_id)))


# A card token as Stripe.js's createToken gives it (`tok_` and letters, digits, underscores).
_CARD_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,200}")
# The statuses in which a PaymentIntent still takes a card; in any other it is paid, being
# paid, waiting for the buyer's authentication, or cancelled, and is given back untouched.
_TAKES_A_CARD = ("requires_payment_method", "requires_confirmation")


def card_token_check(card_token: object) -> str:
    """The card token from the browser, or StripeInvalidRequest before anything is asked of Stripe."""
    if not isinstance(card_token, str) or not _CARD_TOKEN.fullmatch(card_token):
        raise StripeInvalidRequest("The card could not be read: enter it again.")
    return card_token


def payment_intent_card_confirm(
    *, payment_intent_id: str, card_token: str, idempotency_key: str, customer_email: str, reference: str
) -> PaymentIntent:
    """Charge the card the browser tokenized (Stripe.js `createToken`) on an existing
    PaymentIntent; the intent comes back `succeeded`, or `requires_action` when the bank asks
    the buyer to authenticate (3-D Secure), which the page finishes with Stripe.js's
    `confirmCardPayment(client_secret)`. A refused card raises CardDeclined and leaves the
    intent waiting for another card.

    Why this shape: it is the one that both Stripe and localstripe (development and tests)
    accept, so both run the same code. localstripe cannot make a PaymentMethod from a token nor
    take `payment_method` on confirm, and Stripe lets an intent's customer be set only once. So
    the token becomes a card saved on the intent's customer (created on the first card, then
    reused), the intent is updated to that card, then confirmed. Confirming moves the money: it
    goes through money_call under `idempotency_key` (derived by the caller from the payment and
    the token), so a retry of the same card charges once. Outside a transaction."""
    card_token = card_token_check(card_token)
    client = _client()
    intent = _request(lambda: client.v1.payment_intents.retrieve(payment_intent_id))
    if intent.get("status") not in _TAKES_A_CARD:
        return PaymentIntent.from_json(intent)
    customer_id = _id_of(intent.get("customer"))
    if not customer_id:
        customer_params: JSON = {"email": customer_email, "metadata": {"reference": reference}}
        customer = _request(
            lambda: client.v1.customers.create(
                params=customer_params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{reference}:customer:{payment_intent_id}"},
            )
        )
        customer_id = customer["id"]
        # On the intent at once, so that the next card (after a refusal) finds it there.
        customer_update: JSON = {"customer": customer_id}
        _request(lambda: client.v1.payment_intents.update(payment_intent_id, params=customer_update))  # type: ignore[arg-type]
    # A refused card (4000 0000 0000 0002) is declined here, before the intent has the card.
    card = _request(
        lambda: client.v1.customers.payment_sources.create(
            customer_id,
            params={"source": card_token},
            options={"idempotency_key": f"{idempotency_key}:card"},
        )
    )
    card_update: JSON = {"payment_method": card["id"]}
    _request(lambda: client.v1.payment_intents.update(payment_intent_id, params=card_update))  # type: ignore[arg-type]
    response = money_call(
        key=idempotency_key,
        purpose="payment_intent_confirm",
        params={"payment_intent": payment_intent_id, "payment_method": card["id"]},
        call=lambda: _request(
            lambda: client.v1.payment_intents.confirm(payment_intent_id, options={"idempotency_key": idempotency_key})
        ),
    )
    return PaymentIntent.from_json(response)


def refund_create(*, payment_intent_id: str, amount: Money, idempotency_key: str) -> Refund:
    """Refund `amount` of a captured PaymentIntent to the card that paid it."""
    if amount.amount <= 0:
        raise StripeInvalidRequest("A refund must be of a positive amount.")
    params: JSON = {"payment_intent": payment_intent_id, "amount": amount.amount}
    client = _client()
    response = money_call(
        key=idempotency_key,
        purpose="refund",
        params={**params, "currency": amount.currency},
        call=lambda: _request(
            lambda: client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        ),
    )
    refund = Refund.from_json(response)
    if refund.amount.currency != amount.currency:
        raise StripeInvalidRequest(f"Refund {refund.id} is in {refund.amount.currency}, not {amount.currency}.")
    return refund


# --- Connect ----------------------------------------------------------------------------------


def connected_account_create(*, email: str, country: str, reference: str) -> ConnectedAccount:
    """An Express connected account for a seller, able to receive transfers. Moves no money,
    but is keyed by `reference` (e.g. 'user:7') so that a retry never opens a second account."""
    params: JSON = {
        "type": "express",
        "country": country,
        "email": email,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"reference": reference},
    }
    client = _client()
    key = f"connected_account:{reference}"
    return ConnectedAccount.from_json(
        _request(lambda: client.v1.accounts.create(params=params, options={"idempotency_key": key}))  # type: ignore[arg-type]
    )


def connected_account_retrieve(*, account_id: str) -> ConnectedAccount:
    client = _client()
    return ConnectedAccount.from_json(_request(lambda: client.v1.accounts.retrieve(account_id)))


def account_link_create(*, account_id: str, refresh_url: str, return_url: str) -> AccountLink:
    """A one-time onboarding link for the seller (Stripe-hosted); a new one each time asked."""
    params: JSON = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    client = _client()
    data = _request(lambda: client.v1.account_links.create(params=params))  # type: ignore[arg-type]
    return AccountLink(url=data["url"], expires_at=_timestamp(data.get("expires_at")))


def transfer_create(
    *, amount: Money, destination_account: str, idempotency_key: str, transfer_group: str = ""
) -> Transfer:
    """Pay `amount` from the platform's balance to a seller's connected account."""
    if amount.amount <= 0:
        raise StripeInvalidRequest("A transfer must be of a positive amount.")
    if not destination_account.startswith("acct_"):
        raise StripeInvalidRequest(f"{destination_account!r} is not a connected account.")
    params: JSON = {"amount": amount.amount, "currency": amount.currency.lower(), "destination": destination_account}
    if transfer_group:
        params["transfer_group"] = transfer_group
    client = _client()
    response = money_call(
        key=idempotency_key,
        purpose="transfer",
        params=params,
        call=lambda: _request(
            lambda: client.v1.transfers.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        ),
    )
    transfer = Transfer.from_json(response)
    if transfer.amount != amount or transfer.destination != destination_account:
        raise StripeInvalidRequest(f"Stripe's transfer {transfer.id} is not the one asked for.")
    return transfer


# --- Balance and events -----------------------------------------------------------------------


def balance_transactions_list(*, created_from: dt.datetime, created_to: dt.datetime) -> list[BalanceTransaction]:
    """Every balance transaction created in [created_from, created_to), all pages."""
    params: JSON = {"created": {"gte": int(created_from.timestamp()), "lt": int(created_to.timestamp())}, "limit": 100}
    client = _client()
    try:
        page = client.v1.balance_transactions.list(params=params)  # type: ignore[arg-type]
        return [BalanceTransaction.from_json(_as_json(item)) for item in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _error_translate(error) from error


def balance_transaction_retrieve(*, balance_transaction_id: str) -> BalanceTransaction | None:
    """The balance transaction, or None when Stripe has none by that id."""
    client = _client()
    try:
        return BalanceTransaction.from_json(_as_json(client.v1.balance_transactions.retrieve(balance_transaction_id)))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise _error_translate(error) from error
    except stripe.StripeError as error:
        raise _error_translate(error) from error


def events_list(*, created_from: dt.datetime) -> Iterator[WebhookEvent]:
    """Stripe's events created at or after `created_from`, oldest Stripe keeps (30 days) first
    page first; each as a WebhookEvent, as if delivered."""
    params: JSON = {"created": {"gte": int(created_from.timestamp())}, "limit": 100}
    client = _client()
    try:
        page = client.v1.events.list(params=params)  # type: ignore[arg-type]
        for item in page.auto_paging_iter():
            yield WebhookEvent.from_json(_as_json(item))
    except stripe.StripeError as error:
        raise _error_translate(error) from error


def webhook_event_construct(*, payload: bytes, signature_header: str) -> WebhookEvent:
    """Verify a webhook's Stripe-Signature against our endpoint secret (refusing it when older
    than WEBHOOK_TOLERANCE_SECONDS, a replay) and read the event it carries."""
    if not signature_header:
        raise WebhookRefused("The request carries no Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature_header, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except UnicodeDecodeError:
        raise WebhookRefused("The payload is not UTF-8.") from None
    except stripe.SignatureVerificationError as error:
        raise WebhookRefused(f"The signature does not verify: {error}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise WebhookRefused("The payload is not JSON.") from None
    return WebhookEvent.from_json(data)


def charge_balance_transaction_id(*, charge_id: str) -> str:
    """The balance transaction (`txn_...`) of a captured charge, or "" while Stripe has none yet:
    the platform's ledger names it on the payment's journals so that they reconcile."""
    if not charge_id.startswith(("ch_", "py_")):
        raise StripeInvalidRequest(f"{charge_id!r} is not a charge.")
    client = _client()
    data = _request(lambda: client.v1.charges.retrieve(charge_id))
    return _id_of(data.get("balance_transaction"))
