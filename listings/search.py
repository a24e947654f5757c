"""Buyers' search: parsing a search from its URL, running it on the search index, counting facets.

Every filter lives in the query string, so a search can be shared and bookmarked. The text
query uses PostgreSQL's web-search syntax ("quoted phrases", OR, -exclusion), which accepts any
input without a syntax error; an office number in any common spelling is recognised first and
leads straight to its listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from listings.models import DealType, Jurisdiction, Kind, ListingSearchEntry, Status
from listings.models.classification import CpcSymbol, NiceClass
from listings.office_numbers import detect

# Longer queries are cut: nobody types more, and the parser's cost grows with the length.
MAX_QUERY_LENGTH = 300
PAGE_SIZE = 20
# Up to here counts are exact; above, the planner's estimate is shown, marked as such.
EXACT_COUNT_LIMIT = 10_000
MAX_PAGE = 500

SORTS = {
    "relevance": "Relevance",
    "newest": "Newest",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "term_desc": "Remaining term: longest first",
}

# Price bands in major units of the listing's currency.
PRICE_BANDS: dict[str, tuple[str, int | None, int | None]] = {
    "under_10k": ("Under 10,000", None, 10_000),
    "10k_100k": ("10,000 to 100,000", 10_000, 100_000),
    "100k_1m": ("100,000 to 1 million", 100_000, 1_000_000),
    "over_1m": ("Over 1 million", 1_000_000, None),
    "on_request": ("Price on request", None, None),
}
TERM_BANDS: dict[str, tuple[str, int | None, int | None]] = {
    "under_5": ("Under 5 years", None, 5),
    "5_10": ("5 to 10 years", 5, 10),
    "10_15": ("10 to 15 years", 10, 15),
    "over_15": ("Over 15 years", 15, None),
}


@dataclass
class SearchParams:
    q: str = ""
    kind: list[str] = field(default_factory=list)
    jurisdiction: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    cpc_section: list[str] = field(default_factory=list)
    cpc_class: list[str] = field(default_factory=list)
    nice: list[int] = field(default_factory=list)
    deal_type: list[str] = field(default_factory=list)
    price: list[str] = field(default_factory=list)
    term: list[str] = field(default_factory=list)
    verified: bool = False
    sort: str = "relevance"
    page: int = 1
    notices: list[str] = field(default_factory=list)

    FACETS = ("kind", "jurisdiction", "status", "cpc_section", "cpc_class", "nice", "deal_type", "price", "term")


def _choices(values: list[str], allowed: set[str]) -> list[str]:
    return sorted({value for value in values if value in allowed})


def params_parse(query: QueryDict) -> SearchParams:
    """Read a search from a query string; unknown values are dropped, never an error."""
    params = SearchParams()
    text = " ".join(query.get("q", "").split())
    if len(text) > MAX_QUERY_LENGTH:
        params.notices.append(f"Your search was cut to its first {MAX_QUERY_LENGTH} characters.")
        text = text[:MAX_QUERY_LENGTH]
    params.q = text
    params.kind = _choices(query.getlist("kind"), set(Kind.values))
    params.jurisdiction = _choices(query.getlist("jurisdiction"), set(Jurisdiction.values))
    params.status = _choices(query.getlist("status"), set(Status.values))
    params.cpc_section = _choices([v.upper() for v in query.getlist("cpc_section")], set("ABCDEFGHY"))
    params.cpc_class = sorted({v.upper() for v in query.getlist("cpc_class") if len(v) == 3 and v[1:].isdigit()})
    params.nice = sorted({int(v) for v in query.getlist("nice") if v.isdigit() and 1 <= int(v) <= 45})
    params.deal_type = _choices(query.getlist("deal_type"), set(DealType.values))
    params.price = _choices(query.getlist("price"), set(PRICE_BANDS))
    params.term = _choices(query.getlist("term"), set(TERM_BANDS))
    params.verified = query.get("verified") == "1"
    params.sort = query.get("sort", "relevance") if query.get("sort") in SORTS else "relevance"
    if not params.q and params.sort == "relevance":
        params.sort = "newest"
    page = query.get("page", "1")
    params.page = min(int(page), MAX_PAGE) if page.isdigit() and int(page) >= 1 else 1
    return params


def exact_number_match(q: str) -> int | None:
    """The listing a query names by office number, when the whole query is one number."""
    if not q or len(q) > 64:
        return None
    candidates = detect(q)
    if not candidates:
        return None
    canonicals = [number.canonical for number in candidates]
    return (
        ListingSearchEntry.objects.filter(numbers__overlap=canonicals)
        .order_by("-published_at")
        .values_list("listing_id", flat=True)
        .first()
    )


def _search_query(q: str) -> SearchQuery | None:
    if not q:
        return None
    return SearchQuery(q, search_type="websearch", config="english")


def _query_is_empty(query: SearchQuery) -> bool:
    """True when the text holds no searchable word (only operators or stop words)."""
    sql, sql_params = query.as_sql(_compiler(), connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT numnode({sql})", sql_params)
        return cursor.fetchone()[0] == 0


def _compiler() -> Any:
    return ListingSearchEntry.objects.all().query.get_compiler(using="default")


def _band_filter(queryset: QuerySet[ListingSearchEntry], params: SearchParams, *, skip: str = "") -> Any:
    today = timezone.localdate()
    if skip != "price" and params.price:
        condition = Q()
        for band in params.price:
            condition |= _price_condition(band)
        queryset = queryset.filter(condition)
    if skip != "term" and params.term:
        condition = Q()
        for band in params.term:
            condition |= _term_condition(band, today)
        queryset = queryset.filter(condition)
    return queryset


def _price_condition(band: str) -> Any:
    _, low, high = PRICE_BANDS[band]
    if band == "on_request":
        return Q(price__isnull=True)
    # Minor units per major unit: 100 for most currencies. Bands are indicative, so one
    # exponent for all currencies keeps the filter index-friendly.
    condition = Q(price__isnull=False)
    if low is not None:
        condition &= Q(price__gte=low * 100)
    if high is not None:
        condition &= Q(price__lt=high * 100)
    return condition


def _term_condition(band: str, today: date) -> Any:
    _, low, high = TERM_BANDS[band]
    condition = Q(expiry_date__isnull=False)
    if low is not None:
        condition &= Q(expiry_date__gte=today + timedelta(days=round(low * 365.25)))
    if high is not None:
        condition &= Q(expiry_date__lt=today + timedelta(days=round(high * 365.25)))
    return condition


def _filtered(params: SearchParams, *, skip: str = "") -> QuerySet[ListingSearchEntry]:
    """The entries matching the search, optionally without one facet's own filter (so that a
    facet's counts show what choosing another of its values would give)."""
    queryset = ListingSearchEntry.objects.all()
    query = _search_query(params.q)
    if query is not None:
        queryset = queryset.filter(document=query)
    array_filters = {
        "kind": ("kinds__overlap", params.kind),
        "jurisdiction": ("jurisdictions__overlap", params.jurisdiction),
        "status": ("statuses__overlap", params.status),
        "cpc_section": ("cpc_sections__overlap", params.cpc_section),
        "cpc_class": ("cpc_classes__overlap", params.cpc_class),
        "nice": ("nice_classes__overlap", params.nice),
        "deal_type": ("deal_types__overlap", params.deal_type),
    }
    for name, (lookup, values) in array_filters.items():
        if values and name != skip:
            queryset = queryset.filter(**{lookup: values})
    if params.verified and skip != "verified":
        queryset = queryset.filter(verified=True)
    return _band_filter(queryset, params, skip=skip)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResults:
    params: SearchParams
    listing_ids: list[int]
    total: int
    total_is_estimate: bool
    facets: dict[str, list[FacetValue]]
    pages: int


