"""Buyers' search: parsing a search from its URL, running it on the search index, counting facets.

Every filter lives in the query string, so a search can be shared and bookmarked. The text
query uses PostgreSQL's web-search syntax ("quoted phrases", OR, -exclusion), which accepts any
input without a syntax error; an office number in any common spelling is recognised first and
leads straight to its listing.

How a page stays fast at a million listings (measured by `make bench`, see bench/):
- Partitions. The index is 16 hash partitions by listing (migration 0006). A GIN index answers
  with a bitmap of every match, which for a term matching a third of the catalogue costs more
  than the whole page may; over partitions, a LIMIT stops after the first partitions and pays
  only for their bitmaps. Each partition is a uniform random share of the catalogue. The text
  and the facet codes share one GIN index, so that a search with both intersects their lists in
  one scan rather than decoding a common word's whole list to AND it with a facet's.
- Counting. Totals and facet counts are exact up to EXACT_COUNT_LIMIT matches. Every facet is
  counted in ONE query over a materialised set: the matches of the text query (and the verified
  switch) that fail at most one facet filter, which is exactly the union of what each facet is
  counted over (a facet is counted without its own filter), with each entry's facet values
  stored as integer codes (listings.search_codes) so one unnest counts them all. The set is
  first read up to SAMPLE_ROWS rows: when that sample shows surely more than EXACT_COUNT_LIMIT
  matches (by SAMPLE_CONFIDENCE standard errors), its counts are scaled to estimates; otherwise
  a second read goes on from the sample's last row, up to EXACT_COUNT_LIMIT + 1 rows in all,
  counted exactly when they are all the matches and scaled when not. Rows come in partition
  order, and within a partition in block order, which is unrelated to content (entries are
  written in listing-id order); so a sample stopped by LIMIT covered the partitions before its
  last one whole and the last one up to its highest block, and is scaled by that share (this
  needs synchronize_seqscans=off, set with the server's other settings in
  marketplace/devstack.py, and no parallel scans), and the second read starts after that row.
  The first sample reads the first partition alone (planning and starting a scan cost more the
  more partitions it spans); when that partition holds fewer rows than the sample needs, the
  second read is of the whole index instead, unless its rows put the whole above the limit
  without settling it: then the next few partitions are read, enough to settle it if they hold
  as many, and the rest only when they do not. When facet filters narrow a sampled set to a count
  the sample cannot place, 2,000 matches are read first (MATCH_PROBE_ROWS); only when they
  cannot place it either are the matches counted on, from where they stopped up to the limit.
  The page with no search and no filter reads exact counts that triggers keep
  (ListingSearchFacetCount), and so does a facet whose only narrowing is its own filter. A page
  filtered on one value of a coded facet and nothing else (all trademarks) reads the counts
  triggers keep among that value's entries (ListingSearchFacetPairCount): exact, whatever their
  size, without reading an entry.
- Ranking. Up to EXACT_RANK_LIMIT matches are ranked exactly (ts_rank_cd over the weighted
  document, about 15 microseconds a match); when the first partition's matches show them to be
  that few, the read of the whole index that counts them ranks them too. Above that, ranking
  every match costs up to seconds at a million rows, so the page ranks a bounded candidate set:
  up to RANK_CANDIDATES matches whose title matches (a separate, small title-only tsvector with
  its own GIN index), topped up with other matches, and says so ("best matches first"); sorting
  by newest, price or term still covers every match. When the matches are many, the first
  partition's title matches are read alone first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from listings.classification import facet_labels
from listings.models import DealType, Jurisdiction, Kind, ListingSearchEntry, Status
from listings.office_numbers import detect
from listings.search_codes import (
    CODE_SPAN,
    PRICE_BANDS,
    TERM_BANDS,
    code_decode,
    facet_id,
    term_band_sql,
    term_boundary,
    term_case_sql,
    value_code,
)

__all__ = ["PRICE_BANDS", "TERM_BANDS"]

# Longer queries are cut: nobody types more, and the parser's cost grows with the length.
MAX_QUERY_LENGTH = 300
PAGE_SIZE = 20
# Up to here counts are exact; above, the planner's estimate is shown, marked as such.
EXACT_COUNT_LIMIT = 10_000
# The first sample read; when it shows surely more than EXACT_COUNT_LIMIT matches (see
# _surely_above), it is all a page counts.
SAMPLE_ROWS = 1_000
# Standard errors of margin before a sampled count is taken as surely above the exact limit.
SAMPLE_CONFIDENCE = 4
# The matches read first when the filters narrow a sampled set: enough to tell a count surely
# above EXACT_COUNT_LIMIT from about 11,000 up without counting to the limit.
MATCH_PROBE_ROWS = 2_000
MAX_PAGE = 500
# Up to EXACT_RANK_LIMIT matches, relevance ranks every match; above, this many candidates.
EXACT_RANK_LIMIT = 2_000
RANK_CANDIDATES = 500
# The title matches read for candidates before the query's other words and the filters are checked.
TITLE_SCAN_ROWS = 5_000
BOUNDED_RANKING_NOTICE = (
    "More than {limit:,} listings match: the best {candidates:,} matches are ranked first "
    "(listings whose title matches come first). Add words or filters, or sort by newest to browse every match."
)

SORTS = {
    "relevance": "Relevance",
    "newest": "Newest",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "term_desc": "Remaining term: longest first",
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
    # All the (few) listings holding the number, newest chosen here: with ORDER BY ... LIMIT 1
    # the planner walks the published_at index over the whole catalogue instead of using the
    # numbers' GIN index.
    found = ListingSearchEntry.objects.filter(numbers__overlap=canonicals).values_list("published_at", "listing_id")
    newest = max(found, default=None)
    return newest[1] if newest is not None else None


def _search_query(q: str) -> SearchQuery | None:
    if not q:
        return None
    return SearchQuery(q, search_type="websearch", config="english")


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
        condition &= Q(expiry_date__gte=term_boundary(today, low))
    if high is not None:
        condition &= Q(expiry_date__lt=term_boundary(today, high))
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
    # True when the count is estimated from a sample (more than EXACT_COUNT_LIMIT matches).
    is_estimate: bool = False

    @property
    def count_display(self) -> str:
        """The count as a page shows it: an estimate is rounded and marked with "~"."""
        if not self.is_estimate:
            return f"{self.count:,}"
        return f"~{estimate_rounded(self.count):,}"


def estimate_rounded(count: int) -> int:
    """An estimated count to the two significant figures its precision supports."""
    magnitude = 10 ** max(0, len(str(count)) - 2)
    return round(count / magnitude) * magnitude


@dataclass
class SearchResults:
    params: SearchParams
    listing_ids: list[int]
    total: int
    total_is_estimate: bool
    facets: dict[str, list[FacetValue]]
    pages: int
    # True when some facet counts are estimates (each FacetValue says which).
    facets_are_estimate: bool = False
    # True when relevance ranked a bounded candidate set rather than every match.
    ranking_is_bounded: bool = False

    @property
    def total_display(self) -> str:
        """The total as the page's heading shows it: an estimate rounded like the facet counts."""
        return f"{estimate_rounded(self.total) if self.total_is_estimate else self.total:,}"


