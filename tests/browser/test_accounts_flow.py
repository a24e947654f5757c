"""A person signs up, confirms their email from the outbox, logs in, edits the profile and logs out."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "orchid-lantern-harbour-7"


def test_sign_up_confirm_log_in_edit_profile_log_out(page, live_server):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("hedy@example.com")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_text("We have sent an email to you for verification").wait_for()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert link
    path = "/" + link.group(0).split("/", 3)[3]
    page.goto(path)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Your profile").wait_for()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("hedy@example.com")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Your profile").wait_for()

    page.get_by_label("Display name").fill("Hedy")
    page.get_by_label("Legal name").fill("Lamarr Frequency Hopping LLC")
    page.get_by_label("Country").select_option("AT")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Your profile is saved.").wait_for()

    user = User.objects.get(email="hedy@example.com")
    assert (user.display_name, user.legal_name, user.country.code) == ("Hedy", "Lamarr Frequency Hopping LLC", "AT")
    assert page.get_by_role("link", name="Hedy").is_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()
    assert page.get_by_role("link", name="Hedy").count() == 0
