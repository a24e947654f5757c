"""The kept facet counts also count entries per expiry month ("expiry_month", "YYYY-MM").

The front page sums its remaining-term bands from the per-day expiry counts, about fifteen
thousand days at a million listings. With the months kept too, a band is its whole months plus
the days of the few months a band boundary cuts (listings.search._kept_counts): a few
hundred rows instead of every day.
"""

# ruff: noqa: S608 - the SQL here is fixed text of ours; nothing comes from input.
from django.db import migrations


def _delta_function(*, months: bool) -> str:
    month_line = (
        "UNION ALL SELECT 'expiry_month', left(r.expiry_date::text, 7) FROM %1$I r WHERE r.expiry_date IS NOT NULL"
        if months
        else ""
    )
    return f"""
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
            {month_line}
            UNION ALL SELECT '_total', '' FROM %1$I r
        ) AS delta
        GROUP BY facet, value
        ORDER BY facet, value
        ON CONFLICT (facet, value) DO UPDATE SET count = c.count + EXCLUDED.count
    $f$, rows_name, sign)
$$;
"""


# The months of the entries written before, from their kept per-day counts.
BACKFILL_SQL = """
INSERT INTO listings_listingsearchfacetcount (facet, value, count)
SELECT 'expiry_month', left(value, 7), sum(count) FROM listings_listingsearchfacetcount
WHERE facet = 'expiry' GROUP BY left(value, 7) ORDER BY 2
ON CONFLICT (facet, value) DO UPDATE SET count = EXCLUDED.count;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0008_search_redundant_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql=_delta_function(months=True) + BACKFILL_SQL,
            reverse_sql=_delta_function(months=False)
            + "DELETE FROM listings_listingsearchfacetcount WHERE facet = 'expiry_month';",
        ),
    ]
