"""A seller posts a listing with a document and submits it; staff approve it in the admin; a buyer
searches, narrows by two facets, opens the listing and watches it."""

from __future__ import annotations

import pytest

from listings.models import Listing, ListingState, Watch
from tests.factories import PASSWORD, UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Your profile").wait_for()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()


def test_post_approve_search_narrow_open_and_watch(page, tmp_path):
    seller = UserFactory(email="seller@example.com", legal_name="Voltaic Materials GmbH")
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    buyer = UserFactory(email="buyer@example.com")
    # Something else on the market, so that the facets have more than one value to narrow.
    make_listing(
        seller=staff,
        title="Battery casing trademark",
        rights=[
            make_right(
                kind="trademark",
                sub_kind="trademark",
                registration_number="2178784",
                title="VOLTCASE",
                abstract="",
                cpc_symbols=[],
                nice_classes=[9],
                owner="Casing Co",
            )
        ],
    )
    brochure = tmp_path / "brochure.pdf"
    brochure.write_bytes(PDF)

    # The seller posts a listing with a document and submits it.
    log_in(page, seller.email)
    page.get_by_role("link", name="Sell").click()
    page.get_by_label("Kind").select_option("patent")
    page.get_by_label("Type of right").select_option("invention")
    page.get_by_label("Office").select_option("US")
    page.get_by_label("US patent number").fill("US 7,654,321 B2")
    page.get_by_label("Title of the right (or the mark)").fill("Sulphide glass electrolyte for solid-state batteries")
    page.get_by_label("Abstract").fill("A lithium battery whose electrolyte is a sulphide glass.")
    page.get_by_label("Owners of record").fill("Voltaic Materials GmbH")
    page.get_by_label("Expiry date").fill("2036-05-01")
    page.get_by_label("CPC symbols").fill("H01M 10/0562")
    page.locator("#id_title").fill("Solid-state battery electrolyte patent")
    page.get_by_label("Assignment (sale)").check()
    page.get_by_label("Price mode").select_option("fixed")
    page.get_by_label("Asking price").fill("250,000")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()

    page.get_by_label("File").set_input_files(str(brochure))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("“brochure.pdf” is added.").wait_for()
    page.get_by_role("button", name="Submit for verification").click()
    page.get_by_text("Submitted").first.wait_for()
    listing = Listing.objects.get(title="Solid-state battery electrolyte patent")
    assert listing.state == ListingState.SUBMITTED
    # The verification run (tests/browser/test_verification_flow.py covers it) finds the owner
    # needs a person's eye: the listing waits for staff.
    from listings.services import listing_verification_needs_review

    listing_verification_needs_review(listing=listing, note="Owner of record needs review.")
    log_out(page)

    # A staff user approves it in the admin.
    log_in(page, staff.email)
    page.goto(f"/admin/listings/listing/{listing.pk}/change/")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved: the listing is now published.").wait_for()
    assert Listing.objects.get(pk=listing.pk).state == ListingState.PUBLISHED
    log_out(page)

    # A buyer searches, narrows by two facets, opens the listing and watches it.
    log_in(page, buyer.email)
    page.get_by_role("link", name="Browse").click()
    page.get_by_label("Search", exact=True).fill("battery")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="2 listings for “battery”").wait_for()
    page.locator("fieldset[data-facet=kind]").get_by_label("Patent").check()
    page.get_by_role("heading", name="1 listing for “battery”").wait_for()
    page.locator("fieldset[data-facet=deal_type]").get_by_label("Assignment (sale)").check()
    page.get_by_role("heading", name="1 listing for “battery”").wait_for()
    assert "kind=patent" in page.url
    assert "deal_type=assignment" in page.url

    page.get_by_role("link", name="Solid-state battery electrolyte patent").click()
    page.get_by_role("heading", name="Legal facts").wait_for()
    assert page.get_by_role("link", name="brochure.pdf").is_visible()
    page.get_by_role("button", name="Watch this listing").click()
    page.get_by_text("Added to your watchlist.").wait_for()
    assert Watch.objects.filter(user=buyer, listing=listing).exists()
