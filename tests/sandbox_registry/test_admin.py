"""Staff change a right's status from the main site's admin."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from sandbox_registry.models import RegisterEntry
from sandbox_registry.sample import sample_seeds
from sandbox_registry.services import register_seed

pytestmark = pytest.mark.django_db


def test_staff_set_a_status_in_the_office_words_from_the_changelist(admin_client):
    register_seed(seeds=sample_seeds(today=date(2025, 1, 1)))
    entry = RegisterEntry.objects.get(patent_number="7767270")
    url = reverse("admin:sandbox_registry_registerentry_changelist")

    assert admin_client.get(url).status_code == 200
    assert admin_client.get(reverse("admin:sandbox_registry_registerentry_change", args=[entry.pk])).status_code == 200
    response = admin_client.post(url, {"action": "mark_lapsed", "_selected_action": [entry.pk]})

    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.status_code, entry.status_text) == (
        "250",
        "Patent Expired Due to NonPayment of Maintenance Fees Under 37 CFR 1.362",
    )
    assert admin_client.get(reverse("admin:sandbox_registry_recordedassignment_add")).status_code == 200
