"""Helpers for the verification-run tests: rights seeded into the sandbox register, and the
matching listings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from listings import services as listings_services
from listings.models import Listing, OwnerOfRecord, Right
from sandbox_registry.models import Kind, Office, PartyRole, RegisterEntry
from sandbox_registry.seeding import EntrySeed, Seeds
from sandbox_registry.services import register_seed
from tests.factories import UserFactory
from verification.registries.records import add_months

OWNER = "Acme Widgets, Inc."


def today() -> date:
    return timezone.localdate()


def seed_us_patent(
    *,
    application: str,
    patent: str,
    owner: str = OWNER,
    granted_months_ago: int = 12,
    status: tuple[str, str] = ("150", "Patented Case"),
) -> RegisterEntry:
    """A granted US utility patent in the sandbox register: term and maintenance fees follow
    from its dates, as the ODP client derives them."""
    grant = add_months(today(), -granted_months_ago)
    filing = add_months(grant, -24)
    register_seed(
        seeds=Seeds(
            entries=[
                EntrySeed(
                    kind=Kind.US_PATENT,
                    fields={
                        "office": Office.USPTO,
                        "application_type": "UTL",
                        "application_number": application,
                        "patent_number": patent,
                        "title": "Self-aligning widget coupling",
                        "status_code": status[0],
                        "status_text": status[1],
                        "status_date": grant,
                        "filing_date": filing,
                        "grant_date": grant,
                        "pta_days": 0,
                        "source": "test",
                    },
                    parties=[{"role": PartyRole.APPLICANT, "sequence": 1, "name": owner}],
                )
            ]
        )
    )
    return RegisterEntry.objects.get(kind=Kind.US_PATENT, application_number=application)


def right_for(*, application: str = "", patent: str = "", sub_kind: str = "invention", **extra: Any) -> Right:
    fields: dict[str, Any] = {
        "kind": "patent",
        "sub_kind": sub_kind,
        "jurisdiction": "US",
        "application_number": application,
        "registration_number": patent,
        "title": "Self-aligning widget coupling",
        "status": "in_force",
        "expiry_date": add_months(today(), 12 * 15),
        "facts_source": "seller's statement",
    }
    fields.update(extra)
    right = Right.objects.create(**fields)
    OwnerOfRecord.objects.create(right=right, name=OWNER)
    return right


def listing_for(right: Right, *, seller_name: str = "Acme Widgets Inc.", description: str = "") -> Listing:
    seller: Any = UserFactory(legal_name=seller_name)
    return listings_services.listing_create_draft(
        seller=seller,
        rights=[right],
        terms=listings_services.ListingTerms(
            title="Widget coupling patent",
            description=description,
            deal_types=["assignment"],
            price_mode="fixed",
            currency="USD",
            asking_price=5_000_000,
        ),
    )
