"""factory_boy factories for the models every app's tests need."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    organisation = factory.Faker("company")
    country = "US"
    legal_name = factory.LazyAttribute(lambda user: user.organisation)
    legal_address = factory.Faker("address")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        # Mandatory verification: a usable account has a verified primary address.
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def make_right(**overrides: Any) -> Any:
    """A US utility patent in force, with one owner of record."""
    from datetime import date

    from listings.models import OwnerOfRecord, Right

    owner = str(overrides.pop("owner", "Example Innovations Inc."))
    fields: dict[str, Any] = {
        "kind": "patent",
        "sub_kind": "invention",
        "jurisdiction": "US",
        "registration_number": str(6_000_000 + Right.objects.count()),
        "title": "Neural network accelerator with sparse weights",
        "abstract": "A hardware accelerator that skips zero weights of a neural network.",
        "cpc_symbols": ["G06N3/063"],
        "filing_date": date(2015, 3, 2),
        "grant_date": date(2018, 6, 5),
        "expiry_date": date(2035, 3, 2),
        "status": "in_force",
        "facts_source": "test fixture",
    }
    fields.update(overrides)
    right = Right.objects.create(**fields)
    OwnerOfRecord.objects.create(right=right, name=owner)
    return right


def make_listing(*, seller: Any, rights: Any = None, publish: bool = True, **terms: Any) -> Any:
    """A listing through the services, published by a staff decision unless told otherwise."""
    from listings import services

    defaults: dict[str, Any] = {
        "title": "Sparse neural network accelerator patent",
        "description": "",
        "deal_types": ["assignment"],
        "price_mode": "fixed",
        "currency": "USD",
        "asking_price": 2_500_000,
    }
    defaults.update(terms)
    listing = services.listing_create_draft(
        seller=seller, rights=rights or [make_right()], terms=services.ListingTerms(**defaults)
    )
    if publish:
        services.listing_submit(listing=listing, acting_user=seller)
        # Submission waits for the verification run (an app above listings); the fixture hands
        # the listing to staff review directly, as a run that needs review would.
        services.listing_verification_needs_review(listing=listing, note="Test fixture: straight to staff review.")
        staff: Any = UserFactory(is_staff=True)
        listing = services.listing_approve(listing=listing, acting_user=staff)
    return listing
