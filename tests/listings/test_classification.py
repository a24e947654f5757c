"""Classification tables: loading from the shared folder or the shipped table, idempotency, lookups."""

from __future__ import annotations

import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from listings.classification import (
    SHIPPED_DIR,
    ClassificationError,
    CpcEntry,
    CpcSymbolError,
    classification_load,
    cpc_ancestors,
    cpc_symbol_normalise,
    cpc_title,
    cpc_titles,
    facet_labels,
    nice_heading,
)
from listings.models.classification import CpcSymbol, NiceClass, NiceTerm

SHARED = Path(settings.SHARED_DATA_DIR) / "classification"
needs_shared = pytest.mark.skipif(
    not (SHARED / "cpc").is_dir(), reason=f"the shared classification data is not at {SHARED}"
)

SHIPPED_CPC_LINES = sum(1 for line in (SHIPPED_DIR / "cpc" / "cpc-project-titles.tsv").open() if line.strip())


def _snapshot() -> tuple[list[tuple], list[tuple], int]:
    return (
        list(CpcSymbol.objects.order_by("symbol").values_list("symbol", "level", "depth", "title", "parent_id")),
        list(NiceClass.objects.order_by("number").values_list("number", "kind", "heading", "note", "edition")),
        NiceTerm.objects.count(),
    )


@pytest.fixture
def no_shared_data(settings, tmp_path):
    settings.SHARED_DATA_DIR = tmp_path  # an empty folder: no classification/ inside
    return tmp_path


def _source(tmp_path: Path, cpc_lines: list[str], *, classes: list[dict] | None = None) -> Path:
    source = tmp_path / "source"
    (source / "cpc").mkdir(parents=True)
    with gzip.open(source / "cpc" / "cpc-section-G_test.txt.gz", "wt", encoding="utf-8", newline="") as f:
        f.write("".join(f"{line}\r\n" for line in cpc_lines))
    if classes is None:
        classes = [{"number": n, "heading": f"Heading {n}", "note": ""} for n in range(1, 46)]
    (source / "nice_test_classes.json").write_text(json.dumps(classes))
    return source


SMALL_SCHEME = [
    "G\t\tPHYSICS",
    "G06\t\tCOMPUTING",
    "G06N\t\tCOMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS",
    "G06N3/00\t0\tComputing arrangements based on biological models",
    "G06N3/02\t1\tNeural networks",
    "G06N3/04\t2\tArchitecture",
    "G06N3/08\t2\tLearning methods",
    "G06N2003/005\t1\t{indexing code}",
    "G06N5/00\t0\tComputing arrangements using knowledge-based models",
]


# --- The shipped table ------------------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_table_loads_when_the_shared_folder_is_absent(no_shared_data):
    report = classification_load()

    assert report.shipped is True
    assert report.source == SHIPPED_DIR
    assert (report.cpc.created, report.cpc.updated) == (SHIPPED_CPC_LINES, 0)
    assert (report.nice_classes.created, report.nice_terms.total) == (45, 0)
    assert CpcSymbol.objects.filter(level="section").count() == 9
    assert CpcSymbol.objects.filter(level="class").count() >= 130
    assert CpcSymbol.objects.filter(level="subclass").count() >= 200
    g06n = CpcSymbol.objects.select_related("parent__parent").get(symbol="G06N")
    assert (g06n.level, g06n.parent.symbol, g06n.parent.parent.symbol) == ("subclass", "G06", "G")
    assert CpcSymbol.objects.get(symbol="G").parent is None
    assert NiceClass.objects.count() == 45
    assert set(NiceClass.objects.filter(kind="goods").values_list("number", flat=True)) == set(range(1, 35))
    assert set(NiceClass.objects.filter(kind="services").values_list("number", flat=True)) == set(range(35, 46))


@pytest.mark.django_db
def test_loading_twice_changes_nothing(no_shared_data):
    classification_load()
    before = _snapshot()

    report = classification_load()

    assert not report.changed
    assert (report.cpc.created, report.cpc.updated, report.cpc.unchanged) == (0, 0, SHIPPED_CPC_LINES)
    assert (report.nice_classes.created, report.nice_classes.updated, report.nice_classes.unchanged) == (0, 0, 45)
    assert _snapshot() == before


@pytest.mark.django_db
def test_management_command_reports_counts(no_shared_data):
    out = StringIO()
    call_command("load_classification", stdout=out)
    call_command("load_classification", stdout=out)

    text = out.getvalue()
    assert f"CPC symbols: {SHIPPED_CPC_LINES} read: {SHIPPED_CPC_LINES} created, 0 updated" in text
    assert "Nice classes: 45 read: 45 created" in text
    assert "shipped table" in text
    assert text.count("Nothing changed.") == 1


# --- A source folder of our own -----------------------------------------------------------------


