"""marketplace.db: queries run as server-side prepared statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listings import selectors
from marketplace.db import fetchall_prepared
from tests.factories import make_listing, make_right

pytestmark = pytest.mark.django_db

_PREPARED = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %s"


def _plans(sql: str) -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(_PREPARED, [sql])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def test_a_query_is_prepared_once_and_every_run_executes_the_prepared_statement():
    sql = "SELECT n FROM generate_series(1, $1::int) AS n WHERE mod(n, 2) = $2::int ORDER BY n"
    for size in range(1, 9):
        assert fetchall_prepared(sql.replace("$1", "%s").replace("$2", "%s"), [size, 0]) == [
            (n,) for n in range(2, size + 1, 2)
        ]
    # One statement, run eight times. Whether a run takes the statement's generic plan or one made
    # for its values is PostgreSQL's choice (from the sixth run on, the generic one where its
    # estimate is no worse: at a million listings, the result cards' query takes it).
    generic, custom = _plans(sql)
    assert generic + custom == 8


def test_a_prepared_query_is_counted_like_any_other():
    with CaptureQueriesContext(connection) as captured:
        assert fetchall_prepared("SELECT %s::int + 1", [41]) == [(42,)]
    assert [query["sql"] for query in captured.captured_queries] == ["SELECT $1::int + 1"]


def test_django_prepares_nothing_itself(user):
    # Only marketplace.db prepares: Django's cursors bind on the client, so an ORM query run many
    # times leaves no prepared statement (connection poolers stay usable for them).
    listing = make_listing(seller=user, rights=[make_right()])
    for _ in range(10):
        assert selectors.listings_by_ids(listing_ids=[listing.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%listings_listing%"])
        assert cursor.fetchone()[0] == 0


def test_the_result_cards_are_read_by_a_prepared_query(user):
    listing = make_listing(seller=user, title="Prepared card", rights=[make_right(title="Prepared card")])
    for _ in range(7):
        (card,) = selectors.listing_cards(listing_ids=[listing.pk])
        assert card.title == "Prepared card"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%wanted.place%"],
        )
        assert cursor.fetchall() == [(7,)]
