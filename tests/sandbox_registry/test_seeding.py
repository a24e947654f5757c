"""Seeding: counts, idempotency, statuses consistent with the dates."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from sandbox_registry.models import Kind, RecordedAssignment, RegisterEntry, RegisterParty
from sandbox_registry.sample import sample_seeds
from sandbox_registry.services import register_seed

pytestmark = pytest.mark.django_db


def test_the_sample_seeds_once():
    first = register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))
    counts = (RegisterEntry.objects.count(), RegisterParty.objects.count(), RecordedAssignment.objects.count())

    second = register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))

    assert (first.entries_created, first.assignments_created) == (6, 1)
    assert (second.entries_created, second.entries_present, second.assignments_created) == (0, 6, 0)
    assert (RegisterEntry.objects.count(), RegisterParty.objects.count(), RecordedAssignment.objects.count()) == counts


def test_reseeding_keeps_staff_changes(settings):
    register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))
    RegisterEntry.objects.filter(patent_number="7767270").update(status_code="250", status_text="changed by staff")

    register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))

    assert RegisterEntry.objects.get(patent_number="7767270").status_text == "changed by staff"


def test_the_command_seeds_the_sample_when_the_shared_folder_is_absent(settings, tmp_path):
    settings.SHARED_DATA_DIR = tmp_path
    out = StringIO()

    call_command("seed_sandbox_registry", stdout=out)

    assert "has no registry folder" in out.getvalue()
    assert RegisterEntry.objects.count() == 6


@pytest.mark.skipif(
    not (Path(settings.SHARED_DATA_DIR) / "catalogue" / "patents").is_dir(), reason="no shared catalogue"
)
def test_the_command_seeds_the_shared_data_idempotently_with_dated_statuses():
    out = StringIO()
    call_command("seed_sandbox_registry", stdout=out)
    total = RegisterEntry.objects.count()
    assignments = RecordedAssignment.objects.count()

    call_command("seed_sandbox_registry", stdout=out)

    assert "0 rights created" in out.getvalue().splitlines()[-1]
    assert (RegisterEntry.objects.count(), RecordedAssignment.objects.count()) == (total, assignments)
    assert total > 10_000
    # NASA's 6,858,197 expired 2019-11-30 by NASA's own date; 8,409,491 runs to 2027.
    expired = RegisterEntry.objects.get(kind=Kind.US_PATENT, patent_number="6858197")
    live = RegisterEntry.objects.get(kind=Kind.US_PATENT, patent_number="8409491")
    assert (expired.status_text, expired.application_number) == ("Patent Expired", "10099247")
    assert live.status_text == "Patented Case"
    assert live.parties.get().name == "National Aeronautics and Space Administration"
    # A PatentsView row gives no application number: the sandbox numbers it in series 99.
    baseball = RegisterEntry.objects.get(kind=Kind.US_PATENT, patent_number="5269177")
    assert baseball.application_number_assigned
    assert baseball.application_number.startswith("99")
    assert baseball.status_text == "Patent Expired"  # granted 1993
    assert RegisterEntry.objects.filter(kind=Kind.US_TRADEMARK).count() == 2
    assert RegisterEntry.objects.filter(kind=Kind.EU_DESIGN).count() == 10
    assert RegisterEntry.objects.filter(kind=Kind.EP_PATENT).count() == 1
