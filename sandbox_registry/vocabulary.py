"""Status codes and texts in each office's own vocabulary, for the seed and for staff's admin
actions. Only what the sandbox uses; the offices have many more."""

from __future__ import annotations

from datetime import date

from sandbox_registry.models import Kind

# (code, text) per office and per outcome staff may want to demonstrate.
STATUSES: dict[str, dict[str, tuple[str, str]]] = {
    Kind.US_PATENT: {
        "pending": ("30", "Docketed New Case - Ready for Examination"),
        "in_force": ("150", "Patented Case"),
        "expired": ("159", "Patent Expired"),
        "lapsed": ("250", "Patent Expired Due to NonPayment of Maintenance Fees Under 37 CFR 1.362"),
        "abandoned": ("161", "Abandoned -- Failure to Respond to an Office Action"),
    },
    Kind.US_TRADEMARK: {
        "pending": ("630", "New application will be assigned to an examining attorney."),
        "in_force": ("800", "The registration has been renewed."),
        "expired": ("900", "Registration expired because registrant did not file an acceptable renewal application."),
        "cancelled": (
            "710",
            "Registration cancelled because registrant did not file an acceptable declaration under Section 8.",
        ),
        "abandoned": ("602", "Abandoned because the applicant failed to respond to an Office action."),
    },
    Kind.EU_TRADE_MARK: {
        "pending": ("APPLICATION_PUBLISHED", "Application published"),
        "in_force": ("REGISTERED", "Registered"),
        "expired": ("EXPIRED", "Expired"),
        "cancelled": ("CANCELLED", "Cancelled"),
        "abandoned": ("WITHDRAWN", "Withdrawn"),
    },
    Kind.EU_DESIGN: {
        "in_force": ("REGISTERED", "Registered"),
        "expired": ("EXPIRED", "Expired"),
        "cancelled": ("INVALIDITY_DECLARED", "Invalidity declared"),
    },
    Kind.EP_PATENT: {
        "pending": ("STAA", "REQUEST FOR EXAMINATION WAS MADE"),
        "in_force": ("STAA", "NO OPPOSITION FILED WITHIN TIME LIMIT"),
        "cancelled": ("STAA", "THE PATENT HAS BEEN REVOKED"),
        "abandoned": ("STAA", "THE APPLICATION IS DEEMED TO BE WITHDRAWN"),
    },
}


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def us_patent_term_end(
    *, application_type: str, filing_date: date | None, grant_date: date | None, stated_expiry: date | None
) -> date | None:
    """When a US patent's term ends, from what the source states: its own expiry date (NASA's
    portfolio), else 20 years from filing (utility, plant) or 14/15 years from grant (design).
    None when the dates do not tell."""
    if stated_expiry:
        return stated_expiry
    if application_type == "DES" and grant_date:
        return add_years(grant_date, 15 if grant_date >= date(2015, 5, 13) else 14)
    if filing_date:
        return add_years(filing_date, 20)
    if grant_date and add_years(grant_date, 20) < date.today():
        # Filing precedes grant, so 20 years from grant is past any 20-years-from-filing term
        # (and any 17-years-from-grant term of older patents).
        return add_years(grant_date, 20)
    return None


def us_patent_status(
    *,
    application_type: str,
    filing_date: date | None,
    grant_date: date | None,
    stated_expiry: date | None,
    granted: bool,
    today: date,
) -> tuple[str, str]:
    if not granted:
        return STATUSES[Kind.US_PATENT]["pending"]
    end = us_patent_term_end(
        application_type=application_type, filing_date=filing_date, grant_date=grant_date, stated_expiry=stated_expiry
    )
    if end and end < today:
        return STATUSES[Kind.US_PATENT]["expired"]
    return STATUSES[Kind.US_PATENT]["in_force"]
