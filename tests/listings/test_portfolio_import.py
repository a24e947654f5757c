"""Sellers import a portfolio from a CSV file: the template and the exports as they are, the
background job and its progress, the rejected rows, and every bad file refused whole."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from listings import portfolio
from listings.catalogue import SAMPLE_DIR
from listings.models import (
    ImportJob,
    ImportJobState,
    ImportRejection,
    Listing,
    ListingState,
    OwnerOfRecord,
    Right,
    Status,
)
from marketplace import celery_app
from tests.factories import UserFactory, make_listing, make_right

pytestmark = pytest.mark.django_db

SHARED_PATENTS = Path(settings.SHARED_DATA_DIR) / "catalogue" / "patents"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def eager_celery():
    """The import task runs in-process, as a worker would, right after the upload commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def seller(client, user):
    client.force_login(user)
    return user


def row(**values: str) -> dict[str, str]:
    base = {
        "kind": "patent",
        "sub_kind": "invention",
        "jurisdiction": "US",
        "registration_number": "US 6,654,321 B2",
        "title": "Method for compressing neural network weights",
        "owners": "Example Innovations Inc.; Second Owner LLC",
        "filing_date": "2015-03-02",
        "grant_date": "2018-06-05",
        "expiry_date": "2035-03-02",
        "cpc_symbols": "G06N 3/08; H04L 9/32",
        "deal_types": "assignment; exclusive_licence",
        "price_mode": "fixed",
        "currency": "USD",
        "asking_price": "150,000.00",
    }
    base.update(values)
    return base


