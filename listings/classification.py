"""Loading and reading the classification tables (CPC symbols, Nice classes and terms).

The tables come from `settings.SHARED_DATA_DIR / "classification"` when that folder exists (the
complete CPC title list and the Nice files, read in place, never copied), and otherwise from the
small table the project ships in `listings/data/classification` (CPC sections, classes and the
main subclasses, and the 45 Nice class headings, written for the project). Both folders share
one layout:

    cpc/*.txt.gz or cpc/*.tsv   symbol<TAB>level<TAB>title, level blank for section, class and
                                subclass, 0 for a main group, n for a subgroup with n dots
    nice_*_classes.json         [{"number", "heading", "note", "includes", "excludes"}, ...]
    nice_*_terms.json           optional: {"goods": [{"number", "description"}], "services": [...]}

Loading is idempotent: rows are inserted or updated only where they differ, and counted.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from listings.models.classification import CpcSymbol, NiceClass, NiceTerm

SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "classification"

# "nice_ncl13_2026_classes.json" -> "NCL 13-2026"
_NICE_EDITION = re.compile(r"nice_ncl(\d+)_(\d{4})_")


class ClassificationError(Exception):
    """A source folder or file that cannot be loaded; nothing was changed."""


class CpcSymbolError(ValueError):
    """Text that is not a CPC symbol."""


@dataclass
class TableCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.total} read: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class ClassificationLoadReport:
    source: Path
    shipped: bool
    cpc: TableCounts = field(default_factory=TableCounts)
    nice_classes: TableCounts = field(default_factory=TableCounts)
    nice_terms: TableCounts = field(default_factory=TableCounts)

    @property
    def changed(self) -> bool:
        return any(counts.created or counts.updated for counts in (self.cpc, self.nice_classes, self.nice_terms))


@dataclass(frozen=True, slots=True)
class CpcEntry:
    symbol: str
    level: str
    title: str


# --- CPC symbols ------------------------------------------------------------------------------

_CPC_SYMBOL = re.compile(r"([A-HY])(?:(\d{2})(?:([A-Z])(?:(\d{1,4})/(\d{1,6}))?)?)?")
# The fixed-width form of bulk data: subclass, group padded to 4, subgroup padded to 6 ("G06N0003080000").
_CPC_FIXED = re.compile(r"([A-HY]\d{2}[A-Z])(\d{4})(\d{6})")
MAX_SYMBOL_INPUT = 40


def cpc_symbol_normalise(text: str) -> str:
    """'G06N 3/08', 'g06n3/08', 'G06N0003080000' -> 'G06N3/08'; raises CpcSymbolError."""
    if not isinstance(text, str) or len(text) > MAX_SYMBOL_INPUT:
        raise CpcSymbolError("That is not a CPC symbol: a symbol is a few characters such as G06N3/08.")
    compact = re.sub(r"\s+", "", text).upper()
    fixed = _CPC_FIXED.fullmatch(compact)
    if fixed:
        compact = f"{fixed[1]}{int(fixed[2])}/{fixed[3]}"
    match = _CPC_SYMBOL.fullmatch(compact)
    if match is None:
        raise CpcSymbolError(
            f"“{text.strip()}” is not a CPC symbol. Expected a section, class, subclass and group,"
            " e.g. G06N3/08, G06N 3/08, G06N, G06 or G."
        )
    section, klass, subclass, group, subgroup = match.groups()
    if group is None:
        return compact
    if int(group) == 0:
        raise CpcSymbolError(f"“{text.strip()}” is not a CPC symbol: the group number cannot be 0.")
    # Subgroups are decimal fractions: /080 is /08, and no symbol is written with fewer than 2 digits.
    subgroup = subgroup.rstrip("0").ljust(2, "0")
    return f"{section}{klass}{subclass}{int(group)}/{subgroup}"


def _cpc_level(symbol: str, dots: str) -> tuple[str, int]:
    if "/" not in symbol:
        return {1: CpcSymbol.Level.SECTION, 3: CpcSymbol.Level.CLASS, 4: CpcSymbol.Level.SUBCLASS}[len(symbol)], 0
    depth = int(dots) if dots else 0
    return (CpcSymbol.Level.GROUP if depth == 0 else CpcSymbol.Level.SUBGROUP), depth


def _cpc_files(source: Path) -> list[Path]:
    folder = source / "cpc"
    files = sorted([*folder.glob("*.txt.gz"), *folder.glob("*.tsv"), *folder.glob("*.txt")])
    if not files:
        raise ClassificationError(f"No CPC title files (cpc/*.txt.gz or cpc/*.tsv) in {source}.")
    return files


def _cpc_lines(path: Path) -> Iterator[tuple[int, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as lines:
            for number, line in enumerate(lines, start=1):
                yield number, line.rstrip("\r\n")
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise ClassificationError(f"{path.name} cannot be read: {error}") from error


def _cpc_line(name: str, number: int, line: str) -> tuple[str, str, str]:
    """One line of a title file as (normalised symbol, dot level, title), or ClassificationError."""
    parts = line.split("\t")
    if len(parts) != 3:
        raise ClassificationError(f"{name} line {number}: expected symbol<TAB>level<TAB>title.")
    raw_symbol, dots, title = parts[0].strip(), parts[1].strip(), parts[2].strip()
    try:
        symbol = cpc_symbol_normalise(raw_symbol)
    except CpcSymbolError as error:
        raise ClassificationError(f"{name} line {number}: {error}") from error
    if dots and not dots.isdigit():
        raise ClassificationError(f"{name} line {number}: level {dots!r} is not a number.")
    if ("/" in symbol) != bool(dots):
        raise ClassificationError(f"{name} line {number}: only groups carry a level ({symbol}).")
    if not title:
        raise ClassificationError(f"{name} line {number}: {symbol} has no title.")
    return symbol, dots, title


def _cpc_rows(files: Iterable[Path], sections: Collection[str] | None) -> list[tuple[str, str, int, str, str | None]]:
    """(symbol, level, depth, title, parent) for every line, parents taken from the scheme's order."""
    rows: list[tuple[str, str, int, str, str | None]] = []
    seen: set[str] = set()
    for path in files:
        # The dot levels of the subgroups under the current main group: stack[d] is the last
        # symbol seen at depth d, so a subgroup's parent is the last one at depth - 1.
        stack: list[str] = []
        for number, line in _cpc_lines(path):
            if not line.strip():
                continue
            symbol, dots, title = _cpc_line(path.name, number, line)
            if sections is not None and symbol[0] not in sections:
                continue
            if symbol in seen:
                raise ClassificationError(f"{path.name} line {number}: {symbol} appears twice.")
            level, depth = _cpc_level(symbol, dots)
            if level == CpcSymbol.Level.SECTION:
                parent = None
            elif level in (CpcSymbol.Level.CLASS, CpcSymbol.Level.SUBCLASS):
                parent = symbol[: len(symbol) - (2 if level == CpcSymbol.Level.CLASS else 1)]
            elif level == CpcSymbol.Level.GROUP:
                parent = symbol[:4]
                stack = [symbol]
            else:
                if depth > len(stack) or not stack or stack[0][:4] != symbol[:4]:
                    raise ClassificationError(f"{path.name} line {number}: {symbol} at level {depth} has no parent.")
                parent = stack[depth - 1]
                del stack[depth:]
                stack.append(symbol)
            seen.add(symbol)
            rows.append((symbol, level, depth, title, parent))
    return rows


