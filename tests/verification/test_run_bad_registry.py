"""A register that errs never yields a pass: each failure ends in a clear verdict with its reason."""

from __future__ import annotations

import json

import pytest

from listings import services as listings_services
from listings.models import Listing, ListingState
from tests.verification.conftest import Reply
from tests.verification.runs_support import listing_for, right_for
from verification import tasks
from verification.models import RunState, Trigger, VerificationRun
from verification.services import RegistryRetry, listing_runs_execute, listing_verification_queue

pytestmark = pytest.mark.django_db

ODP_PATH = "/uspto-odp/api/v1/patent/applications/17999999"


@pytest.fixture
def queued(fast_registries):
    listing = listing_for(right_for(application="17999999"))
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    runs = listing_verification_queue(listing=listing, trigger=Trigger.SUBMISSION)
    return listing, [r.pk for r in runs]


def finish(listing, run_ids):
    verdict = listing_runs_execute(listing=listing, run_ids=run_ids, final_attempt=True)
    return verdict, VerificationRun.objects.get(pk=run_ids[0]), Listing.objects.get(pk=listing.pk)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=500, body=b'{"error": "boom"}'), "answered 500"),
        (Reply(status=429, body=b"slow down", headers={"Retry-After": "0"}), "rate limiting"),
        (Reply(body=b"<html><body>Service maintenance</body></html>", headers={"Content-Type": "text/html"}), "HTML"),
        (Reply(body=b"", headers={"Content-Type": "application/json"}), "empty body"),
        (
            Reply(body=b'{"patentBag": [{"applicationNumberText": ', headers={"Content-Type": "application/json"}),
            "JSON",
        ),
    ],
    ids=["500", "429", "html", "nothing", "malformed"],
)
def test_a_failing_register_sends_the_run_to_review_with_the_error(queued, fast_registries, reply, reason):
    listing, run_ids = queued
    fast_registries.add(ODP_PATH, reply)

    verdict, run, listing = finish(listing, run_ids)

    assert verdict == RunState.NEEDS_REVIEW
    assert run.state == RunState.NEEDS_REVIEW
    assert reason in run.error
    assert list(run.checks.values_list("name", "outcome")) == [("registry", "review")]
    assert listing.state == ListingState.NEEDS_REVIEW
    assert run.right.verification_verdict == "needs_review"


def test_malformed_xml_from_tsdr_goes_to_review(fast_registries):
    right = right_for(application="78787878", kind="trademark", sub_kind="trademark", expiry_date=None)
    listing = listing_for(right)
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    fast_registries.add(
        "/tsdr/ts/cd/casestatus/sn78787878/info.xml",
        Reply(body=b"<Transaction><Trade", headers={"Content-Type": "application/xml"}),
    )
    runs = listing_verification_queue(listing=listing, trigger=Trigger.SUBMISSION)

    verdict, run, _ = finish(listing, [r.pk for r in runs])

    assert verdict == "needs_review"
    assert "RegistryMalformed" in run.error


def test_an_unknown_number_fails_with_the_reason(queued, fast_registries):
    listing, run_ids = queued  # nothing served: the office answers 404

    verdict, run, listing = finish(listing, run_ids)

    assert verdict == "failed"
    assert run.checks.get(name="exists").outcome == "fail"
    assert "no right under this number" in run.checks.get(name="exists").evidence
    assert listing.state == ListingState.REJECTED


def test_a_number_of_another_kind_fails(fast_registries):
    # The listing says design patent; the register holds a utility patent under the number.
    right = right_for(application="29999999", sub_kind="design")
    listing = listing_for(right)
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    body = {
        "count": 1,
        "patentBag": [
            {
                "applicationNumberText": "29999999",
                "applicationMetaData": {
                    "applicationTypeCode": "UTL",
                    "applicationStatusCode": 150,
                    "applicationStatusDescriptionText": "Patented Case",
                    "filingDate": "2015-01-01",
                    "grantDate": "2018-01-02",
                    "patentNumber": "9999999",
                },
                "assignmentBag": [],
            }
        ],
    }
    fast_registries.add(
        "/uspto-odp/api/v1/patent/applications/29999999",
        Reply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}),
    )
    runs = listing_verification_queue(listing=listing, trigger=Trigger.SUBMISSION)

    verdict, run, _ = finish(listing, [r.pk for r in runs])

    assert verdict == "failed"
    assert "not a design" in run.checks.get(name="exists").evidence


def test_not_the_final_attempt_requeues_the_run_and_keeps_the_error(queued, fast_registries):
    listing, run_ids = queued
    fast_registries.add(ODP_PATH, Reply(status=503, body=b"down"))

    with pytest.raises(RegistryRetry):
        listing_runs_execute(listing=listing, run_ids=run_ids, final_attempt=False)

    run = VerificationRun.objects.get(pk=run_ids[0])
    assert (run.state, run.attempts) == (RunState.QUEUED, 1)
    assert "503" in run.error
    assert not run.checks.exists()
    assert Listing.objects.get(pk=listing.pk).state == ListingState.VERIFYING


def test_the_task_retries_then_sends_to_review(fast_registries, monkeypatch):
    monkeypatch.setattr(tasks.listing_verify_task, "apply_async", lambda *a, **k: None)
    listing = listing_for(right_for(application="17999999"))
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    fast_registries.add(ODP_PATH, Reply(status=500, body=b"down"))

    result = tasks.listing_verify_task.apply(args=(listing.pk, "submission"))

    assert result.get() == "needs_review"
    run = VerificationRun.objects.get(listing=listing)
    assert run.attempts == tasks.MAX_RETRIES + 1
    assert VerificationRun.objects.filter(listing=listing).count() == 1


def test_a_cn_right_goes_to_staff_with_the_reason(db):
    right = right_for(jurisdiction="CN", application="201710431918.5")
    listing = listing_for(right)
    listing = listings_services.listing_submit(listing=listing, acting_user=listing.seller)
    runs = listing_verification_queue(listing=listing, trigger=Trigger.SUBMISSION)

    verdict, run, listing = finish(listing, [r.pk for r in runs])

    assert verdict == "needs_review"
    assert "CNIPA offers no public API" in run.checks.get().evidence
    assert listing.state == ListingState.NEEDS_REVIEW
