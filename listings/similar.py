"""Similar listings: the listings a listing page suggests beside it, from the search index.

Similar means sharing the words of the titles, the words few titles hold first, and the
classification. Ranking every listing sharing any title word costs too much at a million
listings (a word like "method" is in a tenth of them), so candidates are first the listings
sharing one of the title's distinctive words: those held by fewer than DISTINCTIVE_SHARE of the
titles, as PostgreSQL's own statistics of the first index partition tell (a uniform share of the
index, see listings.search; a word missing from its most common elements is rarer still). At most
SIMILAR_CANDIDATES candidates are ranked by how many of the title's words they share (ts_rank
over all of them), a shared CPC class or Nice class counting as much as a shared word. When that
finds fewer listings than asked for, listings sharing any title word are ranked the same way,
and then the newest listings of the same classes fill the list. Two to four queries whatever the
catalogue's size.
"""

from __future__ import annotations

from django.db import connection
from django.db.backends.utils import CursorWrapper

from listings.search_codes import CODE_SPAN, facet_id

SIMILAR_LISTINGS = 4
SIMILAR_CANDIDATES = 300
# A title word held by fewer than this share of the titles chooses candidates on its own.
DISTINCTIVE_SHARE = 0.005
# What a shared CPC or Nice class adds to the score: as much as one shared title word. ts_rank over
# a query of any of n words gives about 0.6 / n for each word a title shares (title words weigh
# 1.0), so the rank is multiplied by n.
CLASS_BONUS = 0.6

_TABLE = "listings_listingsearchentry"
# The table whose statistics tell how common a title word is: the index's first partition.
_SAMPLE_TABLE = f"{_TABLE}_00"
# The classification facets whose values make listings alike.
_CLASS_FACETS = (facet_id("cpc_class"), facet_id("nice"))


def _any_of(words: list[str]) -> str:
    """A tsquery (in its text form) matching any of these lexemes exactly, quoted as its syntax
    wants, so that no word is parsed or stemmed again."""
    return " | ".join("'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'" for word in words)


def similar_listing_ids(*, listing_id: int, limit: int = SIMILAR_LISTINGS) -> list[int]:
    """Up to `limit` public listings most like this one, best first; [] when the listing is not
    in the search index (not public) or nothing is alike."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT tsvector_to_array(e.title_document), e.facet_codes, s.most_common_elems::text::text[],
                s.most_common_elem_freqs
            FROM {_TABLE} e LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = %(sample)s
                AND s.attname = 'title_document'
            WHERE e.listing_id = %(listing_id)s
            """,  # noqa: S608 - the table name is ours
            {"listing_id": listing_id, "sample": _SAMPLE_TABLE},
        )
        row = cursor.fetchone()
        if row is None:
            return []
        words: list[str] = row[0] or []
        classes = [code for code in row[1] or [] if code // CODE_SPAN in _CLASS_FACETS]
        # The share of titles holding each common word (the frequencies list three more figures
        # after the elements' own, which zip leaves out).
        shares = dict(zip(row[2] or [], row[3] or [], strict=False))
        distinctive = [word for word in words if shares.get(word, 0.0) < DISTINCTIVE_SHARE]
        found: list[int] = []
        # The distinctive words choose first, then every word (once, when they are all distinctive).
        for choosing in [distinctive, words] if distinctive != words else [words]:
            if len(found) >= limit or not choosing:
                continue
            found += _ranked(
                cursor,
                choosing=choosing,
                words=words,
                classes=classes,
                seen=[listing_id, *found],
                limit=limit - len(found),
            )
        if len(found) < limit and classes:
            cursor.execute(
                f"""
                SELECT e.listing_id FROM {_TABLE} e
                WHERE e.facet_codes && %(classes)s::int[] AND e.listing_id <> ALL(%(seen)s::bigint[])
                ORDER BY e.published_at DESC, e.listing_id LIMIT %(more)s
                """,  # noqa: S608 - the table name is ours
                {"classes": classes, "seen": [listing_id, *found], "more": limit - len(found)},
            )
            found += [listing for (listing,) in cursor.fetchall()]
    return found


def _ranked(
    cursor: CursorWrapper, *, choosing: list[str], words: list[str], classes: list[int], seen: list[int], limit: int
) -> list[int]:
    """The best `limit` of the listings holding any of the `choosing` words (SIMILAR_CANDIDATES
    of them at most), ranked by the title words they share and their classes."""
    cursor.execute(
        f"""
        SELECT c.listing_id FROM (
            SELECT e.listing_id, e.title_document, e.facet_codes, e.published_at FROM {_TABLE} e
            WHERE e.title_document @@ %(choosing)s::tsquery AND e.listing_id <> ALL(%(seen)s::bigint[])
            LIMIT %(candidates)s
        ) AS c
        ORDER BY ts_rank(c.title_document, %(words)s::tsquery) * %(terms)s
            + CASE WHEN c.facet_codes && %(classes)s::int[] THEN %(bonus)s ELSE 0 END DESC,
            c.published_at DESC, c.listing_id
        LIMIT %(limit)s
        """,  # noqa: S608 - the table name is ours; the words travel as parameters
        {
            "choosing": _any_of(choosing),
            "words": _any_of(words),
            "terms": len(words),
            "classes": classes,
            "bonus": CLASS_BONUS,
            "seen": seen,
            "candidates": SIMILAR_CANDIDATES,
            "limit": limit,
        },
    )
    return [listing for (listing,) in cursor.fetchall()]
