"""Facet codes: every facet value of a search entry as one integer, so that a results page counts
all its facets with a single unnest and GROUP BY instead of one aggregation per facet.

A code is FACET_ID * CODE_SPAN + the value's number within its facet. The numbers come from the
same lists the page offers (the model choices, the price and term bands), in their order, so a
value added at the end of a list leaves every stored code valid; `search_entries_refresh` writes
the codes (listings.search_index) and listings.search reads them back with `code_decode`.
"""

# ruff: noqa: S608 - the SQL here is built from our own column expressions and fixed value lists only.
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from listings.models import DealType, Jurisdiction, Kind, Status

CODE_SPAN = 10_000

# The price bands (major units) and the remaining-term bands (years): (key, label, low, high).
PRICE_BANDS: dict[str, tuple[str, int | None, int | None]] = {
    "under_10k": ("Under 10,000", None, 10_000),
    "10k_100k": ("10,000 to 100,000", 10_000, 100_000),
    "100k_1m": ("100,000 to 1 million", 100_000, 1_000_000),
    "over_1m": ("Over 1 million", 1_000_000, None),
    "on_request": ("Price on request", None, None),
}
# A right whose term has ended has no remaining term: it is in no band (the status says expired).
TERM_BANDS: dict[str, tuple[str, int | None, int | None]] = {
    "under_5": ("Under 5 years", 0, 5),
    "5_10": ("5 to 10 years", 5, 10),
    "10_15": ("10 to 15 years", 10, 15),
    "over_15": ("Over 15 years", 15, None),
}

# Facets whose values are listed: their code is the value's position (from 1) in the list.
LISTED: dict[str, list[str]] = {
    "kind": list(Kind.values),
    "jurisdiction": list(Jurisdiction.values),
    "status": list(Status.values),
    "deal_type": list(DealType.values),
    "price": list(PRICE_BANDS),
    "term": list(TERM_BANDS),
}
FACET_IDS = {
    "kind": 1,
    "jurisdiction": 2,
    "status": 3,
    "cpc_section": 4,
    "cpc_class": 5,
    "nice": 6,
    "deal_type": 7,
    "price": 8,
    "term": 9,
}
_FACET_NAMES = {number: name for name, number in FACET_IDS.items()}


def _listed_sql(facet: str, array: str) -> str:
    """SQL: the codes of an array column's values (NULL for a value not in the list)."""
    values = ", ".join(f"'{value}'" for value in LISTED[facet])
    base = FACET_IDS[facet] * CODE_SPAN
    return f"ARRAY(SELECT {base} + array_position(ARRAY[{values}]::text[], v::text) FROM unnest({array}) AS v)"


def codes_sql(
    *,
    kinds: str,
    jurisdictions: str,
    statuses: str,
    cpc_sections: str,
    cpc_classes: str,
    nice_classes: str,
    deal_types: str,
    price: str,
) -> str:
    """SQL computing the stored codes of one entry from the SQL expressions of its facet values
    (the term band is not stored: it depends on the day, see `term_case_sql`)."""
    cpc_section = FACET_IDS["cpc_section"] * CODE_SPAN
    cpc_class = FACET_IDS["cpc_class"] * CODE_SPAN
    nice = FACET_IDS["nice"] * CODE_SPAN
    price_values = ", ".join(f"'{value}'" for value in LISTED["price"])
    parts = [
        _listed_sql("kind", kinds),
        _listed_sql("jurisdiction", jurisdictions),
        _listed_sql("status", statuses),
        f"ARRAY(SELECT {cpc_section} + ascii(v) FROM unnest({cpc_sections}) AS v)",
        # "H04": letter number (A=1) * 100 + the two digits.
        f"ARRAY(SELECT {cpc_class} + (ascii(v) - 64) * 100 + substr(v, 2, 2)::int "
        f"FROM unnest({cpc_classes}) AS v WHERE v ~ '^[A-Z][0-9][0-9]$')",
        f"ARRAY(SELECT {nice} + v FROM unnest({nice_classes}) AS v)",
        _listed_sql("deal_type", deal_types),
        f"ARRAY[{FACET_IDS['price'] * CODE_SPAN} + "
        f"array_position(ARRAY[{price_values}]::text[], listings_price_band({price}))]",
    ]
    # array_remove drops the NULL of a value missing from its list.
    return "array_remove(" + " || ".join(parts) + ", NULL)::int[]"


def term_boundary(today: date, years: int) -> date:
    """The expiry date that leaves `years` of remaining term today (a year of 365.25 days)."""
    return today + timedelta(days=round(years * 365.25))


def term_band_sql(band: str, expiry: str, *, today: date, values: dict[str, Any], prefix: str = "term") -> str:
    """SQL: true when the date expression `expiry` falls in this remaining-term band today; the
    boundary dates travel in `values` under names starting with `prefix`."""
    _, low, high = TERM_BANDS[band]
    parts = [f"{expiry} IS NOT NULL"]
    if low is not None:
        values[f"{prefix}_{band}_low"] = term_boundary(today, low)
        parts.append(f"{expiry} >= %({prefix}_{band}_low)s")
    if high is not None:
        values[f"{prefix}_{band}_high"] = term_boundary(today, high)
        parts.append(f"{expiry} < %({prefix}_{band}_high)s")
    return "(" + " AND ".join(parts) + ")"


def term_case_sql(expiry: str, *, today: date, values: dict[str, Any], codes: bool = True) -> str:
    """SQL: an entry's remaining-term band today, as its code (or, with codes=False, the band's
    key); NULL without an expiry date."""
    base = FACET_IDS["term"] * CODE_SPAN
    cases = []
    for position, band in enumerate(TERM_BANDS, start=1):
        condition = term_band_sql(band, expiry, today=today, values=values, prefix="band")
        cases.append(f"WHEN {condition} THEN {base + position if codes else repr(band)}")
    return f"CASE {' '.join(cases)} END"


def code_decode(code: int) -> tuple[str, str] | None:
    """(facet, value as the URL spells it) of a code; None for a code no facet knows."""
    facet = _FACET_NAMES.get(code // CODE_SPAN)
    number = code % CODE_SPAN
    if facet is None:
        return None
    if facet in LISTED:
        values = LISTED[facet]
        return (facet, values[number - 1]) if 1 <= number <= len(values) else None
    if facet == "cpc_section":
        return facet, chr(number)
    if facet == "cpc_class":
        return facet, f"{chr(64 + number // 100)}{number % 100:02d}"
    return facet, str(number)


def facet_id(facet: str) -> int:
    return FACET_IDS[facet]


def value_code(facet: str, value: str | int) -> int | None:
    """The code of a facet value as the URL spells it (None for a value the facet cannot hold);
    the inverse of `code_decode`."""
    base = FACET_IDS[facet] * CODE_SPAN
    text = str(value)
    if facet in LISTED:
        return base + LISTED[facet].index(text) + 1 if text in LISTED[facet] else None
    if facet == "cpc_section":
        return base + ord(text) if len(text) == 1 and "A" <= text <= "Z" else None
    if facet == "cpc_class":
        valid = len(text) == 3 and "A" <= text[0] <= "Z" and text[1:].isdigit()
        return base + (ord(text[0]) - 64) * 100 + int(text[1:]) if valid else None
    if facet == "nice":
        return base + int(text) if text.isdigit() and 1 <= int(text) < CODE_SPAN else None
    return None
