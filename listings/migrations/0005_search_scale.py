"""Search at a million listings (listings.search explains the design):

- `title_document`, the weight-A (title) part of each entry's document, with its own GIN index;
- one multi-column GIN index over the facet arrays, so that any combination of facet filters is
  a bitmap of index entries rather than a scan;
- `listings_price_band()`, the price bands of listings.search.PRICE_BANDS in SQL;
- exact global facet counts (ListingSearchFacetCount), kept by statement-level triggers with
  transition tables, so a bulk rebuild costs one grouped delta per statement, not one per row;
- entries stay uncompressed and inline up to a page (toast_tuple_target): ranking reads every
  candidate's document, and de-TOASTing costs more than the space saved.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

PRICE_BAND_SQL = """
CREATE OR REPLACE FUNCTION listings_price_band(price bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN price IS NULL THEN 'on_request'
        WHEN price < 1000000 THEN 'under_10k'
        WHEN price < 10000000 THEN '10k_100k'
        WHEN price < 100000000 THEN '100k_1m'
        ELSE 'over_1m'
    END
$$;
"""

# One delta per statement: +1 for every facet value of the new rows, -1 for the old rows, applied
# in (facet, value) order so that concurrent writers take the row locks in the same order.
TRIGGERS_SQL = """
-- The statement applying one delta; executed by the trigger function itself, since transition
-- tables are visible only there.
CREATE OR REPLACE FUNCTION listings_search_facet_delta_sql(rows_name text, sign integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format($f$
        INSERT INTO listings_listingsearchfacetcount AS c (facet, value, count)
        SELECT facet, value, sum(%2$s)::bigint FROM (
            SELECT 'kind' AS facet, v::text AS value FROM %1$I r, unnest(r.kinds) v
            UNION ALL SELECT 'jurisdiction', v::text FROM %1$I r, unnest(r.jurisdictions) v
            UNION ALL SELECT 'status', v::text FROM %1$I r, unnest(r.statuses) v
            UNION ALL SELECT 'cpc_section', v::text FROM %1$I r, unnest(r.cpc_sections) v
            UNION ALL SELECT 'cpc_class', v::text FROM %1$I r, unnest(r.cpc_classes) v
            UNION ALL SELECT 'nice', v::text FROM %1$I r, unnest(r.nice_classes) v
            UNION ALL SELECT 'deal_type', v::text FROM %1$I r, unnest(r.deal_types) v
            UNION ALL SELECT 'price', listings_price_band(r.price) FROM %1$I r
            UNION ALL SELECT 'expiry', r.expiry_date::text FROM %1$I r WHERE r.expiry_date IS NOT NULL
            UNION ALL SELECT '_total', '' FROM %1$I r
        ) AS delta
        GROUP BY facet, value
        ORDER BY facet, value
        ON CONFLICT (facet, value) DO UPDATE SET count = c.count + EXCLUDED.count
    $f$, rows_name, sign)
$$;

CREATE OR REPLACE FUNCTION listings_search_facet_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM listings_listingsearchfacetcount;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE listings_search_facet_delta_sql('old_rows', -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE listings_search_facet_delta_sql('new_rows', 1);
    END IF;
    RETURN NULL;
END
$$;

UPDATE listings_listingsearchentry SET title_document = ts_filter(document, '{a}');
-- The entries written before the triggers existed.
DO $$ BEGIN EXECUTE listings_search_facet_delta_sql('listings_listingsearchentry', 1); END $$;

CREATE TRIGGER search_facet_counts_insert AFTER INSERT ON listings_listingsearchentry
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_search_facet_counts();
CREATE TRIGGER search_facet_counts_update AFTER UPDATE ON listings_listingsearchentry
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION listings_search_facet_counts();
CREATE TRIGGER search_facet_counts_delete AFTER DELETE ON listings_listingsearchentry
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_search_facet_counts();
CREATE TRIGGER search_facet_counts_truncate AFTER TRUNCATE ON listings_listingsearchentry
    FOR EACH STATEMENT EXECUTE FUNCTION listings_search_facet_counts();

ALTER TABLE listings_listingsearchentry SET (toast_tuple_target = 8160);
ALTER TABLE listings_listingsearchentry ALTER COLUMN document SET STORAGE MAIN;
"""

# Sorts read an index in the page's order (with the tie-breakers of listings.search), so a page is
# the next twenty index entries, not a sort of every match; the verified switch has its own.
SORT_INDEXES_SQL = """
CREATE INDEX search_newest_idx ON listings_listingsearchentry (published_at DESC, listing_id);
CREATE INDEX search_price_asc_idx ON listings_listingsearchentry (price ASC NULLS LAST, published_at DESC, listing_id);
CREATE INDEX search_price_desc_idx ON listings_listingsearchentry (price DESC NULLS LAST, published_at DESC, listing_id);
CREATE INDEX search_term_desc_idx ON listings_listingsearchentry
    (expiry_date DESC NULLS LAST, published_at DESC, listing_id);
CREATE INDEX search_verified_idx ON listings_listingsearchentry (listing_id) WHERE verified;
"""
SORT_INDEXES_REVERSE_SQL = """
DROP INDEX IF EXISTS search_newest_idx;
DROP INDEX IF EXISTS search_price_asc_idx;
DROP INDEX IF EXISTS search_price_desc_idx;
DROP INDEX IF EXISTS search_term_desc_idx;
DROP INDEX IF EXISTS search_verified_idx;
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS search_facet_counts_insert ON listings_listingsearchentry;
DROP TRIGGER IF EXISTS search_facet_counts_update ON listings_listingsearchentry;
DROP TRIGGER IF EXISTS search_facet_counts_delete ON listings_listingsearchentry;
DROP TRIGGER IF EXISTS search_facet_counts_truncate ON listings_listingsearchentry;
DROP FUNCTION IF EXISTS listings_search_facet_counts();
DROP FUNCTION IF EXISTS listings_search_facet_delta_sql(text, integer);
ALTER TABLE listings_listingsearchentry RESET (toast_tuple_target);
ALTER TABLE listings_listingsearchentry ALTER COLUMN document SET STORAGE EXTENDED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0004_portfolio_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="listingsearchentry",
            name="title_document",
            field=django.contrib.postgres.search.SearchVectorField(null=True),
        ),
        migrations.AddIndex(
            model_name="listingsearchentry",
            index=django.contrib.postgres.indexes.GinIndex(fields=["title_document"], name="search_title_document_gin"),
        ),
        migrations.AddIndex(
            model_name="listingsearchentry",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=[
                    "kinds",
                    "jurisdictions",
                    "statuses",
                    "cpc_sections",
                    "cpc_classes",
                    "nice_classes",
                    "deal_types",
                ],
                name="search_facets_gin",
            ),
        ),
        migrations.CreateModel(
            name="ListingSearchFacetCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("facet", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=32)),
                ("count", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("facet", "value"), name="search_facet_count_once")],
            },
        ),
        migrations.RunSQL(PRICE_BAND_SQL, "DROP FUNCTION IF EXISTS listings_price_band(bigint);"),
        migrations.RunSQL(TRIGGERS_SQL, REVERSE_SQL),
        migrations.RunSQL(SORT_INDEXES_SQL, SORT_INDEXES_REVERSE_SQL),
    ]
