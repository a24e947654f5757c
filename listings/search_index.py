"""Keeping the search index (ListingSearchEntry) in step with listings.

A listing buyers can find has exactly one entry; any other listing has none. Entries are built
by one set-based SQL statement from the listings, their rights, owners and the classification
titles, so refreshing one listing after a state change and rebuilding a million after an import
run the same code, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from listings.models.listings import PUBLIC_STATES
from listings.search_codes import codes_sql

# The entries of the listings in `ids` (all public listings when the array is NULL), computed
# from scratch. A portfolio's facets are the union of its rights' values; its expiry the
# earliest of its rights' (it is worth its shortest term). Weights: A titles, B office numbers
# and owners, C description, abstracts and goods/services, D classification titles; the title
# part alone goes to `title_document` too (bounded relevance ranking, see listings.search).
_UPSERT_SQL = """
WITH chosen AS (
    SELECT l.id, l.title, l.description, l.deal_types, l.price_mode, l.currency,
           COALESCE(l.asking_price, l.minimum_price) AS price, l.published_at
    FROM listings_listing l
    WHERE l.state = ANY(%(public)s) AND l.published_at IS NOT NULL
      {listing_condition}
),
rights AS (
    SELECT lr.listing_id, r.*
    FROM listings_listingright lr JOIN listings_right r ON r.id = lr.right_id
    WHERE lr.listing_id IN (SELECT id FROM chosen)
),
per_listing AS (
    SELECT listing_id,
        string_agg(title, ' ') AS titles,
        string_agg(concat_ws(' ', abstract, goods_and_services), ' ') AS texts,
        array_remove(array_agg(DISTINCT kind), NULL) AS kinds,
        array_remove(array_agg(DISTINCT jurisdiction), NULL) AS jurisdictions,
        array_remove(array_agg(DISTINCT status), NULL) AS statuses,
        min(expiry_date) AS expiry_date
    FROM rights GROUP BY listing_id
),
numbers AS (
    SELECT listing_id, array_agg(DISTINCT number ORDER BY number) AS numbers
    FROM rights, unnest(ARRAY[application_number, publication_number, registration_number]) AS number
    WHERE number <> '' GROUP BY listing_id
),
owners AS (
    SELECT rights.listing_id, array_agg(DISTINCT o.name ORDER BY o.name) AS owners
    FROM rights JOIN listings_ownerofrecord o ON o.right_id = rights.id GROUP BY rights.listing_id
),
cpc AS (
    SELECT listing_id, array_agg(DISTINCT left(symbol, 1)) AS sections,
           array_agg(DISTINCT left(symbol, 3)) FILTER (WHERE length(symbol) >= 3) AS classes,
           array_agg(DISTINCT symbol) AS symbols
    FROM rights, unnest(cpc_symbols) AS symbol GROUP BY listing_id
),
cpc_text AS (
    SELECT cpc.listing_id, string_agg(DISTINCT s.title, ' ') AS titles
    FROM cpc, unnest(cpc.symbols) AS own(code)
    JOIN listings_cpcsymbol s ON s.symbol IN (
        left(own.code, 1), left(own.code, 3), left(own.code, 4), split_part(own.code, '/', 1) || '/00', own.code)
    GROUP BY cpc.listing_id
),
nice AS (
    SELECT listing_id, array_agg(DISTINCT class ORDER BY class) AS classes,
           string_agg(DISTINCT n.heading, ' ') AS headings
    FROM rights, unnest(nice_classes) AS class
    LEFT JOIN listings_niceclass n ON n.number = class
    GROUP BY listing_id
)
INSERT INTO listings_listingsearchentry (
    listing_id, document, title_document, numbers, kinds, jurisdictions, statuses, cpc_sections, cpc_classes,
    nice_classes, deal_types, owners, facet_codes, price_mode, currency, price, expiry_date, verified, published_at
)
SELECT chosen.id, doc.document, ts_filter(doc.document, '{a}'),
    COALESCE(numbers.numbers, '{}'), COALESCE(p.kinds, '{}'), COALESCE(p.jurisdictions, '{}'),
    COALESCE(p.statuses, '{}'), COALESCE(cpc.sections, '{}'), COALESCE(cpc.classes, '{}'),
    COALESCE(nice.classes, '{}'), chosen.deal_types, COALESCE(owners.owners, '{}'), {facet_codes},
    chosen.price_mode, chosen.currency, chosen.price, p.expiry_date, false, chosen.published_at