@pytest.mark.django_db
def test_subgroups_hang_under_the_group_one_dot_up(tmp_path):
    report = classification_load(source=_source(tmp_path, SMALL_SCHEME))

    assert report.cpc.created == len(SMALL_SCHEME)
    parents = dict(CpcSymbol.objects.values_list("symbol", "parent_id"))
    assert parents["G06N3/00"] == "G06N"
    assert parents["G06N3/02"] == "G06N3/00"
    assert parents["G06N3/04"] == "G06N3/02"
    assert parents["G06N3/08"] == "G06N3/02"
    assert parents["G06N2003/005"] == "G06N3/00"
    assert parents["G06N5/00"] == "G06N"
    assert CpcSymbol.objects.get(symbol="G06N3/08").depth == 2
    assert CpcSymbol.objects.get(symbol="G06N3/08").level == "subgroup"
    assert CpcSymbol.objects.get(symbol="G06N3/00").level == "group"


@pytest.mark.django_db
def test_a_changed_title_is_updated_and_counted(tmp_path):
    classification_load(source=_source(tmp_path / "a", SMALL_SCHEME))
    changed = [line.replace("Learning methods", "Learning methods, e.g. backpropagation") for line in SMALL_SCHEME]

    report = classification_load(source=_source(tmp_path / "b", changed))

    assert (report.cpc.created, report.cpc.updated, report.cpc.unchanged) == (0, 1, len(SMALL_SCHEME) - 1)
    assert cpc_title("G06N3/08") == "Learning methods, e.g. backpropagation"


@pytest.mark.django_db
def test_shipped_table_never_overwrites_loaded_titles(no_shared_data, tmp_path):
    classification_load(source=_source(tmp_path, SMALL_SCHEME))

    report = classification_load()

    assert report.shipped
    assert cpc_title("G06N") == "COMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS"
    assert nice_heading(9) == "Heading 9"
    assert report.cpc.created == SHIPPED_CPC_LINES - 3  # G, G06 and G06N were there already
    assert report.cpc.updated == 0


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["G\t\tPHYSICS", "G06 COMPUTING"], "line 2: expected symbol<TAB>level<TAB>title"),
        (["G\t\tPHYSICS", "G6X\t\tCOMPUTING"], "line 2: “G6X” is not a CPC symbol"),
        (["G\t\tPHYSICS", "G06\t1\tCOMPUTING"], "line 2: only groups carry a level"),
        (["G\t\tPHYSICS", "G06\t\t"], "line 2: G06 has no title"),
        (["G\t\tPHYSICS", "G\t\tPHYSICS"], "line 2: G appears twice"),
        (["G06N\t\tX", "G06N3/08\t2\tLearning methods"], "line 2: G06N3/08 at level 2 has no parent"),
        (["G06N\t\tX", "G06N3/00\tzero\tX"], "level 'zero' is not a number"),
    ],
)
@pytest.mark.django_db
def test_a_bad_cpc_line_is_refused_and_nothing_changes(tmp_path, lines, message):
    with pytest.raises(ClassificationError, match=message):
        classification_load(source=_source(tmp_path, lines))

    assert CpcSymbol.objects.count() == 0
    assert NiceClass.objects.count() == 0


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ([{"number": n, "heading": "h"} for n in range(1, 45)], "expected all 45 classes, found 44"),
        ([{"number": n, "heading": "h"} for n in range(1, 47)], "class 46 is out of range"),
        ([{"number": 1}], "lacks its number or heading"),
        ({"classes": []}, "expected a list of classes"),
    ],
)
@pytest.mark.django_db
def test_bad_nice_classes_are_refused_and_nothing_changes(tmp_path, classes, message):
    with pytest.raises(ClassificationError, match=message):
        classification_load(source=_source(tmp_path, SMALL_SCHEME, classes=classes))

    assert CpcSymbol.objects.count() == 0


@pytest.mark.django_db
def test_missing_files_and_folders_are_refused(tmp_path):
    with pytest.raises(ClassificationError, match="is not a folder"):
        classification_load(source=tmp_path / "nowhere")
    with pytest.raises(ClassificationError, match="No Nice class file"):
        classification_load(source=tmp_path)
    (tmp_path / "nice_x_classes.json").write_text("[]")
    with pytest.raises(ClassificationError, match="No CPC title files"):
        classification_load(source=tmp_path)
    with pytest.raises(ClassificationError, match="letters A-H and Y"):
        classification_load(source=_source(tmp_path, SMALL_SCHEME), cpc_sections={"Z"})

    assert CpcSymbol.objects.count() == 0


@pytest.mark.django_db
def test_command_turns_a_bad_source_into_a_command_error(tmp_path):
    with pytest.raises(CommandError, match=r"Nothing was loaded: .* is not a folder"):
        call_command("load_classification", "--source", str(tmp_path / "nowhere"))


# --- The shared folder --------------------------------------------------------------------------


