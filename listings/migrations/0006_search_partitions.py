"""The search index becomes a table of SEARCH_PARTITIONS hash partitions (by listing), with each
entry's facet codes stored.

Why partitions: a GIN index answers only with a bitmap of every match, so a term that matches a
third of a million listings costs a 300,000-entry bitmap before the first row is read. A results
page needs only a sample of such a match set (listings.search counts up to EXACT_COUNT_LIMIT rows
and ranks a bounded candidate set): over partitions, LIMIT stops the scan after the first
partitions, each with a bitmap of its own share. Hashing the listing id makes every partition a
uniform random share of the catalogue, which is what lets a sample be scaled to an estimate.
"""

# ruff: noqa: S608 - fixed table names and our own SQL; nothing comes from input.
import django.contrib.postgres.fields
from django.db import migrations, models

from listings.search_codes import codes_sql

SEARCH_PARTITIONS = 16
TABLE = "listings_listingsearchentry"

COLUMNS = (
    "listing_id, document, title_document, numbers, kinds, jurisdictions, statuses, cpc_sections, cpc_classes, "
    "nice_classes, deal_types, owners, price_mode, currency, price, expiry_date, verified, published_at"
)
CODES = codes_sql(
    kinds="kinds",
    jurisdictions="jurisdictions",
    statuses="statuses",
    cpc_sections="cpc_sections",
    cpc_classes="cpc_classes",
    nice_classes="nice_classes",
    deal_types="deal_types",
    price="price",
)

# The old table's indexes and triggers are recreated on the partitioned table under the same
# names (an index on a partitioned table is created on every partition), so Django's state and
# migration 0005's raw indexes stay true.
PARTITION_SQL = f"""
DO $convert$
DECLARE
    index_definitions text[];
    trigger_definitions text[];
    statement text;
BEGIN
    SELECT coalesce(array_agg(pg_get_indexdef(i.indexrelid)), '{{}}') INTO index_definitions
    FROM pg_index i
    WHERE i.indrelid = '{TABLE}'::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
    SELECT coalesce(array_agg(pg_get_triggerdef(t.oid)), '{{}}') INTO trigger_definitions
    FROM pg_trigger t WHERE t.tgrelid = '{TABLE}'::regclass AND NOT t.tgisinternal;

    ALTER TABLE {TABLE} RENAME TO {TABLE}_unpartitioned;
    CREATE TABLE {TABLE} (LIKE {TABLE}_unpartitioned INCLUDING DEFAULTS INCLUDING STORAGE) PARTITION BY HASH (listing_id);
    FOR remainder IN 0..{SEARCH_PARTITIONS - 1} LOOP
        -- Documents stay in line, as migration 0005 set them: ranking and rechecks read them.
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF {TABLE} FOR VALUES WITH (MODULUS {SEARCH_PARTITIONS}, REMAINDER %s) '
            'WITH (toast_tuple_target = 8160)',
            '{TABLE}_' || lpad(remainder::text, 2, '0'), remainder
        );
    END LOOP;
    -- The facet count triggers are not on the new table yet: the counts already hold these rows.
    INSERT INTO {TABLE} ({COLUMNS}, facet_codes) SELECT {COLUMNS}, {CODES} FROM {TABLE}_unpartitioned;
    DROP TABLE {TABLE}_unpartitioned;
    ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (listing_id);
    ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_listing_id_fk FOREIGN KEY (listing_id)
        REFERENCES listings_listing (id) DEFERRABLE INITIALLY DEFERRED;
    FOREACH statement IN ARRAY index_definitions LOOP
        EXECUTE replace(statement, ' ONLY ', ' ');
    END LOOP;
    FOREACH statement IN ARRAY trigger_definitions LOOP
        EXECUTE statement;
    END LOOP;
END
$convert$;
ANALYZE {TABLE};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0005_search_scale"),
    ]

    operations = [
        migrations.AddField(
            model_name="listingsearchentry",
            name="facet_codes",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=None),
        ),
        migrations.RunSQL(PARTITION_SQL, migrations.RunSQL.noop, elidable=False),
    ]