def _cpc_upsert(rows: list[tuple[str, str, int, str, str | None]], *, fill_only: bool) -> TableCounts:
    counts = TableCounts()
    if not rows:
        return counts
    # A parent that is in neither this source nor the table (a subclass whose class the shipped
    # summary leaves out) is left empty rather than failing the foreign key.
    loaded = {row[0] for row in rows}
    wanted = {row[4] for row in rows if row[4] and row[4] not in loaded}
    known = set(CpcSymbol.objects.filter(symbol__in=wanted).values_list("symbol", flat=True)) if wanted else set()
    rows = [(s, lv, d, t, p if p is None or p in loaded or p in known else None) for s, lv, d, t, p in rows]

    table = CpcSymbol._meta.db_table
    on_conflict = (
        "DO NOTHING"
        if fill_only
        else "DO UPDATE SET level = EXCLUDED.level, depth = EXCLUDED.depth, title = EXCLUDED.title,"
        " parent_id = EXCLUDED.parent_id WHERE (t.level, t.depth, t.title, t.parent_id)"
        " IS DISTINCT FROM (EXCLUDED.level, EXCLUDED.depth, EXCLUDED.title, EXCLUDED.parent_id)"
    )
    with connection.cursor() as cursor:
        # 260,000 rows go in through COPY into a scratch table and one INSERT ... ON CONFLICT:
        # seconds instead of the minutes that row-by-row saves would take.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.cpc_load")
        cursor.execute(
            "CREATE TEMP TABLE cpc_load (symbol varchar(20), level varchar(8), depth smallint,"
            " title text, parent_id varchar(20))"
        )
        with cursor.cursor.copy("COPY cpc_load (symbol, level, depth, title, parent_id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH written AS (INSERT INTO {table} AS t (symbol, level, depth, title, parent_id)"  # noqa: S608
            f" SELECT symbol, level, depth, title, parent_id FROM cpc_load ON CONFLICT (symbol) {on_conflict}"
            " RETURNING (xmax = 0) AS inserted)"
            " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
        )
        created, updated = cursor.fetchone()
        cursor.execute("DROP TABLE pg_temp.cpc_load")
    counts.created, counts.updated = created, updated
    counts.unchanged = len(rows) - created - updated
    return counts