@needs_shared
@pytest.mark.django_db
def test_full_shared_tables_load_once_and_then_change_nothing():
    report = classification_load()

    assert not report.shipped
    assert report.cpc.created == 260_263
    assert report.nice_classes.created == 45
    assert report.nice_terms.created == 9_115
    assert CpcSymbol.objects.filter(level="section").count() == 9
    assert CpcSymbol.objects.filter(level="subclass").count() == 674
    assert CpcSymbol.objects.filter(level="group").exists()
    # Every symbol but the sections has its parent, so the tree is whole.
    assert CpcSymbol.objects.exclude(level="section").filter(parent__isnull=True).count() == 0
    assert NiceClass.objects.get(number=1).edition == "NCL 13-2026"
    assert NiceClass.objects.get(number=41).includes  # the notes' lists come along
    assert NiceTerm.objects.filter(basic_number="090001").exists()
    assert NiceTerm.objects.get(term="business management assistance").nice_class_id == 35

    again = classification_load()

    assert not again.changed
    assert (again.cpc.unchanged, again.nice_classes.unchanged, again.nice_terms.unchanged) == (260_263, 45, 9_115)


@needs_shared
@pytest.mark.django_db
def test_shared_tables_replace_the_shipped_summary(no_shared_data, settings):
    classification_load()  # the shipped table
    settings.SHARED_DATA_DIR = SHARED.parent

    report = classification_load(cpc_sections={"G"})

    assert not report.shipped
    assert report.cpc.updated > 0  # our own subclass titles give way to the official ones
    assert cpc_title("G06N") == "COMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS"
    assert [entry.symbol for entry in cpc_ancestors("G06N3/08")] == ["G", "G06", "G06N", "G06N3/00"]
    assert NiceClass.objects.get(number=9).edition == "NCL 13-2026"


# --- Lookups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("G06N3/08", "G06N3/08"),
        ("G06N 3/08", "G06N3/08"),
        ("g06n  3/08", "G06N3/08"),
        ("G06N0003080000", "G06N3/08"),  # the fixed-width form of bulk data
        ("G06N 3/080", "G06N3/08"),
        ("G06N 0003/08", "G06N3/08"),
        ("H01L 21/02664", "H01L21/02664"),
        ("G01B2003/1012", "G01B2003/1012"),
        ("G06N", "G06N"),
        ("G06", "G06"),
        ("y", "Y"),
    ],
)
def test_cpc_symbols_normalise(text, symbol):
    assert cpc_symbol_normalise(text) == symbol


@pytest.mark.parametrize(
    "text", ["", "Z01", "G6N", "G06N3", "G06N3/", "G06N 0/08", "G06N3/08/1", "G06N 12345/00", "x" * 10_000, "G06N3/08;"]
)
def test_bad_cpc_symbols_are_refused(text):
    with pytest.raises(CpcSymbolError, match="not a CPC symbol"):
        cpc_symbol_normalise(text)


@pytest.mark.django_db
def test_lookups_after_loading_the_shipped_table(no_shared_data):
    classification_load()

    assert cpc_title("g06n") == CpcSymbol.objects.get(symbol="G06N").title
    assert cpc_title("G06N 3/08") is None  # well formed, but the summary has no groups
    assert cpc_ancestors("G06N 3/08") == [
        CpcEntry(symbol=s, level=level, title=CpcSymbol.objects.get(symbol=s).title)
        for s, level in (("G", "section"), ("G06", "class"), ("G06N", "subclass"))
    ]
    assert [entry.symbol for entry in cpc_ancestors("G06N")] == ["G", "G06"]
    assert cpc_ancestors("G") == []
    assert set(cpc_titles(["G06N", "H04L", "G06N3/08", "nonsense"])) == {"G06N", "H04L"}
    assert nice_heading(25) == "Clothing, footwear, headwear"
    assert nice_heading(45).startswith("Legal services")


@pytest.mark.django_db
def test_lookups_refuse_bad_input():
    with pytest.raises(CpcSymbolError):
        cpc_title("not a symbol")
    with pytest.raises(CpcSymbolError):
        cpc_ancestors("G06N 3")
    for number in (0, 46, -1, True):
        with pytest.raises(ValueError, match="numbered 1 to 45"):
            nice_heading(number)
    with pytest.raises(ValueError, match="numbered 1 to 45"):
        nice_heading("9")
    assert nice_heading(9) is None  # nothing loaded yet


@pytest.mark.django_db
def test_facet_labels_are_read_once_and_afresh_after_a_load(
    tmp_path, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        classification_load(source=_source(tmp_path / "a", SMALL_SCHEME))
    with django_assert_num_queries(1):
        labels = facet_labels(symbols=["G", "G06", "H99"], nice=[9])
    # A symbol the tables lack is left out, and not asked for again.
    assert labels == ({"G": "PHYSICS", "G06": "COMPUTING"}, {9: "Heading 9"})
    with django_assert_num_queries(0):
        assert facet_labels(symbols=["G06", "H99"], nice=[]) == ({"G06": "COMPUTING"}, {})

    renamed = list(SMALL_SCHEME)
    renamed[1] = "G06\t\tCOMPUTING; CALCULATING"
    with django_capture_on_commit_callbacks(execute=True):
        classification_load(source=_source(tmp_path / "b", renamed))
    with django_assert_num_queries(1):
        assert facet_labels(symbols=["G06"], nice=[]) == ({"G06": "COMPUTING; CALCULATING"}, {})
