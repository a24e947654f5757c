"""Running a query as a server-side prepared statement.

Django binds parameters on the client and never prepares (psycopg's prepare_threshold is off, so
that connection poolers keep working), so PostgreSQL plans every query it is sent. For a query
sent on every results page whose best plan does not depend on its parameters (the result cards'
lookup by primary keys), planning costs as much as running it: prepared once per pooled
connection, it is run from the generic plan PostgreSQL keeps for it. Queries whose plan does
depend on their values (the text search, a facet filter's share of the catalogue) stay with
Django's cursor, and so do those PostgreSQL keeps planning for their values even when prepared
(the kept facet counts, the unfiltered sorts: preparing them was measured to save nothing).

This holds with Django's own connection pool and with pgbouncer 1.21 or later (which tracks
protocol-level prepared statements); an older pgbouncer in transaction mode cannot run them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection


class _PreparingCursor(psycopg.Cursor[Any]):
    """A cursor binding parameters on the server and preparing every query it runs."""

    # True when Django logs queries (DEBUG, tests' query counts), which read the query's text.
    logged = False

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        super().execute(query, params, prepare=True, binary=binary)
        if self.logged:
            # psycopg keeps no text of a prepared run, and Django's query log reads it from here:
            # the query with its $n placeholders, as PostgreSQL's own log shows a prepared one.
            self._query = self._convert_query(query, params)
        return self


def fetchall_prepared(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` run as a prepared statement on the request's connection. The query goes
    through Django's cursor wrapper, so it is timed, logged and counted like any other."""
    connection.ensure_connection()
    preparing = _PreparingCursor(connection.connection)
    preparing.logged = connection.queries_logged
    # _prepare_cursor is how connection.cursor() wraps the cursor it creates: the debug wrapper
    # when queries are logged (tests' query counts), the plain one otherwise.
    with connection._prepare_cursor(preparing) as cursor:  # type: ignore[attr-defined]
        cursor.execute(sql, params)
        return list(cursor.fetchall())