FROM chosen
LEFT JOIN per_listing p ON p.listing_id = chosen.id
LEFT JOIN numbers ON numbers.listing_id = chosen.id
LEFT JOIN owners ON owners.listing_id = chosen.id
LEFT JOIN cpc ON cpc.listing_id = chosen.id
LEFT JOIN cpc_text ON cpc_text.listing_id = chosen.id
LEFT JOIN nice ON nice.listing_id = chosen.id
CROSS JOIN LATERAL (
    SELECT setweight(to_tsvector('english', concat_ws(' ', chosen.title, p.titles)), 'A')
        || setweight(to_tsvector('english', concat_ws(' ', array_to_string(numbers.numbers, ' '),
                                                      array_to_string(owners.owners, ' '))), 'B')
        || setweight(to_tsvector('english', concat_ws(' ', chosen.description, p.texts)), 'C')
        || setweight(to_tsvector('english', concat_ws(' ', cpc_text.titles, nice.headings)), 'D') AS document
    -- OFFSET 0 keeps the subquery from being pulled up, which would compute the document
    -- twice (once more for title_document).
    OFFSET 0
) AS doc
-- New entries go in listing order, whatever order the joins produce them in. A live index grows
-- one entry at a time as listings are published, in about that order; built in bulk, it then
-- lies the same way, and a newest-first read takes its rows page by page, not a page a row.
ORDER BY chosen.id
ON CONFLICT (listing_id) DO UPDATE SET
    document = EXCLUDED.document, title_document = EXCLUDED.title_document,
    numbers = EXCLUDED.numbers, kinds = EXCLUDED.kinds,
    jurisdictions = EXCLUDED.jurisdictions, statuses = EXCLUDED.statuses,
    cpc_sections = EXCLUDED.cpc_sections, cpc_classes = EXCLUDED.cpc_classes,
    nice_classes = EXCLUDED.nice_classes, deal_types = EXCLUDED.deal_types, owners = EXCLUDED.owners,
    facet_codes = EXCLUDED.facet_codes,
    price_mode = EXCLUDED.price_mode, currency = EXCLUDED.currency, price = EXCLUDED.price,
    expiry_date = EXCLUDED.expiry_date, published_at = EXCLUDED.published_at
""".replace(
    "{facet_codes}",
    codes_sql(
        kinds="COALESCE(p.kinds, '{}')",
        jurisdictions="COALESCE(p.jurisdictions, '{}')",
        statuses="COALESCE(p.statuses, '{}')",
        cpc_sections="COALESCE(cpc.sections, '{}')",
        cpc_classes="COALESCE(cpc.classes, '{}')",
        nice_classes="COALESCE(nice.classes, '{}')",
        deal_types="chosen.deal_types",
        price="chosen.price",
    ),
)

# Entries of listings that buyers can no longer find.
_DELETE_SQL = """
DELETE FROM listings_listingsearchentry e
USING listings_listing l
WHERE l.id = e.listing_id AND (l.state <> ALL(%(public)s) OR l.published_at IS NULL)
  {entry_condition}
"""


@transaction.atomic
def search_entries_refresh(*, listing_ids: Sequence[int] | None = None) -> int:
    """Bring the entries of these listings (every listing when None) in line with their state
    and facts; returns how many entries were written."""
    params = {"public": list(PUBLIC_STATES), "ids": list(listing_ids) if listing_ids is not None else None}
    # The id condition is left out, not ORed with "ids IS NULL", when refreshing everything: an
    # OR would keep the planner from using the primary key for one listing, and make it test
    # every row against the whole array for many.
    some = listing_ids is not None
    with connection.cursor() as cursor:
        cursor.execute(
            _DELETE_SQL.replace("{entry_condition}", "AND e.listing_id = ANY(%(ids)s::bigint[])" if some else ""),
            params,
        )
        cursor.execute(
            _UPSERT_SQL.replace("{listing_condition}", "AND l.id = ANY(%(ids)s::bigint[])" if some else ""), params
        )
        return cursor.rowcount


def search_entry_refresh(*, listing_id: int) -> None:
    search_entries_refresh(listing_ids=[listing_id])
