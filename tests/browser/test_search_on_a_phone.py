"""On a phone, the results come first: the filters wait behind a button, open in a side panel, and
a filter chosen there narrows the results."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_filters_open_from_a_button_and_narrow_the_results(phone):
    seller = UserFactory()
    make_listing(seller=seller, title="Battery electrode patent", rights=[make_right(registration_number="7100001")])
    make_listing(
        seller=seller,
        title="Battery casing trademark",
        rights=[
            make_right(
                kind="trademark",
                sub_kind="trademark",
                registration_number="2178785",
                application_number="75026641",
                title="VOLTA",
                abstract="",
                goods_and_services="Batteries",
                cpc_symbols=[],
                nice_classes=[9],
            )
        ],
    )

    phone.goto("/listings/?q=battery")
    phone.get_by_role("heading", name="2 listings for “battery”").wait_for()
    patent = phone.locator("fieldset[data-facet=kind]").get_by_label("Patent")
    # The results come first; the filters are hidden until asked for.
    assert not patent.is_visible()

    phone.get_by_role("button", name="Filters").click()
    patent.check()
    phone.get_by_role("heading", name="1 listing for “battery”").wait_for()
    assert "kind=patent" in phone.url
    assert phone.get_by_role("button", name="Filters (1)").is_visible()
    assert phone.get_by_role("link", name="Battery electrode patent").is_visible()
