"""The profile page, API keys (page, API and command) and the staff groups."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken, api_token_hash
from accounts.services import MAX_ACTIVE_API_TOKENS, api_token_issue
from accounts.staff import FILING_AGENTS, FINANCE, VERIFICATION_REVIEWERS

pytestmark = pytest.mark.django_db


def test_the_profile_page_saves_the_legal_identity(client, user):
    client.force_login(user)

    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Grace",
            "organisation": "Hopper Labs",
            "country": "DE",
            "legal_name": "Hopper Labs GmbH",
            "legal_address": "Unter den Linden 1, 10117 Berlin",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.country.code, user.legal_name) == ("Grace", "DE", "Hopper Labs GmbH")


def test_the_profile_page_refuses_an_unknown_country_and_changes_nothing(client, user):
    client.force_login(user)
    before = (user.display_name, user.country.code)

    response = client.post(reverse("accounts:profile"), {"display_name": "Changed", "country": "XX"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    user.refresh_from_db()
    assert (user.display_name, user.country.code) == before


def test_the_profile_page_needs_a_login(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_key_created_on_the_profile_page_is_shown_once_and_authenticates(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:api-token-create"), {"name": "CRM sync"})

    key = response.context["key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == api_token_hash(key)
    assert key not in client.get(reverse("accounts:profile")).content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_a_revoked_key_no_longer_authenticates(client, user):
    token, key = api_token_issue(user=user, name="old")
    client.force_login(user)

    client.post(reverse("accounts:api-token-revoke", args=[token.pk]))

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."


def test_nobody_can_revoke_someone_elses_key(client, user, other_user):
    token, _ = api_token_issue(user=other_user, name="theirs")
    client.force_login(user)

    response = client.post(reverse("accounts:api-token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_key_needs_a_name(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:api-token-create"), {"name": "   "}, follow=True)

    assert "Give the key a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_keys_are_capped_per_person(user):
    for number in range(MAX_ACTIVE_API_TOKENS):
        api_token_issue(user=user, name=f"key {number}")

    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/tokens/", {"name": "one too many"}, format="json")

    assert response.status_code == 400
    assert "revoke one first" in response.json()["name"][0]
    assert ApiToken.objects.filter(user=user).count() == MAX_ACTIVE_API_TOKENS


def test_the_api_creates_lists_and_revokes_keys(user):
    api = APIClient()
    api.force_authenticate(user)

    created = api.post("/api/v1/tokens/", {"name": "partner"}, format="json")
    listed = api.get("/api/v1/tokens/")
    revoked = api.delete(f"/api/v1/tokens/{created.json()['id']}/")

    assert created.status_code == 201
    assert created.json()["key"].startswith("ipm_")
    assert [row["name"] for row in listed.json()["results"]] == ["partner"]
    assert "key" not in listed.json()["results"][0]
    assert revoked.status_code == 204
    assert ApiToken.objects.get().revoked_at is not None


def test_the_api_updates_the_profile_and_refuses_bad_input_without_change(user):
    api = APIClient()
    api.force_authenticate(user)

    good = api.patch("/api/v1/me/", {"legal_name": "Example Corp."}, format="json")
    bad = api.patch("/api/v1/me/", {"legal_name": "Other", "country": "Narnia"}, format="json")
    readonly = api.patch("/api/v1/me/", {"email": "evil@example.com"}, format="json")

    assert good.status_code == 200
    assert bad.status_code == 400
    assert "country" in bad.json()
    user.refresh_from_db()
    assert user.legal_name == "Example Corp."
    assert readonly.status_code == 200
    assert user.email != "evil@example.com"


def test_the_api_refuses_anonymous_requests():
    assert APIClient().get("/api/v1/me/").status_code in {401, 403}


def test_issue_api_token_prints_a_working_key(user):
    out = StringIO()

    call_command("issue_api_token", user.email.upper(), "--name", "nightly export", stdout=out)

    key = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=api_token_hash(key))
    assert (token.user, token.name) == (user, "nightly export")


def test_issue_api_token_refuses_an_unknown_email():
    with pytest.raises(CommandError, match="No account has the email address"):
        call_command("issue_api_token", "nobody@example.com")
    assert not ApiToken.objects.exists()


def test_the_staff_groups_exist_after_migrating():
    names = set(Group.objects.values_list("name", flat=True))

    assert {VERIFICATION_REVIEWERS, FILING_AGENTS, FINANCE} <= names
    assert Group.objects.get(name=FINANCE).permissions.filter(codename="view_user").exists()


def test_seed_demo_creates_the_three_accounts_once():
    first, second = StringIO(), StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert first.getvalue().count("@demo.ip-marketplace.local") == 3
    assert "exist already" in second.getvalue()
