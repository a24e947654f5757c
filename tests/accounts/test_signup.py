"""Sign-up with mandatory email verification, and every way it can be refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet-anchor-meadow-42"


def sign_up(client, email: str, password: str = GOOD_PASSWORD, password2: str | None = None):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password, "password2": password2 or password},
    )


def confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_sign_up_sends_a_confirmation_and_the_link_verifies_and_logs_in(client):
    response = sign_up(client, "Ada@Example.com")

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]

    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_an_unverified_account_cannot_log_in(client):
    sign_up(client, "bob@example.com")
    client.logout()

    response = client.post(reverse("account_login"), {"login": "bob@example.com", "password": GOOD_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_a_taken_email_is_refused_with_a_clear_message_and_nothing_created(client):
    UserFactory(email="taken@example.com")
    mail.outbox.clear()

    response = sign_up(client, "TAKEN@example.com")

    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert User.objects.count() == 1
    assert EmailAddress.objects.count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
def test_a_malformed_email_is_refused_and_nothing_created(client, email):
    response = sign_up(client, email)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid email address." in body or "This field is required." in body
    assert User.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short."),
        ("password123", "This password is too common."),
        ("8305926471", "This password is entirely numeric."),
    ],
)
def test_a_weak_password_is_refused_with_the_reason_and_nothing_created(client, password, message):
    response = sign_up(client, "carol@example.com", password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 0


def test_mismatched_passwords_are_refused(client):
    response = sign_up(client, "dan@example.com", GOOD_PASSWORD, "another-password-entirely")

    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert User.objects.count() == 0


def test_an_expired_confirmation_link_is_refused_and_verifies_nothing(client, settings, time_machine):
    sign_up(client, "erin@example.com")
    link = confirmation_link(mail.outbox[0])
    client.logout()

    time_machine.move_to(timedelta(days=settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS + 1))
    page = client.get(link)
    confirm = client.post(link)

    assert page.status_code == 200
    assert "expired or is invalid" in page.content.decode()
    assert confirm.status_code == 404
    assert not EmailAddress.objects.get(email="erin@example.com").verified


def test_a_forged_confirmation_link_is_refused_and_verifies_nothing(client):
    sign_up(client, "frank@example.com")
    address = EmailAddress.objects.get(email="frank@example.com")
    genuine = EmailConfirmationHMAC(address).key
    forged = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")

    page = client.get(reverse("account_confirm_email", args=[forged]))
    confirm = client.post(reverse("account_confirm_email", args=[forged]))

    assert page.status_code == 200
    assert "expired or is invalid" in page.content.decode()
    assert confirm.status_code == 404
    address.refresh_from_db()
    assert not address.verified


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    user = UserFactory(email="gina@example.com")
    mail.outbox.clear()

    client.post(reverse("account_reset_password"), {"email": "gina@example.com"})

    assert len(mail.outbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body)
    assert match
    response = client.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else match.group(1)
    new_password = "lantern-harbour-quietly-9"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
