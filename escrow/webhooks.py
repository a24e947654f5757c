"""Stripe webhooks: verify, store once, answer fast, process once, in any order.

The view only verifies the signature and stores the raw event (INSERT ... ON CONFLICT DO
NOTHING on the event id), then queues `stripe_event_process` on commit and answers 200: Stripe
waits for nobody, and a slow handler must not make it redeliver.

Processing takes the event row FOR UPDATE, so concurrent deliveries of one event queue behind
each other and the later ones see it processed. Handlers are looked up by event type in a
registry that the apps register into when they load (in their AppConfig.ready()):

    register_handler("payment_intent.succeeded", deal_payment_confirm)

A handler receives the stored StripeEvent and runs inside the transaction that marks the event
processed, so its writes and the mark commit together. It must not trust the order of events:
when the order matters, it re-reads the object from the API (stripe_gateway.*_retrieve). A
handler that raises rolls back its writes; the error stays on the row, the event stays
unprocessed, and `manage.py replay_stripe_events` or a redelivery runs it again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escrow import stripe_gateway
from escrow.models.stripe import StripeEvent

logger = logging.getLogger(__name__)

StripeEventHandler = Callable[[StripeEvent], None]

_handlers: defaultdict[str, list[StripeEventHandler]] = defaultdict(list)


def register_handler(event_type: str, handler: StripeEventHandler) -> StripeEventHandler:
    """Run `handler` for every event of `event_type`. Registering the same handler twice is a
    no-op (a module imported twice must not apply an event twice). Returns the handler."""
    if not event_type or not callable(handler):
        raise ValueError("A handler needs an event type and a callable.")
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)
    return handler


def unregister_handler(event_type: str, handler: StripeEventHandler) -> None:
    if handler in _handlers.get(event_type, []):
        _handlers[event_type].remove(handler)


def handlers_for(event_type: str) -> list[StripeEventHandler]:
    return list(_handlers.get(event_type, []))


# --- Services -------------------------------------------------------------------------------

# Insert the event unless its id is already stored; RETURNING tells a first delivery from a
# redelivery without a second query racing the first.
_EVENT_INSERT_SQL = """
INSERT INTO escrow_stripeevent
    (event_id, type, api_version, account, stripe_created_at, payload, received_at, processing_error, attempts)
VALUES (%s, %s, %s, %s, %s, %s::jsonb, now(), '', 0)
ON CONFLICT (event_id) DO NOTHING
RETURNING id
"""


def _payload_json(event: stripe_gateway.WebhookEvent) -> str:
    return json.dumps(event.payload)


@transaction.atomic
def stripe_event_store(*, event: stripe_gateway.WebhookEvent) -> bool:
    """Store a verified event once by its id and queue its processing on commit (again, when a
    redelivery finds it stored but not processed). Returns whether it was new."""
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENT_INSERT_SQL,
            [event.id, event.type, event.api_version, event.account, event.created, _payload_json(event)],
        )
        created = cursor.fetchone() is not None
    if created or StripeEvent.objects.filter(event_id=event.id, processed_at__isnull=True).exists():
        from escrow.stripe_tasks import stripe_event_process as task

        event_id = event.id
        transaction.on_commit(lambda: task.delay(event_id))
    return created


class EventOutcome(StrEnum):
    PROCESSED = "processed"
    ALREADY_PROCESSED = "already_processed"
    FAILED = "failed"
    MISSING = "missing"


@transaction.atomic(durable=True)
def stripe_event_process(*, event_id: str) -> EventOutcome:
    """Apply one stored event through its handlers, at most once, whatever else runs at once."""
    event = StripeEvent.objects.select_for_update().filter(event_id=event_id).first()
    if event is None:
        return EventOutcome.MISSING
    if event.processed_at is not None:
        return EventOutcome.ALREADY_PROCESSED
    event.attempts += 1
    try:
        # A savepoint: a failing handler's writes roll back, the error on the row commits.
        with transaction.atomic():
            for handler in handlers_for(event.type):
                handler(event)
    except Exception as error:
        logger.exception("Stripe event %s (%s) failed to process", event.event_id, event.type)
        event.processing_error = "".join(traceback.format_exception_only(error)).strip()[:10_000]
        event.save(update_fields=["attempts", "processing_error"])
        return EventOutcome.FAILED
    event.processed_at = timezone.now()
    event.processing_error = ""
    event.save(update_fields=["attempts", "processing_error", "processed_at"])
    return EventOutcome.PROCESSED


@dataclass(frozen=True)
class ReplayReport:
    listed: int
    stored: int
    processed: int
    failed: int


def stripe_events_replay(*, events: Iterable[stripe_gateway.WebhookEvent], since: dt.datetime) -> ReplayReport:
    """Store the events Stripe lists that we miss, then process every stored event received
    since `since` (a datetime) that is still unprocessed. Idempotent: a second run stores and
    processes nothing (unless a handler still fails)."""
    listed = stored = 0
    for event in events:
        listed += 1
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(
                _EVENT_INSERT_SQL,
                [event.id, event.type, event.api_version, event.account, event.created, _payload_json(event)],
            )
            stored += cursor.fetchone() is not None
    processed = failed = 0
    pending = StripeEvent.objects.filter(processed_at__isnull=True, stripe_created_at__gte=since).order_by(
        "stripe_created_at", "id"
    )
    for event_id in list(pending.values_list("event_id", flat=True)):
        outcome = stripe_event_process(event_id=event_id)
        processed += outcome == EventOutcome.PROCESSED
        failed += outcome == EventOutcome.FAILED
    return ReplayReport(listed=listed, stored=stored, processed=processed, failed=failed)


# --- The view -------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_gateway.webhook_event_construct(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.WebhookRefused as refusal:
        logger.warning("Stripe webhook refused: %s", refusal)
        return HttpResponseBadRequest(str(refusal), content_type="text/plain")
    stripe_event_store(event=event)
    return HttpResponse("ok", content_type="text/plain")
