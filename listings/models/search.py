"""The search index: one row per listing buyers can find, holding everything search filters,
ranks and counts on, so that a results page reads one narrow table instead of joining rights,
owners and classification titles per request. Rows are rebuilt by listings.search_index when a
listing's public facts change."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from listings.models.listings import Listing


class ListingSearchEntry(models.Model):
    """The table is hash-partitioned by listing (migration 0006, listings.search explains why), and
    its columns are stored in another order than here: those a results page reads from thousands of
    rows (publication time, price, expiry, verified, facet codes) come first (migration 0011)."""

    listing = models.OneToOneField(Listing, on_delete=models.CASCADE, primary_key=True, related_name="search_entry")
    # Weighted: A title, B office numbers and owners, C abstract and goods/services,
    # D classification titles.
    document = SearchVectorField()
    # The weight-A part of `document` (listing and right titles) with its own, much smaller GIN
    # index: for a term that matches a huge share of the catalogue, relevance is computed over a
    # bounded set of title matches instead of every match (listings.search).
    title_document = SearchVectorField(null=True)
    # Every office number of the listing's rights, canonical, for exact-number lookups.
    numbers = ArrayField(models.CharField(max_length=32), default=list)
    kinds = ArrayField(models.CharField(max_length=16), default=list)
    jurisdictions = ArrayField(models.CharField(max_length=2), default=list)
    statuses = ArrayField(models.CharField(max_length=16), default=list)
    cpc_sections = ArrayField(models.CharField(max_length=1), default=list)
    cpc_classes = ArrayField(models.CharField(max_length=3), default=list)
    nice_classes = ArrayField(models.PositiveSmallIntegerField(), default=list)
    deal_types = ArrayField(models.CharField(max_length=32), default=list)
    owners = ArrayField(models.CharField(max_length=300), default=list)
    # Every facet value above (and the price band) as one integer code (listings.search_codes),
    # for counting all facets in one pass.
    facet_codes = ArrayField(models.IntegerField(), default=list)
    price_mode = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    # The asking price, else the minimum offer, in minor units; null for price on request.
    price = models.BigIntegerField(null=True)
    # The earliest expiry among the listing's rights: a portfolio is worth its shortest term.
    expiry_date = models.DateField(null=True)
    verified = models.BooleanField(default=False)
    published_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "listing search entries"
        indexes = [
            # The text query and every facet filter but the remaining term (listings.search), in
            # one index: a search with both is answered by one scan, in which GIN intersects the
            # words' and the codes' lists by skipping through the longer ones, where two indexes
            # would each decode a whole list (a common word's, a third of the catalogue) for
            # the planner to AND the two bitmaps. Either column alone is searched as fast as in
            # an index of its own.
            GinIndex(fields=["document", "facet_codes"], name="search_document_codes_gin"),
            # The titles alone, for the candidates relevance ranks first, with the codes for the
            # same reason.
            GinIndex(fields=["title_document", "facet_codes"], name="search_title_codes_gin"),
            GinIndex(fields=["numbers"], name="search_numbers_gin"),
            GinIndex(fields=["owners"], name="search_owners_gin"),
            # The sorts' indexes (migration 0005) also serve the price and expiry range filters;
            # every further index is one more relation for the planner to lock and weigh in each
            # of the 16 partitions on every search.
        ]

    def __str__(self) -> str:
        return f"search entry of listing {self.listing_id}"


class ListingSearchFacetCount(models.Model):
    """Exact counts of every facet value over the whole search index, for the page with no search
    and no filter (the catalogue's front page), which would otherwise count a million rows.

    Kept exact by statement-level triggers on the search entries (migration 0005), so every
    writer, including bulk SQL, keeps them in step. Facets: kind, jurisdiction, status,
    cpc_section, cpc_class, nice, deal_type and price (by band, see listings_price_band()); "expiry"
    counts entries per expiry date, from which remaining-term bands are summed for any day; "_total"
    counts the entries.
    """

    facet = models.CharField(max_length=16)
    value = models.CharField(max_length=32)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facet", "value"], name="search_facet_count_once")]

    def __str__(self) -> str:
        return f"{self.facet}={self.value}: {self.count}"


class ListingSearchFacetPairCount(models.Model):
    """Exact counts of every facet value among the entries holding one facet value (by its code,
    listings.search_codes): what a page filtered on that one value shows for the other facets,
    which would otherwise be estimated from a sample of hundreds of thousands of entries.

    Kept by the same statement-level triggers as ListingSearchFacetCount (migration 0010), with the
    same facets and values, "expiry" and "expiry_month" included; the entries holding the code are
    counted in ListingSearchFacetCount itself."""

    code = models.IntegerField()
    facet = models.CharField(max_length=16)
    value = models.CharField(max_length=32)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "facet", "value"], name="search_facet_pair_count_once")]

    def __str__(self) -> str:
        return f"{self.code}: {self.facet}={self.value}: {self.count}"