# --- Running a search: raw SQL over the index, a fixed number of queries per page --------------

_TABLE = "listings_listingsearchentry"
_TSQUERY = "websearch_to_tsquery('english', %(q)s)"
# The facets filtered on the stored codes: all but the remaining term, which depends on the day.
_CODED_FACETS = ("kind", "jurisdiction", "status", "cpc_section", "cpc_class", "nice", "deal_type", "price")


@dataclass
class _Sql:
    """The WHERE parts of a search: the base (text query, verified switch) and one condition per
    active facet filter, with their parameters."""

    base: list[str]
    filters: dict[str, str]
    values: dict[str, Any]

    def where(self, *, skip: str = "", titles_only: bool = False) -> str:
        base = self.base
        if titles_only:
            # A title match is a document match (the titles are the document's weight-A part), and
            # the small title index alone is much cheaper than intersecting it with the document's.
            base = [part.replace("e.document @@", "e.title_document @@") for part in base]
        filters = [sql for name, sql in self.filters.items() if name != skip]
        return " AND ".join(base + filters) or "true"


def _sql(params: SearchParams, *, today: date) -> _Sql:
    values: dict[str, Any] = {}
    base = []
    if params.q:
        values["q"] = params.q
        base.append(f"e.document @@ {_TSQUERY}")
    if params.verified:
        base.append("e.verified")
    filters = {}
    # Every facet but the remaining term (which depends on the day) filters on the stored codes,
    # so that the text query and all of a search's facet filters are answered by one scan of the
    # index holding the document and the codes together (migration 0012).
    for name in _CODED_FACETS:
        chosen = getattr(params, name)
        codes = [code for code in (value_code(name, value) for value in chosen) if code is not None]
        if chosen:
            values[f"{name}_codes"] = codes
            filters[name] = f"e.facet_codes && %({name}_codes)s::int[]"
    if params.term:
        bands = [term_band_sql(band, "e.expiry_date", today=today, values=values) for band in params.term]
        filters["term"] = "(" + " OR ".join(bands) + ")"
    return _Sql(base=base, filters=filters, values=values)


@dataclass
class _Counts:
    facets: dict[str, dict[str, int]]
    estimated: set[str]
    total: int
    total_is_estimate: bool
    # The partitions of the index (0 when no sample was read).
    partitions: int = 0
    # True when the text query holds no searchable word (only operators or stop words).
    wordless: bool = False
    # The page of listing ids in relevance order, when the counting read ranked every match
    # (see _counts); None when it did not.
    ranked: list[int] | None = None
    ranked_start: int = 0