# --- Nice -----------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ClassificationError(f"{path.name} cannot be read as JSON: {error}") from error


def _nice_edition(path: Path) -> str:
    match = _NICE_EDITION.match(path.name)
    return f"NCL {match[1]}-{match[2]}" if match else "project table"


def _one_file(source: Path, pattern: str, *, required: bool) -> Path | None:
    files = sorted(source.glob(pattern))
    if len(files) > 1:
        raise ClassificationError(f"More than one {pattern} in {source}: {', '.join(f.name for f in files)}.")
    if not files and required:
        raise ClassificationError(f"No Nice class file ({pattern}) in {source}.")
    return files[0] if files else None


def _nice_class_rows(path: Path) -> list[NiceClass]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise ClassificationError(f"{path.name}: expected a list of classes.")
    edition = _nice_edition(path)
    classes: dict[int, NiceClass] = {}
    for entry in data:
        try:
            number = int(entry["number"])
            heading = str(entry["heading"]).strip()
        except (TypeError, KeyError, ValueError) as error:
            raise ClassificationError(f"{path.name}: a class lacks its number or heading ({entry!r:.80}).") from error
        if not 1 <= number <= 45 or not heading or number in classes:
            raise ClassificationError(f"{path.name}: class {number} is out of range, repeated or has no heading.")
        classes[number] = NiceClass(
            number=number,
            kind=NiceClass.Kind.GOODS if number <= 34 else NiceClass.Kind.SERVICES,
            heading=heading,
            note=str(entry.get("note") or "").strip(),
            includes=[str(item).strip() for item in entry.get("includes") or []],
            excludes=[str(item).strip() for item in entry.get("excludes") or []],
            edition=edition,
        )
    if sorted(classes) != list(range(1, 46)):
        raise ClassificationError(f"{path.name}: expected all 45 classes, found {len(classes)}.")
    return list(classes.values())


