"""Sellers post, edit, submit and withdraw listings; staff approve or reject them in the admin."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from listings.models import Listing, ListingDocument, ListingEvent, ListingSearchEntry, ListingState, Right
from tests.factories import UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_listing_form(**overrides: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "kind": "patent",
        "sub_kind": "invention",
        "jurisdiction": "US",
        "number_us_patent": "US 6,654,321 B2",
        "right_title": "Method for compressing neural network weights",
        "abstract": "Weights are quantised and pruned.",
        "owners": "Example Innovations Inc.",
        "expiry_date": "2036-01-01",
        "title": "Neural network compression patent",
        "description": "Clean title, no licences granted.",
        "deal_types": ["assignment", "exclusive_licence"],
        "price_mode": "fixed",
        "currency": "USD",
        "asking_price": "150,000.00",
        "minimum_price": "",
    }
    form.update(overrides)
    return form


def test_a_seller_posts_a_draft_and_the_number_is_normalised(client, user):
    client.force_login(user)

    response = client.post(reverse("listings:new"), new_listing_form())

    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("listings:edit", args=[listing.pk])
    assert listing.state == ListingState.DRAFT
    assert listing.seller == user
    assert listing.asking_price == 15_000_000
    assert listing.deal_types == ["assignment", "exclusive_licence"]
    right = listing.rights.get()
    assert (right.registration_number, right.jurisdiction, right.facts_source) == (
        "6654321",
        "US",
        "seller's statement",
    )
    assert list(right.owners.values_list("name", flat=True)) == ["Example Innovations Inc."]
    assert ListingEvent.objects.filter(listing=listing, to_state="draft").count() == 1


def test_posting_the_same_right_again_reuses_it(client, user):
    client.force_login(user)
    client.post(reverse("listings:new"), new_listing_form())

    client.post(reverse("listings:new"), new_listing_form(number_us_patent="6654321"))

    assert Listing.objects.count() == 2
    assert Right.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number_us_patent": "US 6,654,32X"}, "Expected a US patent number"),
        ({"number_us_patent": "", "number_cn_application": "201710431918.5"}, "does not belong to this kind"),
        ({"number_us_patent": ""}, "Enter at least one office number"),
        ({"asking_price": "-5"}, "price"),
        ({"asking_price": "0"}, ""),
        ({"asking_price": "99999999999999999999"}, ""),
        ({"currency": "XYZ"}, "Select a valid choice."),
        ({"price_mode": "offers", "minimum_price": ""}, "Say the lowest offer"),
        ({"minimum_price": "200,000", "price_mode": "offers"}, "cannot be above the asking price"),
        ({"deal_types": []}, "This field is required."),
        ({"nice_classes": "9, 99"}, "Nice classes run from 1 to 45."),
        ({"expiry_date": "2001-01-01", "filing_date": "2010-01-01"}, "before the filing date"),
    ],
)
def test_bad_input_on_a_new_listing_is_refused_and_nothing_created(client, user, overrides, message):
    client.force_login(user)

    response = client.post(reverse("listings:new"), new_listing_form(**overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="invalid-feedback' in response.content.decode() or "alert-danger" in response.content.decode()
    assert Listing.objects.count() == 0
    assert Right.objects.count() == 0


def test_submitting_hands_the_listing_to_verification_after_commit(user, django_capture_on_commit_callbacks):
    listing = make_listing(seller=user, publish=False)
    from listings import services
    from listings.signals import listing_submitted

    announced: list[int] = []

    def receiver(sender: object, listing_id: int, **kwargs: object) -> None:
        announced.append(listing_id)

    listing_submitted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.listing_submit(listing=listing, acting_user=user)
        assert announced == []  # nothing leaves before the commit
        for callback in callbacks:
            callback()
    finally:
        listing_submitted.disconnect(receiver)

    assert announced == [listing.pk]
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.SUBMITTED
    assert listing.submitted_at is not None
    assert list(listing.events.values_list("to_state", flat=True)) == ["draft", "submitted"]


def test_a_seller_without_a_legal_name_cannot_submit(client):
    seller = UserFactory(legal_name="")
    listing = make_listing(seller=seller, publish=False)
    client.force_login(seller)

    response = client.post(reverse("listings:submit", args=[listing.pk]), follow=True)

    assert "Add your legal name to your profile first" in response.content.decode()
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.DRAFT


def test_a_right_whose_term_has_ended_cannot_be_submitted(client, user):
    right = make_right(expiry_date=date(2010, 1, 1), filing_date=date(1990, 1, 1), status="expired")
    listing = make_listing(seller=user, rights=[right], publish=False)
    client.force_login(user)

    response = client.post(reverse("listings:submit", args=[listing.pk]), follow=True)

    assert "not in force and cannot be sold" in response.content.decode()
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.DRAFT


def test_the_status_follows_the_facts_for_a_claimed_right(client, user):
    client.force_login(user)

    client.post(
        reverse("listings:new"),
        new_listing_form(expiry_date="2012-05-01", filing_date="1992-05-01", number_us_patent="5,123,456"),
    )

    assert Right.objects.get().status == "expired"


def test_staff_approve_a_listing_in_the_admin_and_it_is_published_and_searchable(client, user):
    listing = make_listing(seller=user, publish=False)
    from listings import services

    services.listing_submit(listing=listing, acting_user=user)
    services.listing_verification_needs_review(listing=listing, note="The owner name needs a person's eye.")
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.post(reverse("admin:listings_approve", args=[listing.pk]))

    assert response.status_code == 302
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.PUBLISHED
    assert listing.published_at is not None
    assert ListingSearchEntry.objects.filter(listing=listing).exists()
    assert listing.events.last().actor == staff


def test_with_margin_required_an_approved_listing_waits_for_the_deposit(user, settings):
    settings.LISTING_MARGIN_REQUIRED = True

    listing = make_listing(seller=user)

    assert listing.state == ListingState.AWAITING_MARGIN
    assert not ListingSearchEntry.objects.exists()


def test_staff_reject_with_a_reason_the_seller_reads(client, user):
    listing = make_listing(seller=user, publish=False)
    from listings import services

    services.listing_submit(listing=listing, acting_user=user)
    services.listing_verification_needs_review(listing=listing, note="The owner name needs a person's eye.")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    empty = client.post(reverse("admin:listings_reject", args=[listing.pk]), {"reason": ""})
    listing = Listing.objects.get(pk=listing.pk)
    assert empty.status_code == 200
    assert listing.state == ListingState.NEEDS_REVIEW

    client.post(reverse("admin:listings_reject", args=[listing.pk]), {"reason": "The owner of record differs."})
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.REJECTED
    assert listing.review_note == "The owner of record differs."


def test_an_approval_out_of_order_is_refused_and_changes_nothing(client, user):
    listing = make_listing(seller=user, publish=False)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(reverse("admin:listings_approve", args=[listing.pk]), follow=True)

    assert "cannot be approved" in response.content.decode()
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.DRAFT


def test_the_state_cannot_be_set_directly():
    listing = Listing(title="x")

    with pytest.raises(AttributeError):
        listing.state = ListingState.PUBLISHED


def test_withdrawing_a_published_listing_removes_it_from_search(client, user):
    listing = make_listing(seller=user)
    client.force_login(user)

    client.post(reverse("listings:withdraw", args=[listing.pk]))

    listing = Listing.objects.get(pk=listing.pk)
    assert listing.state == ListingState.WITHDRAWN
    assert not ListingSearchEntry.objects.exists()


def test_nobody_acts_on_someone_elses_listing(client, user, other_user):
    listing = make_listing(seller=user, publish=False)
    client.force_login(other_user)

    for name in ("listings:edit", "listings:submit", "listings:withdraw", "listings:document-add"):
        response = client.post(reverse(name, args=[listing.pk]), {"title": "hijacked"})
        assert response.status_code == 404, name

    listing = Listing.objects.get(pk=listing.pk)
    assert (listing.state, listing.title) == (ListingState.DRAFT, "Sparse neural network accelerator patent")
    assert client.get(reverse("listings:detail", args=[listing.pk])).status_code == 404


def test_only_a_draft_can_be_edited(client, user):
    listing = make_listing(seller=user)
    client.force_login(user)

    form = new_listing_form(title="Changed after publication")
    response = client.post(reverse("listings:edit", args=[listing.pk]), form, follow=True)

    assert "Only a draft can be edited" in response.content.decode()
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.title == "Sparse neural network accelerator patent"


def test_my_listings_shows_each_state_and_what_it_waits_for(client, user):
    make_listing(seller=user, publish=False, title="A draft")
    make_listing(seller=user, title="A live one")
    client.force_login(user)

    page = client.get(reverse("listings:mine")).content.decode()

    assert "A draft" in page
    assert "You: complete and submit it." in page
    assert "Buyers: it is live." in page


# --- Documents -------------------------------------------------------------------------------


def upload(client, listing, name: str, content: bytes, visibility: str = "public"):
    return client.post(
        reverse("listings:document-add", args=[listing.pk]),
        {"file": SimpleUploadedFile(name, content), "visibility": visibility},
        follow=True,
    )


def test_a_pdf_and_a_png_are_accepted_by_their_content(client, user):
    listing = make_listing(seller=user, publish=False)
    client.force_login(user)

    upload(client, listing, "brochure.pdf", PDF)
    upload(client, listing, "drawing.bin", PNG, visibility="data_room")

    documents = {document.original_name: document for document in ListingDocument.objects.all()}
    assert documents["brochure.pdf"].content_type == "application/pdf"
    assert documents["drawing.bin"].content_type == "image/png"
    assert documents["drawing.bin"].visibility == "data_room"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("brochure.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>", "is not a PDF, PNG or JPEG"),
        ("empty.pdf", b"", "The submitted file is empty."),
        ("huge.pdf", b"%PDF-" + b"0" * (30 * 1024 * 1024), "larger than 20 MB"),
    ],
)
def test_disguised_empty_and_oversized_uploads_are_refused(client, user, name, content, message):
    listing = make_listing(seller=user, publish=False)
    client.force_login(user)

    response = upload(client, listing, name, content)

    assert message in response.content.decode()
    assert not ListingDocument.objects.exists()


def test_data_room_documents_are_hidden_from_the_public(client, user, other_user):
    listing = make_listing(seller=user)
    client.force_login(user)
    upload(client, listing, "brochure.pdf", PDF)
    upload(client, listing, "contract.pdf", PDF, visibility="data_room")
    private = ListingDocument.objects.get(original_name="contract.pdf")
    client.force_login(other_user)

    page = client.get(reverse("listings:detail", args=[listing.pk])).content.decode()
    download = client.get(reverse("listings:document", args=[listing.pk, private.pk]))

    assert "brochure.pdf" in page
    assert "contract.pdf" not in page
    assert download.status_code == 404