def _count(queryset: QuerySet[ListingSearchEntry]) -> tuple[int, bool]:
    exact = queryset[: EXACT_COUNT_LIMIT + 1].count()
    if exact <= EXACT_COUNT_LIMIT:
        return exact, False
    sql, sql_params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", sql_params)
        plan = cursor.fetchone()[0]
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, EXACT_COUNT_LIMIT + 1), True


def _array_facet(params: SearchParams, name: str, column: str) -> dict[str, int]:
    queryset = _filtered(params, skip=name)
    sql, sql_params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value::text, count(*) FROM listings_listingsearchentry e, unnest(e.{column}) AS value "  # noqa: S608 - the column comes from a fixed list
            f"WHERE e.listing_id IN ({sql}) GROUP BY value",
            sql_params,
        )
        return {str(value): count for value, count in cursor.fetchall()}


def _band_facet(params: SearchParams, name: str) -> dict[str, int]:
    queryset = _filtered(params, skip=name)
    today = timezone.localdate()
    counts = {}
    for band in PRICE_BANDS if name == "price" else TERM_BANDS:
        condition = _price_condition(band) if name == "price" else _term_condition(band, today)
        counts[band] = queryset.filter(condition).count()
    return counts


def search_run(params: SearchParams) -> SearchResults:
    queryset = _filtered(params)
    query = _search_query(params.q)
    if query is not None and _query_is_empty(query):
        params.notices.append("Your search has no words to look for; showing every listing.")
        params.q = ""
        query = None
        queryset = _filtered(params)
        if params.sort == "relevance":
            params.sort = "newest"
    order: list[Any]
    if params.sort == "relevance" and query is not None:
        queryset = queryset.annotate(rank=SearchRank(F("document"), query, cover_density=True))
        order = [F("rank").desc(), F("published_at").desc()]
    elif params.sort == "price_asc":
        order = [F("price").asc(nulls_last=True), F("published_at").desc()]
    elif params.sort == "price_desc":
        order = [F("price").desc(nulls_last=True), F("published_at").desc()]
    elif params.sort == "term_desc":
        order = [F("expiry_date").desc(nulls_last=True), F("published_at").desc()]
    else:
        order = [F("published_at").desc()]
    total, estimate = _count(queryset)
    pages = max(1, -(-min(total, MAX_PAGE * PAGE_SIZE) // PAGE_SIZE))
    if params.page > pages:
        params.notices.append(f"There are only {pages} pages of results; showing the last.")
        params.page = pages
    start = (params.page - 1) * PAGE_SIZE
    listing_ids = list(queryset.order_by(*order).values_list("listing_id", flat=True)[start : start + PAGE_SIZE])
    return SearchResults(
        params=params,
        listing_ids=listing_ids,
        total=total,
        total_is_estimate=estimate,
        facets=_facets(params),
        pages=pages,
    )


def _facets(params: SearchParams) -> dict[str, list[FacetValue]]:
    raw = {
        "kind": _array_facet(params, "kind", "kinds"),
        "jurisdiction": _array_facet(params, "jurisdiction", "jurisdictions"),
        "status": _array_facet(params, "status", "statuses"),
        "cpc_section": _array_facet(params, "cpc_section", "cpc_sections"),
        "cpc_class": _array_facet(params, "cpc_class", "cpc_classes"),
        "nice": _array_facet(params, "nice", "nice_classes"),
        "deal_type": _array_facet(params, "deal_type", "deal_types"),
        "price": _band_facet(params, "price"),
        "term": _band_facet(params, "term"),
    }
    labels: dict[str, dict[str, str]] = {
        "kind": dict(Kind.choices),
        "jurisdiction": {code: code for code in Jurisdiction.values},
        "status": dict(Status.choices),
        "deal_type": dict(DealType.choices),
        "price": {band: label for band, (label, _, _) in PRICE_BANDS.items()},
        "term": {band: label for band, (label, _, _) in TERM_BANDS.items()},
    }
    cpc_symbols = set(raw["cpc_section"]) | set(raw["cpc_class"])
    cpc_labels = dict(CpcSymbol.objects.filter(symbol__in=cpc_symbols).values_list("symbol", "title"))
    labels["cpc_section"] = {s: f"{s} {cpc_labels.get(s, '')}".strip() for s in raw["cpc_section"]}
    labels["cpc_class"] = {c: f"{c} {cpc_labels.get(c, '')}".strip() for c in raw["cpc_class"]}
    nice_labels = dict(NiceClass.objects.values_list("number", "heading"))
    labels["nice"] = {n: f"{n} {nice_labels.get(int(n), '')[:50]}".strip() for n in raw["nice"]}
    selected: dict[str, set[str]] = {name: {str(v) for v in getattr(params, name)} for name in SearchParams.FACETS}
    facets = {}
    for name, counts in raw.items():
        values = [
            FacetValue(value=value, label=labels[name].get(value, value), count=count, selected=value in selected[name])
            for value, count in counts.items()
            if count or value in selected[name]
        ]
        if name in {"cpc_class", "nice"}:
            values.sort(key=lambda item: (-item.count, item.value))
            values = values[:15]
        elif name not in {"price", "term"}:
            values.sort(key=lambda item: (-item.count, item.label))
        facets[name] = values
    return facets


def entries_matching(params: SearchParams) -> QuerySet[ListingSearchEntry]:
    """The index entries a search matches, unordered (for alerts and counts)."""
    return _filtered(params)


def params_query_string(params: SearchParams) -> str:
    """The search as URL parameters, in a canonical order (page and notices left out)."""
    query = QueryDict(mutable=True)
    if params.q:
        query["q"] = params.q
    for name in SearchParams.FACETS:
        values = getattr(params, name)
        if values:
            query.setlist(name, [str(value) for value in values])
    if params.verified:
        query["verified"] = "1"
    if params.sort not in {"relevance", "newest"}:
        query["sort"] = params.sort
    return query.urlencode()