def _nice_classes_upsert(rows: list[NiceClass], *, fill_only: bool) -> TableCounts:
    counts = TableCounts()
    fields = ["kind", "heading", "note", "includes", "excludes", "edition"]
    existing = {nice_class.number: nice_class for nice_class in NiceClass.objects.all()}
    to_create, to_update = [], []
    for row in rows:
        current = existing.get(row.number)
        if current is None:
            to_create.append(row)
        elif not fill_only and any(getattr(current, name) != getattr(row, name) for name in fields):
            to_update.append(row)
        else:
            counts.unchanged += 1
    NiceClass.objects.bulk_create(to_create)
    NiceClass.objects.bulk_update(to_update, fields)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def _nice_terms_upsert(path: Path) -> TableCounts:
    data = _read_json(path)
    edition = _nice_edition(path)
    if not isinstance(data, dict):
        raise ClassificationError(f"{path.name}: expected an object with goods and services lists.")
    wanted: dict[tuple[str, str], int] = {}
    for entry in [*(data.get("goods") or []), *(data.get("services") or [])]:
        try:
            basic_number, term = str(entry["number"]).strip(), str(entry["description"]).strip()
        except (TypeError, KeyError) as error:
            raise ClassificationError(f"{path.name}: a term lacks its number or description.") from error
        if not (len(basic_number) == 6 and basic_number.isdigit() and 1 <= int(basic_number[:2]) <= 45 and term):
            raise ClassificationError(f"{path.name}: {basic_number!r} is not a basic number of a class 1-45.")
        wanted[(basic_number, term[:255])] = int(basic_number[:2])

    counts = TableCounts()
    existing = {(t.basic_number, t.term): t for t in NiceTerm.objects.all()}
    to_create, to_update = [], []
    for (basic_number, term), class_number in wanted.items():
        current = existing.get((basic_number, term))
        if current is None:
            to_create.append(
                NiceTerm(basic_number=basic_number, term=term, nice_class_id=class_number, edition=edition)
            )
        elif (current.nice_class_id, current.edition) != (class_number, edition):
            current.nice_class_id, current.edition = class_number, edition
            to_update.append(current)
        else:
            counts.unchanged += 1
    NiceTerm.objects.bulk_create(to_create, batch_size=2000)
    NiceTerm.objects.bulk_update(to_update, ["nice_class", "edition"], batch_size=2000)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


# --- The service ----------------------------------------------------------------------------------


def classification_source() -> tuple[Path, bool]:
    """The folder to load from and whether it is the project's shipped table."""
    shared = Path(settings.SHARED_DATA_DIR) / "classification"
    if shared.is_dir():
        return shared, False
    return SHIPPED_DIR, True


@transaction.atomic
def classification_load(
    *, source: Path | None = None, cpc_sections: Collection[str] | None = None
) -> ClassificationLoadReport:
    """Load CPC symbols and Nice classes (and terms, where the source has them).

    `source` defaults to the shared folder, or the shipped table when that folder is absent;
    `cpc_sections` limits CPC to some sections (e.g. {"G", "H"}). One transaction: a bad file
    anywhere leaves the tables as they were.
    """
    # The official titles must not be overwritten by the project's own summary, so loading the
    # shipped table only fills in rows that are missing.
    if source is None:
        source, shipped = classification_source()
    else:
        source = Path(source)
        shipped = source.resolve() == SHIPPED_DIR
        if not source.is_dir():
            raise ClassificationError(f"{source} is not a folder.")
    if cpc_sections is not None:
        cpc_sections = {section.upper() for section in cpc_sections}
        if not cpc_sections <= set("ABCDEFGHY"):
            raise ClassificationError("CPC sections are the letters A-H and Y.")
    classes_file = _one_file(source, "nice_*_classes.json", required=True)
    terms_file = _one_file(source, "nice_*_terms.json", required=False)
    assert classes_file is not None

    # Parse everything before writing anything, so that a bad line fails fast.
    cpc_rows = _cpc_rows(_cpc_files(source), cpc_sections)
    class_rows = _nice_class_rows(classes_file)

    report = ClassificationLoadReport(source=source, shipped=shipped)
    report.cpc = _cpc_upsert(cpc_rows, fill_only=shipped)
    report.nice_classes = _nice_classes_upsert(class_rows, fill_only=shipped)
    if terms_file is not None:
        report.nice_terms = _nice_terms_upsert(terms_file)
    transaction.on_commit(facet_labels_forget)
    return report


# --- Reading ------------------------------------------------------------------------------------


def cpc_title(symbol: str) -> str | None:
    """The title of a symbol, None when the table lacks it; CpcSymbolError when it is no symbol."""
    normalised = cpc_symbol_normalise(symbol)
    return CpcSymbol.objects.filter(symbol=normalised).values_list("title", flat=True).first()