def _counts(sql: _Sql, *, today: date, known_total: int | None = None, rank_start: int | None = None) -> _Counts:
    """Facet counts and the total, in one query over the materialised union set (see the module
    docstring), plus an exact count when only that can tell whether the total is within the limit.

    With `rank_start` (a relevance-ordered page's first position), when the first partition's
    matches put the whole within EXACT_RANK_LIMIT, the read of the whole index that counts them
    also ranks them and returns the page: it holds every match already, so a ranking query would
    only find and read them again.

    Each row of the set carries its facet codes and `failed`, the facet id of the one filter it
    fails (0 when it passes them all): a row counts for every facet when it passes, and only for
    the failed filter's own facet otherwise, so one unnest and one GROUP BY count every facet."""
    values = dict(sql.values)
    active = list(sql.filters)
    # Rows failing at most one active filter: for k filters, the OR over i of "all but i pass".
    if len(active) >= 2:
        union = " OR ".join(
            "(" + " AND ".join(sql.filters[other] for other in active if other != name) + ")" for name in active
        )
        where = " AND ".join([*sql.base, f"({union})"])
    else:
        where = " AND ".join(sql.base) or "true"
    failed = (
        "CASE "
        + " ".join(f"WHEN NOT coalesce({sql.filters[name]}, false) THEN {facet_id(name)}" for name in active)
        + " ELSE 0 END"
        if active
        else "0"
    )
    term_code = term_case_sql("u.expiry_date", today=today, values=values)
    # A small sample first: when it already shows far more matches than the exact limit, it is
    # all the page needs (see the module docstring). It reads the first partition alone: planning
    # and starting a scan cost more the more partitions it spans, and for most searches the first
    # partition holds the whole sample.
    sample = _sample(
        where, failed, term_code, values, limit=min(SAMPLE_ROWS, EXACT_COUNT_LIMIT) + 1, first=0, through=0
    )
    if sample.meta.get("_words") == 0:
        # Nothing to look for, so nothing matched: the page is the one without a query.
        return _Counts(facets=sample.facets, estimated=set(), total=0, total_is_estimate=False, wordless=True)
    if not sample.complete and not _surely_above(sample.rows, scale=sample.scale):
        sample = _sample_settled(sample, where, failed, term_code, values, rank_start=rank_start)
    partitions = sample.meta["_parts"]
    if sample.complete:
        ranked = sample.ranked if sample.ranked is not None and sample.matches <= EXACT_RANK_LIMIT else None
        return _Counts(
            facets=sample.facets,
            estimated=set(),
            total=sample.matches,
            total_is_estimate=False,
            partitions=partitions,
            ranked=ranked,
            ranked_start=rank_start or 0,
        )
    scale = sample.scale
    scaled = {
        name: {value: round(count * scale) for value, count in counts.items()} for name, counts in sample.facets.items()
    }
    total = round(sample.matches * scale)
    estimate = True
    if known_total is not None:
        # The kept counts already know it (one facet value chosen, nothing else).
        total, estimate = known_total, False
    elif active and not _surely_above(sample.matches, scale=scale):
        # The filters narrow a large set to fewer matches than the sample can tell from the limit.
        total, estimate = _match_count(sql)
    if estimate:
        total = max(EXACT_COUNT_LIMIT + 1, total)
    return _Counts(
        facets=scaled,
        estimated=set(SearchParams.FACETS),
        total=total,
        total_is_estimate=estimate,
        partitions=partitions,
    )


def _sample_settled(
    sample: _Sample, where: str, failed: str, term_code: str, values: dict[str, Any], *, rank_start: int | None
) -> _Sample:
    """The first sample (see _counts) read on until it settles whether the union set is above
    EXACT_COUNT_LIMIT: complete, stopped at the limit, or surely above it."""

    def read_on(read: _Sample, *, first: int, through: int, after: tuple[int, str] | None = None) -> _Sample:
        """`read` and the rows of partitions `first` to `through` (after `after` in the first),
        up to EXACT_COUNT_LIMIT + 1 rows in all, as one sample."""
        limit = EXACT_COUNT_LIMIT + 1 - read.rows
        rest = _sample(where, failed, term_code, values, limit=limit, first=first, through=through, after=after)
        return read.followed_by(rest)

    partitions = sample.meta["_parts"]
    if sample.stopped and sample.last is not None:
        # Read on from where the sample stopped.
        return read_on(sample, first=sample.last[0], through=partitions - 1, after=sample.last)
    further = _further_partitions(sample.rows, partitions=partitions)
    if further:
        # The first partition's rows put the whole above the limit, but not surely: the next few
        # partitions are likely to settle it, at a fraction of reading up to the limit (a count
        # just above it would read ten thousand rows to show an estimate).
        sample = read_on(sample, first=1, through=further)
        if not (sample.complete or sample.stopped or _surely_above(sample.rows, scale=sample.scale)):
            # Still unsettled: the rest of the partitions.
            sample = read_on(sample, first=further + 1, through=partitions - 1)
        return sample
    # The first partition held fewer rows than the sample: read the whole index instead, up to
    # EXACT_COUNT_LIMIT + 1 rows (planning the partitioned table costs less than planning its
    # other partitions one by one, and the first partition's few rows again). Each partition
    # holds an even share of the matches, so the first one's tell whether all of them are few
    # enough to be ranked in the same read.
    rank = rank_start is not None and sample.matches * partitions <= EXACT_RANK_LIMIT
    return _sample(
        where, failed, term_code, values, limit=EXACT_COUNT_LIMIT + 1, rank_start=rank_start if rank else None
    )


