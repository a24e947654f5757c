"""manage.py verify_right against the sandbox registry: text and the stable JSON form."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.sandbox_registry import conftest as sandbox_fixtures
from verification.models import VerificationRun

pytestmark = pytest.mark.django_db(transaction=True)

# The sandbox registry's fixtures, served by a thread (see tests/sandbox_registry/conftest.py).
sandbox = sandbox_fixtures.sandbox
sandbox_url = sandbox_fixtures.sandbox_url
seeded_sample = sandbox_fixtures.seeded_sample


def run(*args: str) -> str:
    out = StringIO()
    call_command("verify_right", *args, stdout=out)
    return out.getvalue()


def test_text_form_prints_the_facts_and_the_verdict(seeded_sample):
    text = run("us-trademark", "2178784", "--seller-name", "ORACLE AMERICA INC")

    assert "us-trademark 2178784 - USPTO TSDR" in text
    assert "Oracle America, Inc." in text
    assert "[PASS  ] Owner of record is the seller" in text
    assert "Verdict:" in text
    assert not VerificationRun.objects.exists()  # nothing is stored


def test_json_form_is_stable(seeded_sample):
    report = json.loads(run("us-patent", "US 7,767,270 B2", "--seller-name", "NASA", "--json"))

    assert set(report) == {
        "schema",
        "office",
        "number",
        "target",
        "verdict",
        "error",
        "register",
        "facts",
        "checks",
        "responses",
    }
    assert report["schema"] == "verify_right/1"
    assert report["target"]["registration_number"] == "7767270"
    assert report["facts"]["patent_number"] == "7767270"
    assert report["facts"]["owners"][0]["name"] == "National Aeronautics and Space Administration"
    owner = next(c for c in report["checks"] if c["name"] == "owner")
    assert owner["outcome"] == "review"
    assert 0 <= owner["score"] < 1
    assert report["verdict"] in {"needs_review", "failed"}
    assert all(len(r["sha256"]) == 64 for r in report["responses"])


def test_an_unknown_number_is_a_failed_verdict_with_the_reason(seeded_sample):
    report = json.loads(run("us-patent", "16/999,999", "--json"))

    assert report["verdict"] == "failed"
    assert report["facts"] is None
    assert "no record" in report["error"]


def test_a_register_that_is_down_is_never_a_pass(settings, db):
    settings.USPTO_TSDR_BASE_URL = "http://127.0.0.1:9/tsdr"  # nothing listens on the discard port
    settings.REGISTRY_HTTP_POLICIES = {"tsdr": {"max_attempts": 1, "connect_timeout": 1.0, "min_interval": 0.0}}
    settings.REGISTRY_REDIS_LOCKS = False

    report = json.loads(run("us-trademark", "2178784", "--json"))

    assert report["verdict"] == "needs_review"
    assert "RegistryUnavailable" in report["error"]


@pytest.mark.parametrize(("office", "number"), [("jp-patent", "123"), ("us-patent", "not a number")])
def test_bad_arguments_are_refused(db, office, number):
    with pytest.raises(CommandError):
        run(office, number)