def template_csv(*rows: dict[str, str], columns: tuple[str, ...] = portfolio.TEMPLATE_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for values in rows:
        writer.writerow(values)
    return buffer.getvalue().encode()


def upload(client, content: bytes, name: str = "portfolio.csv"):
    return client.post(reverse("listings:import"), {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def import_file(client, django_capture_on_commit_callbacks, content: bytes, name: str = "portfolio.csv"):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def rejected_rows(client, job: ImportJob) -> list[dict[str, str]]:
    response = client.get(reverse("listings:import-rejected", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- The page and the template --------------------------------------------------------------------


def test_the_page_documents_the_template_and_offers_it_for_download(client, seller):
    page = client.get(reverse("listings:import"))
    template = client.get(reverse("listings:import-template"))

    assert page.status_code == 200
    for name in portfolio.TEMPLATE_COLUMNS:
        assert f"<code>{name}</code>" in page.content.decode()
    assert template.status_code == 200
    assert template["Content-Disposition"] == 'attachment; filename="portfolio-template.csv"'
    assert next(csv.reader(io.StringIO(template.content.decode()))) == list(portfolio.TEMPLATE_COLUMNS)


def test_the_import_pages_need_a_signed_in_seller(client):
    response = client.get(reverse("listings:import"))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


# --- The portfolio template -----------------------------------------------------------------------


def test_template_rows_become_the_uploaders_drafts(client, seller, django_capture_on_commit_callbacks):
    content = template_csv(
        row(),
        row(
            kind="trademark",
            sub_kind="trademark",
            registration_number="2,178,784",
            application_number="75/026,640",
            title="JAVA",
            goods_and_services="Computer software for developing applications",
            owners="Oracle America, Inc.",
            cpc_symbols="",
            nice_classes="9; 42",
            listing_title="The JAVA mark",
            deal_types="assignment",
            price_mode="offers",
            currency="EUR",
            asking_price="5000000",
            minimum_price="2,500,000.00",
            filing_date="",
            grant_date="1998-08-04",
            expiry_date="2028-08-04",
        ),
        row(
            jurisdiction="CN",
            registration_number="",
            application_number="201710431918.5",
            title="Image recognition device",
            owners="Sample Technology Co Ltd",
            cpc_symbols="",
            price_mode="on_request",
            currency="",
            asking_price="",
            expiry_date="2037-06-09",
            filing_date="2017-06-09",
            grant_date="",
        ),
    )

    job = import_file(client, django_capture_on_commit_callbacks, content)

    assert (job.state, job.layout, job.total_rows, job.processed_rows) == (ImportJobState.DONE, "template", 3, 3)
    assert (job.created_count, job.rejected_count, job.skipped_count, job.error) == (3, 0, 0, "")
    listings = {listing.title: listing for listing in Listing.objects.all()}
    assert set(listings) == {
        "Method for compressing neural network weights",
        "The JAVA mark",
        "Image recognition device",
    }
    assert {listing.seller for listing in listings.values()} == {seller}
    assert {listing.state for listing in listings.values()} == {ListingState.DRAFT}
    patent = listings["Method for compressing neural network weights"]
    assert (patent.price_mode, patent.currency, patent.asking_price) == ("fixed", "USD", 15_000_000)
    assert patent.deal_types == ["assignment", "exclusive_licence"]
    right = patent.rights.get()
    assert (right.registration_number, right.status, right.cpc_symbols) == (
        "6654321",
        Status.IN_FORCE,
        ["G06N3/08", "H04L9/32"],
    )
    assert list(right.owners.values_list("name", flat=True)) == ["Example Innovations Inc.", "Second Owner LLC"]
    assert right.facts_source == "seller's statement (Portfolio template, portfolio.csv)"
    mark = listings["The JAVA mark"]
    assert (mark.price_mode, mark.currency, mark.asking_price, mark.minimum_price) == (
        "offers",
        "EUR",
        500_000_000,
        250_000_000,
    )
    mark_right = mark.rights.get()
    assert (mark_right.registration_number, mark_right.application_number, mark_right.nice_classes) == (
        "2178784",
        "75026640",
        [9, 42],
    )
    chinese = listings["Image recognition device"].rights.get()
    assert (chinese.jurisdiction, chinese.application_number, chinese.status) == (
        "CN",
        "201710431918.5",
        Status.PENDING,
    )
    assert listings["Image recognition device"].currency == "USD"


def test_a_right_whose_term_has_ended_is_imported_as_expired(client, seller, django_capture_on_commit_callbacks):
    content = template_csv(row(filing_date="1990-01-02", grant_date="1992-05-05", expiry_date="2010-01-02"))

    import_file(client, django_capture_on_commit_callbacks, content)

    assert Right.objects.get().status == Status.EXPIRED
    assert Listing.objects.get().state == ListingState.DRAFT


def test_bad_rows_come_back_with_their_columns_and_reason(client, seller, django_capture_on_commit_callbacks):
    content = template_csv(
        row(title="Good one"),
        row(registration_number="ABC123", title="Bad number"),
        row(registration_number="7000001", filing_date="02/03/2015", title="Bad date"),
        row(registration_number="7000002", currency="XYZ", title="Bad currency"),
        row(registration_number="7000003", asking_price="-5", title="Negative price"),
        row(registration_number="7000004", kind="song", title="Bad kind"),
        row(
            registration_number="7000005", nice_classes="99", title="Bad class", kind="trademark", sub_kind="trademark"
        ),
        row(registration_number="7000006", price_mode="on_request", title="Price on request with a price"),
        row(
            registration_number="7000007",
            expiry_date="2001-01-01",
            filing_date="2002-01-01",
            title="Ends before filing",
        ),
    )
    content += b'patent,invention,US,,,"7000008",Short row\n'

    job = import_file(client, django_capture_on_commit_callbacks, content)

    assert (job.state, job.total_rows, job.created_count, job.rejected_count) == (ImportJobState.DONE, 10, 1, 9)
    assert list(Listing.objects.values_list("title", flat=True)) == ["Good one"]
    assert Right.objects.count() == 1
    rows = rejected_rows(client, job)
    assert list(rows[0]) == [*portfolio.TEMPLATE_COLUMNS, "reason"]
    reasons = {r["title"]: r["reason"] for r in rows}
    assert set(reasons) == {
        "Bad number",
        "Bad date",
        "Bad currency",
        "Negative price",
        "Bad kind",
        "Bad class",
        "Price on request with a price",
        "Ends before filing",
        "Short row",
    }
    assert reasons["Bad number"].startswith("registration_number: ")
    assert "YYYY-MM-DD" in reasons["Bad date"]
    assert reasons["Bad currency"].startswith("currency: ")
    assert reasons["Negative price"].startswith("asking_price: ")
    assert reasons["Bad kind"].startswith("kind: ")
    assert "1 to 45" in reasons["Bad class"]
    assert reasons["Price on request with a price"].startswith("asking_price: ")
    assert "before the filing date" in reasons["Ends before filing"]
    assert reasons["Short row"] == "The row has 7 fields where the header has 22."
    # The original cells come back as they were typed.
    bad_date = next(r for r in rows if r["title"] == "Bad date")
    assert (bad_date["filing_date"], bad_date["asking_price"]) == ("02/03/2015", "150,000.00")


def test_the_rejected_rows_file_can_be_corrected_and_uploaded_again(client, seller, django_capture_on_commit_callbacks):
    first = import_file(client, django_capture_on_commit_callbacks, template_csv(row(filing_date="yesterday")))
    rows = rejected_rows(client, first)
    rows[0]["filing_date"] = "2015-03-02"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    second = import_file(client, django_capture_on_commit_callbacks, buffer.getvalue().encode(), "rejected.csv")

    assert (second.state, second.created_count, second.rejected_count) == (ImportJobState.DONE, 1, 0)
    assert Right.objects.get().filing_date == date(2015, 3, 2)


def test_a_right_the_seller_already_offers_is_skipped(client, seller, django_capture_on_commit_callbacks):
    make_listing(seller=seller, publish=False, rights=[make_right(registration_number="6654321")])

    job = import_file(
        client, django_capture_on_commit_callbacks, template_csv(row(), row(registration_number="7000009"))
    )

    assert (job.created_count, job.skipped_count, job.rejected_count, job.processed_rows) == (1, 1, 0, 2)
    assert Listing.objects.count() == 2
    assert Right.objects.count() == 2


def test_a_header_in_another_case_and_order_with_a_bom_is_read(client, seller, django_capture_on_commit_callbacks):
    columns = tuple(reversed([name.upper() for name in portfolio.TEMPLATE_COLUMNS]))
    values = {name.upper(): value for name, value in row().items()}
    content = "\ufeff".encode() + template_csv(values, columns=columns)

    job = import_file(client, django_capture_on_commit_callbacks, content)

    assert (job.created_count, job.rejected_count) == (1, 0)


# --- The exports, as they are ---------------------------------------------------------------------


def test_the_nasa_export_is_imported_for_the_uploader(client, seller, django_capture_on_commit_callbacks):
    content = (SAMPLE_DIR / "patents" / "nasa_portfolio_2014.csv").read_bytes()

    job = import_file(client, django_capture_on_commit_callbacks, content, "nasa.csv")

    assert (job.layout, job.state, job.total_rows, job.processed_rows) == ("nasa", ImportJobState.DONE, 4, 4)
    assert job.created_count + job.rejected_count == 4
    assert job.created_count >= 3
    listings = list(Listing.objects.all())
    assert {listing.seller for listing in listings} == {seller}
    assert {listing.state for listing in listings} == {ListingState.DRAFT}
    assert all(listing.deal_types == ["exclusive_licence", "non_exclusive_licence"] for listing in listings)
    assert {OwnerOfRecord.objects.filter(name__icontains="Aeronautics").count()} == {job.created_count}
    # No NASA seller account is made up: the uploader is the seller.
    assert not type(seller).objects.filter(email__icontains="nasa").exists()
    assert (
        Right.objects.filter(registration_number="6345678")
        .get()
        .facts_source.startswith("seller's statement (NASA technology portfolio export")
    )


def test_the_patentsview_export_is_imported_at_price_on_request(client, seller, django_capture_on_commit_callbacks):
    content = (SAMPLE_DIR / "patents" / "pv_sample.csv").read_bytes()

    job = import_file(client, django_capture_on_commit_callbacks, content, "pv.csv")

    assert (job.layout, job.state, job.rejected_count) == ("patentsview", ImportJobState.DONE, 0)
    assert job.created_count == job.total_rows == 3
    assert set(Listing.objects.values_list("price_mode", "asking_price", "minimum_price")) == {
        ("on_request", None, None)
    }
    assert set(Listing.objects.values_list("seller_id", flat=True)) == {seller.pk}
    assert Right.objects.filter(registration_number="10261234").exists()


def test_the_google_patents_export_with_its_search_line_is_imported(client, seller, django_capture_on_commit_callbacks):
    content = (SAMPLE_DIR / "patents" / "google" / "gp-search-sample.csv").read_bytes()

    job = import_file(client, django_capture_on_commit_callbacks, content, "gp.csv")

    assert (job.layout, job.state, job.total_rows, job.processed_rows) == ("google_patents", ImportJobState.DONE, 3, 3)
    assert job.created_count == 3
    assert set(Listing.objects.values_list("seller_id", "price_mode")) == {(seller.pk, "on_request")}


@pytest.mark.skipif(not SHARED_PATENTS.exists(), reason="the shared data folder is absent")
@pytest.mark.parametrize("name", ["nasa_portfolio_2014.csv", "pv_baseball.csv"])
def test_the_real_exports_are_imported_whole(client, seller, django_capture_on_commit_callbacks, name):
    content = (SHARED_PATENTS / name).read_bytes()

    job = import_file(client, django_capture_on_commit_callbacks, content, name)

    assert job.state == ImportJobState.DONE, job.error
    assert job.processed_rows == job.total_rows > 1000
    assert job.created_count + job.rejected_count + job.skipped_count == job.total_rows
    assert job.created_count > job.total_rows // 2
    assert Listing.objects.filter(seller=seller, state=ListingState.DRAFT).count() == job.created_count
    assert ImportRejection.objects.filter(job=job).count() == job.rejected_count
    assert all(reason for reason in ImportRejection.objects.values_list("reason", flat=True))
    # PatentsView writes a missing abstract as "None" or "NULL": it is read as missing.
    assert not Right.objects.filter(abstract__in=["None", "NULL"]).exists()
    # The exports' HTML character references ("&quot;", "&#8220;", "&deg;") are read as the characters.
    for reference in ("&quot;", "&amp;", "&#", "&deg;"):
        assert not Right.objects.filter(abstract__contains=reference).exists(), reference
        assert not Right.objects.filter(title__contains=reference).exists(), reference


# --- Bad files: a clear message, nothing stored, nothing created -----------------------------------

UTF8_ROW = template_csv(row(owners="Société Générale"))
BAD_FILES = {
    "wrong header": (b"name,number,price\nWidget,123,5\n", "is not one we read"),
    "template header lacking columns": (
        template_csv(row(), columns=portfolio.TEMPLATE_COLUMNS[:-2]),
        "lacks the columns asking_price, minimum_price",
    ),
    "template header with a typo": (
        template_csv(row()).replace(b"asking_price", b"asking price", 1),
        "columns the template does not have: asking price",
    ),
    "cp1252 bytes": (UTF8_ROW.decode().encode("cp1252"), "not UTF-8 text: line 2"),
    "utf-16": (UTF8_ROW.decode().encode("utf-16"), "UTF-16"),
    "empty file": (b"", "The file is empty."),
    "blank lines only": (b"\r\n\r\n  \n", "The file is empty."),
    "a header and no rows": (template_csv(), "a header but no rows"),
    "html renamed csv": (
        b"<!DOCTYPE html>\n<html><head><title>Export</title></head><body>Sign in</body></html>",
        "HTML page",
    ),
    "html after blank lines": (
        b"\n\n  <html lang=en><body><table><tr><td>1</td></tr></table></body></html>",
        "HTML page",
    ),
    "an Excel workbook": (b"PK\x03\x04" + b"\x00" * 200, "Excel workbook"),
    "binary with NUL": (b"kind,title\n\x00\x00\x00\n", "NUL"),
    "unbalanced quotes across a huge field": (
        b'patent_number,patent_title,patent_date,patent_abstract\n1,"' + b"x" * 200_000 + b"\n",
        "not valid CSV",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_whole_with_a_clear_message(
    client, seller, media, django_capture_on_commit_callbacks, case
):
    content, message = BAD_FILES[case]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert callbacks == []
    assert not ImportJob.objects.exists()
    assert not Listing.objects.exists()
    assert not Right.objects.exists()
    assert not Path(media).exists() or not any(Path(media).rglob("*.csv"))


def test_the_wrong_header_message_names_the_expected_columns(client, seller):
    response = upload(client, b"name,number,price\nWidget,123,5\n")

    text = response.content.decode()
    assert "(name, number, price)" in text
    assert ", ".join(portfolio.TEMPLATE_COLUMNS) in text
    assert "Patent Number" in text
    assert "patent_number" in text


def test_no_file_at_all_is_refused(client, seller):
    response = client.post(reverse("listings:import"), {})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, seller, settings):
    settings.LISTING_IMPORT_MAX_BYTES = 1024
    content = template_csv(*[row(registration_number=str(7_000_000 + n)) for n in range(20)])
    assert len(content) > 1024

    response = upload(client, content)

    assert response.status_code == 400
    assert "larger than 0.0009765625 MB" not in response.content.decode()
    assert "The file is larger than" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not Listing.objects.exists()


def test_the_size_limit_defaults_to_20_megabytes(client, seller):
    content = (
        b"patent_number,patent_title,patent_date,patent_abstract\n"
        + b"1,t,2000-01-01,"
        + b"a" * (20 * 1024 * 1024)
        + b"\n"
    )

    response = upload(client, content)

    assert response.status_code == 400
    assert "The file is larger than 20 MB." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_of_100000_rows_is_refused_whole(client, seller):
    header = "patent_abstract,patent_date,patent_number,patent_title\n"
    body = "".join(f"An abstract,2001-01-01,{6_000_000 + n},Title {n}\n" for n in range(100_000))

    response = upload(client, (header + body).encode())

    assert response.status_code == 400
    assert "more than 50,000 rows" in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not Listing.objects.exists()


def test_the_row_limit_is_a_setting(client, seller, settings):
    settings.LISTING_IMPORT_MAX_ROWS = 2
    content = template_csv(*[row(registration_number=str(7_000_000 + n)) for n in range(3)])

    response = upload(client, content)

    assert response.status_code == 400
    assert "more than 2 rows" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- The job: queued on commit, progress for its owner only, safe to run twice -------------------


def test_the_job_is_queued_and_starts_only_after_the_upload_commits(client, seller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, template_csv(row()))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("listings:import-job", args=[job.pk])
    assert (job.state, job.total_rows, job.processed_rows) == (ImportJobState.QUEUED, 1, 0)
    assert len(callbacks) == 1
    assert not Listing.objects.exists()
    page = client.get(response.url)
    assert page.status_code == 200
    assert reverse("listings:import-progress", args=[job.pk]) in page.content.decode()


def test_progress_is_shown_to_the_owner_only(client, seller, django_capture_on_commit_callbacks):
    job = import_file(
        client, django_capture_on_commit_callbacks, template_csv(row(), row(registration_number="ABC123"))
    )
    url = reverse("listings:import-progress", args=[job.pk])

    mine = client.get(url)
    client.force_login(UserFactory())
    others = [
        client.get(url),
        client.get(reverse("listings:import-job", args=[job.pk])),
        client.get(reverse("listings:import-rejected", args=[job.pk])),
    ]
    client.logout()
    anonymous = client.get(url)

    assert mine.status_code == 200
    assert mine["Cache-Control"] == "no-store"
    assert json.loads(mine.content) == {
        "id": job.pk,
        "state": "done",
        "state_label": "Done",
        "finished": True,
        "total": 2,
        "processed": 2,
        "created": 1,
        "rejected": 1,
        "skipped": 0,
        "percent": 100,
        "error": "",
    }
    assert [response.status_code for response in others] == [404, 404, 404]
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous.url


def test_running_a_finished_job_again_changes_nothing(client, seller, django_capture_on_commit_callbacks):
    job = import_file(
        client, django_capture_on_commit_callbacks, template_csv(row(), row(registration_number="7000001"))
    )

    again = portfolio.portfolio_import_run(job_id=job.pk)

    assert again is None
    assert Listing.objects.count() == 2
    job.refresh_from_db()
    assert (job.state, job.created_count, job.processed_rows) == (ImportJobState.DONE, 2, 2)


def test_a_failure_is_recorded_and_a_resumed_job_goes_on_from_its_last_batch(
    client, seller, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        upload(
            client, template_csv(*[row(registration_number=str(7_000_000 + n), title=f"Right {n}") for n in range(5)])
        )
    job = ImportJob.objects.get()
    real_import = portfolio.catalogue_import
    calls = []

    def failing_second_batch(rows, **kwargs):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_import(rows, **kwargs)

    monkeypatch.setattr(portfolio, "catalogue_import", failing_second_batch)
    failed = portfolio.portfolio_import_run(job_id=job.pk, batch_size=2)

    assert failed is not None
    assert failed.state == ImportJobState.FAILED
    assert (
        failed.error
        == "An unexpected error stopped the import. The first 2 rows were imported as drafts; the rest were not."
    )
    assert (failed.processed_rows, failed.created_count) == (2, 2)
    assert Listing.objects.count() == 2

    # A worker lost mid-job leaves it running; the redelivered task goes on where it stopped.
    monkeypatch.setattr(portfolio, "catalogue_import", real_import)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJobState.RUNNING, error="", finished_at=None)
    resumed = portfolio.portfolio_import_run(job_id=job.pk, batch_size=2)

    assert resumed is not None
    assert (resumed.state, resumed.processed_rows, resumed.created_count, resumed.skipped_count) == (
        ImportJobState.DONE,
        5,
        5,
        0,
    )
    assert sorted(Listing.objects.values_list("title", flat=True)) == [f"Right {n}" for n in range(5)]


def test_the_job_page_shows_the_failure(client, seller, django_capture_on_commit_callbacks):
    job = import_file(client, django_capture_on_commit_callbacks, template_csv(row()))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJobState.FAILED, error="The import stopped.")

    page = client.get(reverse("listings:import-job", args=[job.pk]))

    assert page.status_code == 200
    assert "The import stopped." in page.content.decode()