def cpc_titles(symbols: Iterable[str]) -> dict[str, str]:
    """Titles of many symbols in one query, keyed by normalised symbol; bad and unknown ones left out."""
    normalised = set()
    for symbol in symbols:
        try:
            normalised.add(cpc_symbol_normalise(symbol))
        except CpcSymbolError:
            continue
    return dict(CpcSymbol.objects.filter(symbol__in=normalised).values_list("symbol", "title"))


def cpc_symbol_ancestors(symbol: str) -> list[str]:
    """The section, class, subclass and main group above a symbol, as symbols (no query)."""
    normalised = cpc_symbol_normalise(symbol)
    chain = [normalised[:1], normalised[:3], normalised[:4]]
    if "/" in normalised:
        chain.append(normalised.split("/")[0] + "/00")
    return [ancestor for ancestor in chain if len(ancestor) <= len(normalised) and ancestor != normalised]


def cpc_ancestors(symbol: str) -> list[CpcEntry]:
    """The section, class, subclass (and main group) above `symbol` that the table holds, top down.

    Built from the symbol itself rather than the parent links, so it works with the shipped
    table, which has no groups: for G06N3/08 it gives G, G06, G06N and G06N3/00 where loaded.
    """
    ancestors = cpc_symbol_ancestors(symbol)
    found = {row.symbol: row for row in CpcSymbol.objects.filter(symbol__in=ancestors).only("symbol", "level", "title")}
    return [
        CpcEntry(symbol=found[a].symbol, level=found[a].level, title=found[a].title) for a in ancestors if a in found
    ]


def nice_heading(number: int) -> str | None:
    """The heading of a Nice class, None when the table is not loaded; ValueError outside 1-45."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 45:
        raise ValueError(f"Nice classes are numbered 1 to 45, not {number!r}.")
    return NiceClass.objects.filter(number=number).values_list("heading", flat=True).first()


# --- Facet labels -------------------------------------------------------------------------------

# Every results page labels its CPC and Nice facets with their titles, and the tables change only
# when they are loaded: so each process keeps the titles it has read for FACET_LABEL_SECONDS (a
# load in another process shows within that time; in this one, at once) instead of reading them
# for every page.
FACET_LABEL_SECONDS = 300.0


@dataclass
class _FacetLabels:
    read_at: float = -math.inf
    # A symbol or class the tables lack is kept as "", so that it is not asked for again.
    cpc: dict[str, str] = field(default_factory=dict)
    nice: dict[int, str] = field(default_factory=dict)


_facet_labels = _FacetLabels()


def facet_labels(*, symbols: Collection[str], nice: Collection[int]) -> tuple[dict[str, str], dict[int, str]]:
    """The titles of these CPC symbols and the headings of these Nice classes (those the tables
    hold), reading only what this process has not read within FACET_LABEL_SECONDS, in one query."""
    labels = _facet_labels
    now = time.monotonic()
    if now - labels.read_at > FACET_LABEL_SECONDS:
        labels.cpc, labels.nice, labels.read_at = {}, {}, now
    missing_cpc = sorted(set(symbols) - labels.cpc.keys())
    missing_nice = sorted(set(nice) - labels.nice.keys())
    if missing_cpc or missing_nice:
        cpc_table, nice_table = CpcSymbol._meta.db_table, NiceClass._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 'cpc', symbol, title FROM {cpc_table} WHERE symbol = ANY(%s) "  # noqa: S608 - our table names
                f"UNION ALL SELECT 'nice', number::text, heading FROM {nice_table} WHERE number = ANY(%s)",
                [missing_cpc, missing_nice],
            )
            rows = cursor.fetchall()
        found_cpc = {key: title for kind, key, title in rows if kind == "cpc"}
        found_nice = {int(key): title for kind, key, title in rows if kind == "nice"}
        labels.cpc.update({symbol: found_cpc.get(symbol, "") for symbol in missing_cpc})
        labels.nice.update({number: found_nice.get(number, "") for number in missing_nice})
    return (
        {symbol: labels.cpc[symbol] for symbol in symbols if labels.cpc[symbol]},
        {number: labels.nice[number] for number in nice if labels.nice[number]},
    )


def facet_labels_forget() -> None:
    """Read the labels afresh on the next page (after a load, and between tests)."""
    _facet_labels.read_at = -math.inf