def _further_partitions(rows: int, *, partitions: int) -> int:
    """How many partitions after the first to read next when the first one, read whole, held
    `rows` rows that put the whole above EXACT_COUNT_LIMIT but not surely: the fewest that would
    settle it if each held as many rows as the first, less one standard error of their sum. 0
    when the first partition's rows put the whole within the limit, or when more than half the
    partitions would be needed (the whole index, read up to the limit, costs about as much)."""
    if rows * partitions <= EXACT_COUNT_LIMIT:
        return 0
    for further in range(1, partitions // 2):
        expected = rows * (further + 1)
        if _surely_above(round(expected - math.sqrt(expected)), scale=partitions / (further + 1)):
            return further
    return 0


def _surely_above(sampled: int, *, scale: float) -> bool:
    """True when `sampled` rows of a sample covering 1/scale of the catalogue put the whole count
    above EXACT_COUNT_LIMIT with a margin of SAMPLE_CONFIDENCE standard errors (a count of n
    sampled rows varies by about sqrt(n)), so that no count within the limit is ever estimated."""
    if sampled <= 0:
        return False
    return (sampled - SAMPLE_CONFIDENCE * math.sqrt(sampled)) * scale > EXACT_COUNT_LIMIT


@dataclass
class _Sample:
    facets: dict[str, dict[str, int]]
    meta: dict[str, int]
    parts: dict[str, tuple[int, int]]
    limit: int
    # The last partition of the range read: every partition up to it was read whole when the
    # LIMIT did not stop the read.
    through: int
    # (partition number, row position) of the last row read, where a further sample goes on.
    last: tuple[int, str] | None = None
    # The requested page of the matches in relevance order (see _sample's rank_start).
    ranked: list[int] | None = None

    @property
    def rows(self) -> int:
        return self.meta["_union"]

    @property
    def matches(self) -> int:
        """The sampled rows passing every filter."""
        return self.meta["_matches"]

    @property
    def stopped(self) -> bool:
        """True when the LIMIT stopped the read before the end of its range."""
        return self.rows >= self.limit

    @property
    def complete(self) -> bool:
        """True when the sample is the whole set: its range ran to the last partition unstopped."""
        return not self.stopped and self.through >= self.meta["_parts"] - 1

    @property
    def scale(self) -> float:
        """1 / the share of the catalogue the sample covered (1 when it holds every row)."""
        if self.complete:
            return 1.0
        partitions = self.meta["_parts"]
        if not self.stopped:
            return partitions / (self.through + 1)
        return 1.0 / _sample_coverage(self.parts, partitions=partitions)

    def followed_by(self, rest: _Sample) -> _Sample:
        """This sample and `rest`, read on from its end, as one sample of the rows read by both."""
        facets = {name: dict(counts) for name, counts in self.facets.items()}
        for name, counts in rest.facets.items():
            for value, count in counts.items():
                facets[name][value] = facets[name].get(value, 0) + count
        meta = dict(self.meta, _union=self.rows + rest.rows, _matches=self.matches + rest.matches)
        return _Sample(
            facets=facets,
            meta=meta,
            parts={**self.parts, **rest.parts},
            limit=self.rows + rest.limit,
            through=rest.through,
            last=rest.last or self.last,
        )


def _partition(number: int) -> str:
    """The table of the index's partition `number` (migration 0006 names them by their remainder)."""
    return f"{_TABLE}_{number:02d}"


def _partitions_read(
    select: str, where: str, values: dict[str, Any], *, first: int, through: int, after: tuple[int, str] | None = None
) -> str:
    """`select` (its list and FROM) over partitions `first` to `through`, read in turn as the whole
    index is, and with `after` (partition number, row position) only the rows of the first after
    that one: one UNION ALL, whose position parameter is set in `values`."""
    branches = []
    for number in range(first, through + 1):
        branch = f"{select} {_partition(number)} e WHERE {where}"
        if number == first and after is not None:
            values["after"] = after[1]
            branch += " AND e.ctid > %(after)s::tid"
        branches.append(branch)
    return " UNION ALL ".join(f"({branch})" for branch in branches)


def _sample(
    where: str,
    failed: str,
    term_code: str,
    values: dict[str, Any],
    *,
    limit: int,
    first: int = 0,
    through: int | None = None,
    after: tuple[int, str] | None = None,
    rank_start: int | None = None,
) -> _Sample:
    """The first `limit` rows of the union set in partitions `first` to `through` (the whole index
    when None), read in turn as the whole index is (and, with `after`, only the rows of the first
    after that one), counted
    per facet code in one query. Rows are grouped by their stored codes first (a few thousand
    rows hold a few hundred distinct code lists), and only the groups are unnested (in the select
    list, not a lateral function scan, which would set up a scan per row); the remaining-term
    band (which depends on the day), the totals and where the read stopped come from one more
    pass, grouped by partition, band and failed filter. With `rank_start`, the matches are
    also ranked as _ordered_ids ranks them, and the page from that position is returned."""
    # Every fragment of this query is ours; user input travels as parameters. Which rows count is
    # an aggregate's FILTER rather than a WHERE: with a WHERE the planner expects a few dozen rows
    # and sorts the thousands of codes to group them, where hashing them costs a third.
    values = dict(values, limit=limit)
    columns = f"e.facet_codes AS codes, e.expiry_date, {failed} AS failed, e.tableoid AS part, e.ctid"
    ranking = ""
    if rank_start is not None:
        # Only the matches are ranked: the rows failing a filter are counted, never shown.
        rank = f"ts_rank_cd(e.document, {_TSQUERY})"
        rank = rank if failed == "0" else f"CASE WHEN {failed} = 0 THEN {rank} END"
        columns += f", e.listing_id, e.published_at, {rank} AS rank"
        values.update(rank_start=rank_start, rank_end=rank_start + PAGE_SIZE)
        ranking = """UNION ALL SELECT 'rank', r.listing_id::text, r.place, 0, NULL, 0, 0 FROM (
            SELECT u.listing_id, row_number() OVER (ORDER BY u.rank DESC, u.published_at DESC, u.listing_id) AS place
            FROM u WHERE u.failed = 0) AS r WHERE r.place > %(rank_start)s AND r.place <= %(rank_end)s"""
    select = f"SELECT {columns} FROM"
    if through is None:
        # The whole index, as the partitioned table.
        source = f"{select} {_TABLE} e WHERE {where}"
    else:
        source = _partitions_read(select, where, values, first=first, through=through, after=after)
    # With a text query, whether it holds any word (a query of only stop words or operators
    # matches nothing): asked here rather than in a query of its own.
    words = f"UNION ALL SELECT '_words', '', numnode({_TSQUERY}), 0, NULL, 0, 0" if "q" in values else ""
    query = f"""
        WITH u AS MATERIALIZED (SELECT * FROM ({source}) AS s LIMIT %(limit)s)
        SELECT 'code', c.code::text,
            (sum(c.rows) FILTER (WHERE c.failed = 0 OR c.code / {CODE_SPAN} = c.failed))::bigint, 0, NULL, 0, 0
        FROM (
            SELECT unnest(g.codes) AS code, g.failed, g.rows
            FROM (SELECT u.codes, u.failed, count(*) AS rows FROM u GROUP BY u.codes, u.failed) AS g
        ) AS c GROUP BY c.code
        UNION ALL SELECT 'group', g.part::regclass::text, g.rows,
            pg_relation_size(g.part) / current_setting('block_size')::bigint, g.last::text, g.term, g.failed
        FROM (
            SELECT u.part, coalesce({term_code}, 0) AS term, u.failed, count(*) AS rows, max(u.ctid) AS last
            FROM u GROUP BY 1, 2, 3
        ) AS g
        UNION ALL SELECT '_parts', '', count(*), 0, NULL, 0, 0 FROM pg_inherits
            WHERE inhparent = '{_TABLE}'::regclass
        {words}
        {ranking}
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        rows = cursor.fetchall()
    return _sample_read(rows, limit=limit, through=through, ranked=rank_start is not None)


def _sample_read(rows: list[tuple[Any, ...]], *, limit: int, through: int | None, ranked: bool) -> _Sample:
    """The sample _sample's query returned (see there for the arguments)."""
    facets: dict[str, dict[str, int]] = {name: {} for name in SearchParams.FACETS}
    meta: dict[str, int] = {"_union": 0, "_matches": 0}
    parts: dict[str, tuple[int, int]] = {}
    # The highest row position read in each partition, as (block, offset) and as text.
    highest: dict[str, tuple[tuple[int, int], str]] = {}
    places: dict[int, int] = {}
    term_facet = facet_id("term")
    for kind, key, count, pages, position, term, failed_filter in rows:
        if kind == "rank":
            places[int(count)] = int(key)
        elif kind == "code":
            # A row without a code, or a code none of whose rows counts, is no facet value.
            decoded = code_decode(int(key)) if key is not None and count else None
            if decoded is not None:
                facets[decoded[0]][decoded[1]] = int(count)
        elif kind == "group":
            # The rows of one partition, remaining-term band and failed filter: every count the
            # rows are needed for but the facet codes', from one pass over them.
            meta["_union"] += count
            if failed_filter == 0:
                meta["_matches"] += count
            if term and failed_filter in (0, term_facet):
                decoded = code_decode(term)
                if decoded is not None:
                    facets["term"][decoded[1]] = facets["term"].get(decoded[1], 0) + count
            block, offset = position.strip("()").split(",")
            tid = (int(block), int(offset))
            if key not in highest or tid > highest[key][0]:
                highest[key] = (tid, position)
                parts[key] = (tid[0] + 1, int(pages))
        else:
            meta[kind] = int(count or 0)
    last: tuple[int, str] | None = None
    for key, (_, position) in highest.items():
        number = int(key.rsplit("_", 1)[-1])
        if last is None or number > last[0]:
            last = (number, position)
    return _Sample(
        facets=facets,
        meta=meta,
        parts=parts,
        limit=limit,
        through=meta["_parts"] - 1 if through is None else through,
        last=last,
        ranked=[places[place] for place in sorted(places)] if ranked else None,
    )


def _sample_coverage(parts: dict[str, tuple[int, int]], *, partitions: int) -> float:
    """The share of the catalogue a sample stopped by LIMIT covered: the partitions are scanned in
    order (their names end in their number), so every partition before the last one seen was read
    whole, and the last one up to the highest block seen (its rows come in block order)."""
    if not parts or partitions <= 0:
        return 1.0
    numbered = {int(name.rsplit("_", 1)[-1]): value for name, value in parts.items()}
    last = max(numbered)
    blocks, pages = numbered[last]
    covered = (last + min(1.0, blocks / max(1, pages))) / partitions
    return min(1.0, max(covered, 1.0 / (partitions * max(1, pages))))


def _match_count(sql: _Sql) -> tuple[int, bool]:
    """The number of matches and whether it is an estimate: the first MATCH_PROBE_ROWS matches are
    read, scaled by the share of the catalogue they covered when they surely put the count above
    EXACT_COUNT_LIMIT (see _surely_above), and otherwise counted on from the partition where the
    probe stopped, up to the limit."""
    values = dict(sql.values, limit=MATCH_PROBE_ROWS + 1)
    query = f"""
        SELECT u.part::regclass::text, count(*), (max(u.ctid)::text::point)[0]::bigint + 1,
            pg_relation_size(u.part) / current_setting('block_size')::bigint
        FROM (SELECT e.tableoid AS part, e.ctid FROM {_TABLE} e WHERE {sql.where()} LIMIT %(limit)s) AS u
        GROUP BY u.part
        UNION ALL SELECT '', count(*), 0, 0 FROM pg_inherits WHERE inhparent = '{_TABLE}'::regclass
    """  # noqa: S608 - every fragment is ours; user input travels as parameters
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        rows = cursor.fetchall()
    partitions = next(int(count) for name, count, _, _ in rows if name == "")
    parts = {name: (int(blocks), int(pages)) for name, _, blocks, pages in rows if name != ""}
    # The rows read in each partition, by its number.
    probed = {int(name.rsplit("_", 1)[-1]): int(count) for name, count, _, _ in rows if name != ""}
    read = sum(probed.values())
    if read <= MATCH_PROBE_ROWS:
        return read, False
    scale = 1.0 / _sample_coverage(parts, partitions=partitions)
    if _surely_above(read, scale=scale):
        return round(read * scale), True
    # Partitions are read in turn, so the probe read every one before the one it stopped in whole:
    # the count goes on from that one rather than reading them again.
    stopped = max(probed)
    before = sum(count for number, count in probed.items() if number < stopped)
    total = before + _count_from(sql, first=stopped, partitions=partitions, limit=EXACT_COUNT_LIMIT + 1 - before)
    if total > EXACT_COUNT_LIMIT:
        # Above the limit after all: the probe's scaled count is the better estimate.
        return max(total, round(read * scale)), True
    return total, False


def _count_from(sql: _Sql, *, first: int, partitions: int, limit: int) -> int:
    """The matches in partitions `first` to the last, counted up to `limit`."""
    values = dict(sql.values, limit=limit)
    source = _partitions_read("SELECT 1 FROM", sql.where(), values, first=first, through=partitions - 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({source} LIMIT %(limit)s) AS m", values)  # noqa: S608
        return int(cursor.fetchone()[0])


_FacetCounts = dict[str, dict[str, int]]


def _kept_counts(*, today: date, code: int | None = None) -> tuple[_FacetCounts, _FacetCounts]:
    """The exact counts that triggers keep: over the whole index (ListingSearchFacetCount), and
    with `code`, among the entries holding that facet value (ListingSearchFacetPairCount; empty
    without it), in one query. The remaining-term bands for today are summed from the kept expiry
    counts in the same query: a month no band boundary falls in lies wholly in the band of its
    first day and counts whole; a month a boundary cuts counts day by day. Returning the months and
    days instead costs more to read and sum than the summing costs the database."""
    boundaries = _term_band_boundaries(today)
    # The days of every month a band boundary falls in, and whole months elsewhere.
    cut_months = sorted({day.isoformat()[:7] for day in boundaries})
    facets = [*[name for name in SearchParams.FACETS if name != "term"], "_total"]
    values: dict[str, Any] = {
        # The kept facets by name, so that the unique indexes find them among the thousands of
        # expiry days.
        "facets": facets,
        "cut_months": cut_months,
        # Each cut month's days as a range of ISO dates ("-32" sorts after its last day).
        "month_starts": [f"{month}-01" for month in cut_months],
        "month_ends": [f"{month}-32" for month in cut_months],
        # Months before the first boundary's (today's) lie wholly before it: expired, in no band.
        "first_month": cut_months[0],
        "code": code,
    }
    # Each band as term_band_sql draws it, from its low boundary up to before its high one, with
    # dates compared as ISO text (which sorts as the dates do): the band of the highest low
    # boundary a day reaches, when it is below that band's high boundary.
    cases = []
    for number, (band, (_, low, high)) in enumerate(sorted(TERM_BANDS.items(), key=lambda item: -(item[1][1] or 0))):
        values[f"band_low_{number}"] = term_boundary(today, low or 0).isoformat()
        condition = f"x.day >= %(band_low_{number})s"
        if high is not None:
            values[f"band_high_{number}"] = term_boundary(today, high).isoformat()
            condition += f" AND x.day < %(band_high_{number})s"
        cases.append(f"WHEN {condition} THEN '{band}'")
    band_of_day = f"CASE {' '.join(cases)} END"

    # Every fragment is ours; the values travel as parameters. The first column says whose counts
    # a row holds: "" the whole index's, "pair" the chosen value's.
    def counted(whose: str, table: str, condition: str) -> str:
        return f"""
            SELECT '{whose}', c.facet, c.value, c.count FROM {table} c
            WHERE {condition} c.facet = ANY(%(facets)s) AND c.count <> 0
            UNION ALL SELECT '{whose}', 'term', t.band, sum(t.count) FROM (
                SELECT {band_of_day} AS band, x.count FROM (
                    SELECT c.value || '-01' AS day, c.count FROM {table} c
                    WHERE {condition} c.facet = 'expiry_month' AND c.value >= %(first_month)s
                        AND c.value <> ALL(%(cut_months)s) AND c.count <> 0
                    UNION ALL SELECT d.value, d.count
                    FROM unnest(%(month_starts)s::text[], %(month_ends)s::text[]) AS m(low, high), LATERAL (
                        SELECT c.value, c.count FROM {table} c
                        WHERE {condition} c.facet = 'expiry' AND c.value >= m.low AND c.value < m.high
                            AND c.count <> 0
                    ) AS d
                ) AS x
            ) AS t WHERE t.band IS NOT NULL GROUP BY t.band HAVING sum(t.count) <> 0
        """  # noqa: S608

    query = counted("", "listings_listingsearchfacetcount", "")
    if code is not None:
        query += " UNION ALL " + counted("pair", "listings_listingsearchfacetpaircount", "c.code = %(code)s AND")
    kept: dict[str, _FacetCounts] = {whose: {name: {} for name in [*facets, "term"]} for whose in ("", "pair")}
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        for whose, facet, value, count in cursor.fetchall():
            kept[whose][facet][value] = int(count)
    return kept[""], kept["pair"] if code is not None else {}


def _term_band_boundaries(today: date) -> list[date]:
    """The first and the last-plus-one expiry dates of every remaining-term band today."""
    years = {limit for _, low, high in TERM_BANDS.values() for limit in (low, high) if limit is not None}
    return sorted(term_boundary(today, limit) for limit in years)


def _ordered_ids(params: SearchParams, sql: _Sql, *, counts: _Counts, start: int) -> tuple[list[int], bool]:
    """A page of listing ids in the chosen order; True when relevance ranked a bounded set."""
    values = dict(sql.values, start=start, size=PAGE_SIZE)
    if params.sort == "relevance" and params.q:
        if counts.total_is_estimate or counts.total > EXACT_RANK_LIMIT:
            # When the first partition surely holds all the candidates (each holds an even share
            # of the matches), it is read alone first, sparing the planning of the others.
            first_alone = counts.total >= counts.partitions * RANK_CANDIDATES * 2 > 0
            return _bounded_ranking(sql, start=start, first_partition_first=first_alone), True
        if counts.ranked is not None and counts.ranked_start == start:
            return counts.ranked, False
        query = f"""
            SELECT e.listing_id FROM {_TABLE} e WHERE {sql.where()}
            ORDER BY ts_rank_cd(e.document, {_TSQUERY}) DESC, e.published_at DESC, e.listing_id
            OFFSET %(start)s LIMIT %(size)s
        """  # noqa: S608
    else:
        order = {
            "price_asc": "e.price ASC NULLS LAST, e.published_at DESC",
            "price_desc": "e.price DESC NULLS LAST, e.published_at DESC",
            "term_desc": "e.expiry_date DESC NULLS LAST, e.published_at DESC",
        }.get(params.sort, "e.published_at DESC")
        query = f"""
            SELECT e.listing_id FROM {_TABLE} e WHERE {sql.where()}
            ORDER BY {order}, e.listing_id OFFSET %(start)s LIMIT %(size)s
        """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        return [row[0] for row in cursor.fetchall()], False


def _bounded_ranking(sql: _Sql, *, start: int, first_partition_first: bool = False) -> list[int]:
    """A page of the best of RANK_CANDIDATES candidates: matches whose title matches first (in
    partition order, which is arbitrary), topped up with other matches when there are too few.
    Each scan stops at its LIMIT and ranks only the rows it returns; the candidates are ordered
    here, which spares the database a join back to the index. With `first_partition_first`, the
    title matches of the first partition are read alone first, and the whole index only when they
    are too few (its first rows are the same ones, so the candidates are the same either way)."""
    values = dict(sql.values, candidates=RANK_CANDIDATES, title_rows=TITLE_SCAN_ROWS)
    # The publication time as epoch seconds: parsing a thousand timestamps costs more than the sort.
    columns = f"e.listing_id, ts_rank_cd(e.document, {_TSQUERY}), date_part('epoch', e.published_at)"
    # A title match must still match the whole document: "network -neural" matches a title
    # without "neural" whose abstract has it. So must it pass the remaining-term filter, which no
    # index of the title holds; that goes first, reading only the expiry date.
    checks = f"e.document @@ {_TSQUERY}"
    if "term" in sql.filters:
        checks = f"{sql.filters['term']} AND {checks}"

    # Every fragment of these queries is ours; user input travels as parameters.
    def titles(table: str) -> str:
        # The title matches passing the coded facet filters are read first, up to TITLE_SCAN_ROWS,
        # in one scan of the title index, which holds the codes too; the checks are applied to the
        # rows read. In the scan, the document match would have the planner AND the title index
        # with the document's, whose list for a common term costs more than the titles' rows.
        titled = f"SELECT e.* FROM {table} e WHERE {sql.where(titles_only=True, skip='term')}"  # noqa: S608
        return f"SELECT {columns} FROM ({titled} LIMIT %(title_rows)s) AS e WHERE {checks}"  # noqa: S608

    others = f"SELECT {columns} FROM {_TABLE} e WHERE {sql.where()}"  # noqa: S608
    queries = [titles(_TABLE), others]
    if first_partition_first:
        queries.insert(0, titles(_partition(0)))
    candidates: dict[int, tuple[float, float]] = {}
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute(f"{query} LIMIT %(candidates)s", values)
            for listing_id, rank, published_at in cursor.fetchall():
                if len(candidates) >= RANK_CANDIDATES:
                    break
                candidates.setdefault(listing_id, (rank, published_at))
            if len(candidates) >= RANK_CANDIDATES:
                break
    ordered = sorted(candidates.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return [listing_id for listing_id, _ in ordered[start : start + PAGE_SIZE]]


def search_run(params: SearchParams) -> SearchResults:
    today = timezone.localdate()
    sql = _sql(params, today=today)
    if not sql.base and len(sql.filters) <= 1:
        # Nothing narrows the catalogue but at most one facet filter: that facet's own counts
        # are the catalogue's, which triggers keep exact.
        only = next(iter(sql.filters), None)
        chosen = [str(value) for value in getattr(params, only)] if only is not None else []
        # One value of a coded facet chosen: triggers keep the counts among its entries too.
        code = value_code(only, chosen[0]) if only in _CODED_FACETS and len(chosen) == 1 else None
        exact, among = _kept_counts(today=today, code=code)
        if only is None:
            counts = _Counts(
                facets={name: exact[name] for name in SearchParams.FACETS},
                estimated=set(),
                total=exact["_total"].get("", 0),
                total_is_estimate=False,
            )
        elif code is not None:
            counts = _Counts(
                facets={**{name: among[name] for name in SearchParams.FACETS}, only: exact[only]},
                estimated=set(),
                total=exact[only].get(chosen[0], 0),
                total_is_estimate=False,
            )
        else:
            # Several values, or a remaining-term band (which has no code): the others are
            # sampled. One band's kept count is its total (with several values, an entry holding
            # two of them, a portfolio's, would be counted twice).
            known = exact[only].get(chosen[0], 0) if len(chosen) == 1 else None
            counts = _counts(sql, today=today, known_total=known)
            counts.facets[only] = exact[only]
            counts.estimated.discard(only)
    else:
        # A relevance-ordered page may be ranked by the counting read (see _counts).
        rank_start = (params.page - 1) * PAGE_SIZE if params.q and params.sort == "relevance" else None
        counts = _counts(sql, today=today, rank_start=rank_start)
        if counts.wordless:
            params.notices.append("Your search has no words to look for; showing every listing.")
            params.q = ""
            if params.sort == "relevance":
                params.sort = "newest"
            return search_run(params)
    total = counts.total
    pages = max(1, -(-min(total, MAX_PAGE * PAGE_SIZE) // PAGE_SIZE))
    bounded_relevance = params.sort == "relevance" and bool(params.q) and total > EXACT_RANK_LIMIT
    if bounded_relevance:
        pages = min(pages, -(-RANK_CANDIDATES // PAGE_SIZE))
        params.notices.append(BOUNDED_RANKING_NOTICE.format(limit=EXACT_RANK_LIMIT, candidates=RANK_CANDIDATES))
    if params.page > pages:
        params.notices.append(f"There are only {pages} pages of results; showing the last.")
        params.page = pages
    start = (params.page - 1) * PAGE_SIZE
    listing_ids, bounded = _ordered_ids(params, sql, counts=counts, start=start)
    return SearchResults(
        params=params,
        listing_ids=listing_ids,
        total=total,
        total_is_estimate=counts.total_is_estimate,
        facets=_facets(params, counts.facets, estimated=counts.estimated),
        pages=pages,
        facets_are_estimate=bool(counts.estimated),
        ranking_is_bounded=bounded,
    )


_BAND_ORDER = {
    "price": {band: position for position, band in enumerate(PRICE_BANDS)},
    "term": {band: position for position, band in enumerate(TERM_BANDS)},
}


# The largest values of these facets are shown (and every chosen one however small).
_FACET_TOP = {"cpc_class": 15, "nice": 15}
_FACET_LABELS: dict[str, dict[str, str]] = {
    "kind": dict(Kind.choices),
    "jurisdiction": {code: code for code in Jurisdiction.values},
    "status": dict(Status.choices),
    "deal_type": dict(DealType.choices),
    "price": {band: label for band, (label, _, _) in PRICE_BANDS.items()},
    "term": {band: label for band, (label, _, _) in TERM_BANDS.items()},
}


def _facets(
    params: SearchParams, raw: dict[str, dict[str, int]], *, estimated: set[str]
) -> dict[str, list[FacetValue]]:
    """Each facet's values to show: those with a count, and always the chosen ones, with a count of
    0 when nothing matches them, so that a filter in force can be seen and taken off."""
    shown: dict[str, dict[str, int]] = {}
    selected: dict[str, set[str]] = {}
    for name in SearchParams.FACETS:
        selected[name] = {str(value) for value in getattr(params, name)}
        counts = {value: count for value, count in raw[name].items() if count}
        top = _FACET_TOP.get(name)
        if top is not None and len(counts) > top:
            # Only the values shown are labelled: a catalogue's counts hold hundreds of classes.
            largest = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
            counts = dict(largest) | {value: counts[value] for value in selected[name] if value in counts}
        shown[name] = counts | {value: 0 for value in selected[name] if value not in counts}
    cpc_labels, nice_labels = facet_labels(
        symbols=sorted(shown["cpc_section"].keys() | shown["cpc_class"].keys()),
        nice=sorted(int(n) for n in shown["nice"]),
    )
    labels = {
        **_FACET_LABELS,
        "cpc_section": {s: f"{s} {cpc_labels.get(s, '')}".strip() for s in shown["cpc_section"]},
        "cpc_class": {c: f"{c} {cpc_labels.get(c, '')}".strip() for c in shown["cpc_class"]},
        "nice": {n: f"{n} {nice_labels.get(int(n), '')[:50]}".strip() for n in shown["nice"]},
    }
    facets = {}
    for name in SearchParams.FACETS:
        is_estimate = name in estimated
        values = [
            FacetValue(
                value=value,
                label=labels[name].get(value, value),
                count=count,
                selected=value in selected[name],
                is_estimate=is_estimate,
            )
            for value, count in shown[name].items()
        ]
        if name in _FACET_TOP:
            # Largest first.
            values.sort(key=lambda item: (-item.count, item.value))
        elif name in _BAND_ORDER:
            # Bands read in their own order (cheapest first, shortest term first).
            values.sort(key=lambda item: _BAND_ORDER[name].get(item.value, len(_BAND_ORDER[name])))
        else:
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
