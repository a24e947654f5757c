"""Watchlist, saved searches with email alerts, and following owners and CPC classes."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from listings.following import alerts_send, follow_create, saved_search_create
from listings.models import Follow, SavedSearch, Watch
from listings.services import ListingError
from tests.factories import make_listing, make_right

pytestmark = pytest.mark.django_db


def test_a_buyer_watches_and_unwatches_a_listing(client, user, other_user):
    listing = make_listing(seller=other_user)
    client.force_login(user)

    client.post(reverse("listings:watch", args=[listing.pk]))
    assert Watch.objects.filter(user=user, listing=listing).exists()
    assert listing.title in client.get(reverse("listings:watching")).content.decode()

    client.post(reverse("listings:watch", args=[listing.pk]))
    assert not Watch.objects.exists()


def test_a_draft_cannot_be_watched(client, user, other_user):
    draft = make_listing(seller=other_user, publish=False)
    client.force_login(user)

    response = client.post(reverse("listings:watch", args=[draft.pk]))

    assert response.status_code == 404
    assert not Watch.objects.exists()


def test_a_saved_search_keeps_only_what_the_search_reads(user):
    saved = saved_search_create(user=user, name="Batteries", query_string="q=battery&kind=patent&evil=1&page=3")

    assert saved.query_string == "q=battery&kind=patent"


def test_a_saved_search_needs_a_name(user):
    with pytest.raises(ListingError, match="Give the search a name"):
        saved_search_create(user=user, name=" ", query_string="q=battery")
    assert not SavedSearch.objects.exists()


def test_saved_search_alerts_mail_new_matches_once(user, other_user):
    saved_search_create(user=user, name="Batteries", query_string="q=battery")
    make_listing(
        seller=other_user,
        title="Battery electrolyte",
        rights=[make_right(registration_number="7100001", title="Battery electrolyte", abstract="")],
    )
    make_listing(seller=other_user, title="Unrelated", rights=[make_right(registration_number="7100002")])

    first = alerts_send()
    second = alerts_send()

    assert (first.emails, first.listings) == (1, 1)
    assert (second.emails, second.listings) == (0, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "Battery electrolyte" in mail.outbox[0].body
    assert "Unrelated" not in mail.outbox[0].body


def test_following_an_owner_announces_its_new_listings(user, other_user):
    follow_create(user=user, subject="owner", value="Voltaic   Materials GmbH")
    make_listing(seller=other_user, rights=[make_right(registration_number="7200001", owner="Voltaic Materials GmbH")])
    make_listing(seller=other_user, rights=[make_right(registration_number="7200002", owner="Someone Else Ltd")])

    report = alerts_send()

    assert report.emails == 1
    assert "Voltaic Materials GmbH" in mail.outbox[0].subject


def test_following_a_cpc_class_announces_its_new_listings(user, other_user):
    follow_create(user=user, subject="cpc_class", value="h01")
    make_listing(seller=other_user, rights=[make_right(registration_number="7300001", cpc_symbols=["H01M10/0562"])])

    report = alerts_send()

    assert report.emails == 1
    assert Follow.objects.get().value == "H01"


@pytest.mark.parametrize(
    ("subject", "value"), [("cpc_class", "G6"), ("cpc_class", "XYZ"), ("planet", "Mars"), ("owner", "")]
)
def test_bad_follows_are_refused(user, subject, value):
    with pytest.raises(ListingError):
        follow_create(user=user, subject=subject, value=value)
    assert not Follow.objects.exists()


def test_following_twice_is_one_follow(user):
    follow_create(user=user, subject="owner", value="Acme")
    follow_create(user=user, subject="owner", value="Acme")

    assert Follow.objects.count() == 1


def test_nobody_deletes_someone_elses_saved_search(client, user, other_user):
    saved = saved_search_create(user=other_user, name="Theirs", query_string="q=x")
    client.force_login(user)

    response = client.post(reverse("listings:saved-search-delete", args=[saved.pk]))

    assert response.status_code == 404
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


def test_a_follow_form_never_redirects_off_site(client, user):
    client.force_login(user)

    response = client.post(
        reverse("listings:follow-create"), {"subject": "owner", "value": "Acme", "next": "https://evil.example/"}
    )

    assert response.url == reverse("listings:watching")


def test_an_alert_links_to_a_search_with_the_name_escaped():
    from listings.following import _follow_search_url

    owner = _follow_search_url(Follow(subject="owner", value="AT&T Labs"))
    cpc = _follow_search_url(Follow(subject="cpc_class", value="H01"))

    assert owner == "/listings/?q=AT%26T+Labs"
    assert cpc == "/listings/?cpc_class=H01"
