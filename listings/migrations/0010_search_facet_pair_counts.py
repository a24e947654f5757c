"""Exact facet counts per chosen value (ListingSearchFacetPairCount), kept by the search index's
counting triggers.

A page filtered on one facet value (all trademarks, everything in CPC class H04) showed the other
facets' counts estimated from a sample of the entries holding it. The triggers now also count,
for every code an entry holds, each of the entry's facet values (the same facets and values as the
global counts, expiry days and months included), so such a page reads its counts exactly and
reads no entry.
"""

# ruff: noqa: S608 - the SQL here is fixed text of ours; nothing comes from input.
from django.db import migrations, models

PAIR_DELTA_SQL = """
-- One delta per statement, like listings_search_facet_delta_sql: every facet value of each row,
-- once for every code the row holds, applied in key order so that concurrent writers take the
-- row locks in the same order. `rows_sql` selects the rows with a `sign` column (-1 for the old
-- rows, 1 for the new): an update's old and new rows are netted in one delta, so rewriting
-- entries whose facets did not change writes no count.
CREATE OR REPLACE FUNCTION listings_search_facet_pair_delta_sql(rows_sql text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format($f$
        INSERT INTO listings_listingsearchfacetpaircount AS c (code, facet, value, count)
        SELECT k.code, d.facet, d.value, sum(r.sign)::bigint
        FROM (%1$s) AS r
        CROSS JOIN LATERAL (
            SELECT 'kind' AS facet, v::text AS value FROM unnest(r.kinds) v
            UNION ALL SELECT 'jurisdiction', v::text FROM unnest(r.jurisdictions) v
            UNION ALL SELECT 'status', v::text FROM unnest(r.statuses) v
            UNION ALL SELECT 'cpc_section', v::text FROM unnest(r.cpc_sections) v
            UNION ALL SELECT 'cpc_class', v::text FROM unnest(r.cpc_classes) v
            UNION ALL SELECT 'nice', v::text FROM unnest(r.nice_classes) v
            UNION ALL SELECT 'deal_type', v::text FROM unnest(r.deal_types) v
            UNION ALL SELECT 'price', listings_price_band(r.price)
            UNION ALL SELECT 'expiry', r.expiry_date::text WHERE r.expiry_date IS NOT NULL
            UNION ALL SELECT 'expiry_month', left(r.expiry_date::text, 7) WHERE r.expiry_date IS NOT NULL
        ) AS d
        CROSS JOIN LATERAL unnest(r.facet_codes) AS k(code)
        GROUP BY k.code, d.facet, d.value
        HAVING sum(r.sign) <> 0
        ORDER BY k.code, d.facet, d.value
        ON CONFLICT (code, facet, value) DO UPDATE SET count = c.count + EXCLUDED.count
    $f$, rows_sql)
$$;
"""


def _trigger_function(*, pairs: bool) -> str:
    """The counting triggers' function (migration 0005), applying the pair delta too when `pairs`."""
    truncate = "DELETE FROM listings_listingsearchfacetpaircount;" if pairs else ""
    delta = (
        """
    IF TG_OP = 'INSERT' THEN
        EXECUTE listings_search_facet_pair_delta_sql('SELECT *, 1 AS sign FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE listings_search_facet_pair_delta_sql(
            'SELECT *, -1 AS sign FROM old_rows UNION ALL SELECT *, 1 AS sign FROM new_rows');
    ELSE
        EXECUTE listings_search_facet_pair_delta_sql('SELECT *, -1 AS sign FROM old_rows');
    END IF;"""
        if pairs
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION listings_search_facet_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM listings_listingsearchfacetcount;
        {truncate}
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE listings_search_facet_delta_sql('old_rows', -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE listings_search_facet_delta_sql('new_rows', 1);
    END IF;{delta}
    RETURN NULL;
END
$$;
"""


# The entries written before: one delta over the whole index.
BACKFILL_SQL = """
DO $$ BEGIN
    EXECUTE listings_search_facet_pair_delta_sql('SELECT *, 1 AS sign FROM listings_listingsearchentry');
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0009_search_expiry_month_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListingSearchFacetPairCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.IntegerField()),
                ("facet", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=32)),
                ("count", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("code", "facet", "value"), name="search_facet_pair_count_once")
                ],
            },
        ),
        migrations.RunSQL(
            sql=PAIR_DELTA_SQL + _trigger_function(pairs=True) + BACKFILL_SQL,
            reverse_sql=_trigger_function(pairs=False)
            + "DROP FUNCTION IF EXISTS listings_search_facet_pair_delta_sql(text);",
        ),
    ]
