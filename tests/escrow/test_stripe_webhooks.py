"""The Stripe webhook: verified, stored once by event id, processed once, errors kept on the row."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from escrow.models import LedgerAccount, LedgerAccountKind, StripeEvent
from escrow.webhooks import register_handler, stripe_event_process, unregister_handler
from marketplace import celery_app
from tests.escrow.stripe_fakes import events_dir, webhook_signature

URL = "/stripe/webhook/"


@pytest.fixture(autouse=True)
def eager_celery():
    """Run the processing task in-process, as a worker would, right after the commit."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event: StripeEvent) -> None:
        with self.lock:
            self.calls.append(event.event_id)


@pytest.fixture
def recorder():
    handler = Recorder()
    types = [
        "payment_intent.succeeded",
        *sorted({json.loads(path.read_text())["type"] for path in events_dir().glob("event_*.json")}),
    ]
    for event_type in types:
        register_handler(event_type, handler)
    yield handler
    for event_type in types:
        unregister_handler(event_type, handler)


def event_payload(event_id: str = "evt_1TestPaymentSucceeded", event_type: str = "payment_intent.succeeded") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2025-10-29.clover",
            "created": int(time.time()),
            "data": {"object": {"id": "pi_123", "object": "payment_intent", "metadata": {"reference": "deal:42"}}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": "deal:42:payment"},
            "type": event_type,
        }
    ).encode()


def deliver(client: Client, payload: bytes, *, signature: str | None = None, secret: str | None = None):
    from django.conf import settings

    header = signature or webhook_signature(payload, secret=secret or settings.STRIPE_WEBHOOK_SECRET)
    return client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def test_a_signed_event_is_stored_answered_and_processed_once(client, db, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, event_payload())

    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.api_version) == (
        "evt_1TestPaymentSucceeded",
        "payment_intent.succeeded",
        "2025-10-29.clover",
    )
    assert event.payload["data"]["object"]["metadata"] == {"reference": "deal:42"}
    assert event.processed_at is not None
    assert (event.attempts, event.processing_error) == (1, "")
    assert recorder.calls == ["evt_1TestPaymentSucceeded"]


def test_a_redelivered_event_is_neither_stored_nor_processed_again(
    client, db, recorder, django_capture_on_commit_callbacks
):
    payload = event_payload()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, payload)
    first = StripeEvent.objects.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(client, payload)

    assert response.status_code == 200
    assert callbacks == []
    again = StripeEvent.objects.get()
    assert (again.pk, again.processed_at, again.attempts) == (first.pk, first.processed_at, 1)
    assert recorder.calls == ["evt_1TestPaymentSucceeded"]


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("forged", id="signed-with-another-secret"),
        pytest.param("stale", id="older-than-300-seconds"),
        pytest.param("t=123,v1=00", id="garbage"),
        pytest.param("", id="missing"),
    ],
)
def test_a_forged_stale_or_missing_signature_is_refused_and_nothing_is_stored(
    client, db, recorder, django_capture_on_commit_callbacks, settings, signature
):
    payload = event_payload()
    if signature == "forged":
        signature = webhook_signature(payload, secret="whsec_not_ours")
    elif signature == "stale":
        signature = webhook_signature(payload, secret=settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) - 301)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    assert response.status_code == 400
    assert callbacks == []
    assert not StripeEvent.objects.exists()
    assert recorder.calls == []


def test_a_payload_altered_after_signing_is_refused(client, db, settings):
    payload = event_payload()
    header = webhook_signature(payload, secret=settings.STRIPE_WEBHOOK_SECRET)

    response = client.post(
        URL, data=payload.replace(b"deal:42", b"deal:43"), content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"object": "event", "type": "x", "data": {}}', b'{"id": "evt_1", "object": "event"}'],
)
def test_a_signed_payload_that_is_not_an_event_is_refused(client, db, payload):
    response = deliver(client, payload)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_webhook_takes_only_post(client, db):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("path", sorted(events_dir().glob("event_*.json")), ids=lambda path: Path(path).stem)
def test_real_connect_event_payloads_are_accepted_stored_and_routed(
    client, db, recorder, django_capture_on_commit_callbacks, path
):
    payload = path.read_bytes()
    sent = json.loads(payload)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, payload)

    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.account) == (sent["id"], sent["type"], sent["account"])
    assert event.api_version == "2020-08-27"
    assert event.payload == sent
    assert event.stripe_created_at is not None
    assert int(event.stripe_created_at.timestamp()) == sent["created"]
    assert event.processed_at is not None
    assert recorder.calls == [sent["id"]]


def test_all_real_connect_payloads_delivered_in_turn_store_each_event_id_once(
    client, db, recorder, django_capture_on_commit_callbacks
):
    # The dj-stripe payloads reuse event ids across files: by id, they are 4 events.
    paths = sorted(events_dir().glob("event_*.json"))
    ids = {json.loads(path.read_text())["id"] for path in paths}

    for path in paths:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, path.read_bytes()).status_code == 200

    assert set(StripeEvent.objects.values_list("event_id", flat=True)) == ids
    assert sorted(recorder.calls) == sorted(ids)


def test_an_event_without_a_handler_is_stored_and_marked_processed(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event_payload(event_type="customer.created"))

    assert StripeEvent.objects.get().processed_at is not None


def test_a_failing_handler_keeps_its_error_on_the_row_rolls_back_its_writes_and_a_retry_applies_it(
    client, db, django_capture_on_commit_callbacks
):
    failures = [RuntimeError("the deal is locked by a dispute")]

    def handler(event: StripeEvent) -> None:
        LedgerAccount.objects.create(kind=LedgerAccountKind.PLATFORM_FEES, currency="EUR", normal_balance="credit")
        if failures:
            raise failures.pop()

    register_handler("payment_intent.succeeded", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, event_payload()).status_code == 200
        event = StripeEvent.objects.get()
        assert event.processed_at is None
        assert event.attempts == 1
        assert event.processing_error == "RuntimeError: the deal is locked by a dispute"
        assert not LedgerAccount.objects.exists()

        assert stripe_event_process(event_id=event.event_id) == "processed"
    finally:
        unregister_handler("payment_intent.succeeded", handler)

    event.refresh_from_db()
    assert event.processed_at is not None
    assert (event.attempts, event.processing_error) == (2, "")
    assert LedgerAccount.objects.count() == 1
    assert stripe_event_process(event_id=event.event_id) == "already_processed"
    assert LedgerAccount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_delivered_10_times_at_once_is_stored_once_and_processed_once(recorder):
    payload = event_payload()
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        try:
            client = Client()
            barrier.wait()
            statuses.append(deliver(client, payload).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 10
    event = StripeEvent.objects.get()
    assert event.processed_at is not None
    assert event.attempts == 1
    assert recorder.calls == ["evt_1TestPaymentSucceeded"]
