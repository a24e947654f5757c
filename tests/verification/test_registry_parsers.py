"""Every real registry file in the shared data folder, parsed, with the facts it states."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from verification.registries import epo_ops, euipo, tsdr, uspto_assignment, uspto_odp
from verification.registries.http import InvalidRegistryNumber, RegistryMalformed, RegistryNotFound
from verification.registries.records import (
    AssignmentRecord,
    Deadline,
    add_months,
    conveyance_kind,
    next_deadline,
    outstanding_encumbrances,
    parse_date,
    sha256_hex,
)

# Every file the shared folder holds, and the test that reads it: a new file fails here until
# a parser test covers it.
COVERED = {
    "epo_legal/example_1.xml",
    "epo_legal/example_2.xml",
    "euipo/design_list_size10.json",
    "euipo/tm_list_size10.json",
    "tsdr/rn2178784-ST-961_D3.xml",
    "tsdr/rn2178784-ST-962.2.1.xml",
    "tsdr/sn78787878_status_cassette.yaml",
    "uspto_assignment/assignment_1.xml",
    "uspto_assignment/assignment_3.xml",
    "uspto_odp/adjustment.json",
    "uspto_odp/application.json",
    "uspto_odp/assignment.json",
    "uspto_odp/biblio.json",
    "uspto_odp/continuity.json",
    "uspto_odp/swagger.yaml",  # the API description: its paths are checked in the client tests
    "uspto_odp/transactions.json",
}


def tsdr_json(registry_dir: Path) -> str:
    cassette = yaml.safe_load((registry_dir / "tsdr" / "sn78787878_status_cassette.yaml").read_text())
    return cassette["interactions"][0]["response"]["body"]["string"]


def test_every_registry_file_has_a_parser_test(registry_dir):
    files = {str(p.relative_to(registry_dir)) for p in registry_dir.rglob("*") if p.is_file()}
    assert files - COVERED == set()


# --- USPTO ODP -----------------------------------------------------------------------------------------


def test_odp_application_reads_status_owner_assignment_continuity_and_cpc(registry_dir):
    body = (registry_dir / "uspto_odp" / "application.json").read_bytes()
    record = uspto_odp.parse_application(body, as_of=date(2025, 1, 1))

    assert record.application_number == "15123456"
    assert record.title == "TONGUE RETRACTORS FOR FRENOTOMIES"
    assert record.subkind == "utility"
    assert (record.status, record.status_code) == ("abandoned", "161")
    assert record.status_text == "Abandoned -- Failure to Respond to an Office Action"
    assert record.status_date == date(2018, 10, 2)
    assert record.filing_date == date(2016, 9, 2)
    assert record.publication_number == "US 2017-0071586 A1"
    assert record.owner_names == ("THE GENERAL HOSPITAL CORPORATION",)
    assert record.classes[:3] == ("A61B13/00", "A61B2017/320052", "A61B17/02")
    assert record.classification_scheme == "CPC"
    (assignment,) = record.assignments
    assert (assignment.reel, assignment.frame, assignment.reel_frame) == ("047305", "0442", "047305/0442")
    assert assignment.kind == "assignment"
    assert assignment.assignors[0].name == "WANG, MARVIN"
    assert assignment.recorded_date == date(2018, 10, 25)
    assert assignment.execution_date == date(2018, 9, 23)
    # The national stage's PCT filing starts the term; the provisional before it does not.
    assert record.earliest_filing_date == date(2015, 4, 23)
    assert record.related_applications == ("PCT/US15/27322", "61983088", "16132008")
    assert len(record.events) == 46
    # Abandoned: no expiry or fee is invented for an application that never issued.
    assert record.expiry_date is None
    assert record.next_due is None
    assert record.sections == {"biblio", "assignments", "continuity", "pta", "transactions"}
    assert record.raw_sha256 == sha256_hex(body)


def test_odp_biblio_has_no_assignment_section_so_no_one_can_read_it_as_unencumbered(registry_dir):
    record = uspto_odp.parse_application((registry_dir / "uspto_odp" / "biblio.json").read_bytes())

    assert record.status == "abandoned"
    assert record.owner_names == ("The General Hospital Corporation",)
    assert record.sections == {"biblio"}
    assert record.assignments == ()


def test_odp_section_answers_parse_with_their_own_functions(registry_dir):
    folder = registry_dir / "uspto_odp"
    parents, children = uspto_odp.parse_continuity(json.loads((folder / "continuity.json").read_bytes()))
    assert [(p["number"], p["parentage"], p["filing_date"]) for p in parents] == [
        ("PCT/US15/27322", "NST", date(2015, 4, 22)),
        ("61983088", "PRO", date(2014, 4, 22)),
    ]
    assert [(c["number"], c["parentage"]) for c in children] == [("16132008", "CON")]

    assert uspto_odp.parse_adjustment(json.loads((folder / "adjustment.json").read_bytes())) == 0

    events = uspto_odp.parse_transactions(json.loads((folder / "transactions.json").read_bytes()))
    assert len(events) == 46
    assert (events[0].code, events[0].date) == ("IEXX", date(2016, 9, 2))

    (assignment,) = uspto_odp.parse_assignments(json.loads((folder / "assignment.json").read_bytes()))
    assert assignment.assignees[0].name == "THE GENERAL HOSPITAL CORPORATION"
    assert assignment.assignees[0].address == "55 FRUIT STREET, BOSTON, MA, 02114"


@pytest.mark.parametrize("name", ["continuity.json", "adjustment.json", "transactions.json", "assignment.json"])
def test_odp_section_answer_is_not_a_record(registry_dir, name):
    with pytest.raises(RegistryMalformed):
        uspto_odp.parse_application((registry_dir / "uspto_odp" / name).read_bytes())


def test_odp_granted_utility_patent_gets_derived_expiry_and_maintenance_windows(registry_dir):
    # The adjustment file is a real granted patent's PTA (granted 2021-01-26, filed 2018-09-06);
    # graft its grant onto the application record's shape to exercise the derivation.
    data = json.loads((registry_dir / "uspto_odp" / "application.json").read_bytes())
    pta = json.loads((registry_dir / "uspto_odp" / "adjustment.json").read_bytes())["patentBag"][0]
    item = data["patentBag"][0]
    item.update(
        applicationStatusCode=150,
        applicationStatusDescriptionText="Patented Case",
        grantDate="2021-01-26",
        patentNumber="10900000",
        patentTermAdjustmentData={**pta["patentTermAdjustmentData"], "adjustmentTotalQuantity": 127},
    )
    record = uspto_odp.parse_application(json.dumps(data), as_of=date(2024, 3, 1))

    assert record.status == "in_force"
    assert record.pta_days == 127
    # 20 years from the PCT filing 2015-04-23, plus 127 days.
    assert record.expiry_date == date(2035, 8, 28)
    assert [d.due_date for d in record.deadlines] == [date(2024, 7, 26), date(2028, 7, 26), date(2032, 7, 26)]
    assert record.next_due is not None
    assert (record.next_due.window_opens, record.next_due.grace_ends) == (date(2024, 1, 26), date(2025, 1, 26))
    assert {"expiry_date", "deadlines", "next_due", "earliest_filing_date"} <= set(record.derived)

    in_grace = uspto_odp.parse_application(json.dumps(data), as_of=date(2024, 9, 1))
    assert in_grace.status == "grace"

    past_term = uspto_odp.parse_application(json.dumps(data), as_of=date(2035, 9, 1))
    assert past_term.status == "expired"


def test_odp_design_patent_term_is_fifteen_years_from_grant_when_filed_after_may_2015(registry_dir):
    data = json.loads((registry_dir / "uspto_odp" / "biblio.json").read_bytes())
    data["patentBag"][0].update(
        applicationTypeCode="DES",
        applicationStatusCode=150,
        applicationStatusDescriptionText="Patented Case",
        grantDate="2019-01-01",
    )
    record = uspto_odp.parse_application(json.dumps(data), as_of=date(2024, 1, 1))
    assert (record.subkind, record.expiry_date, record.deadlines) == ("design", date(2034, 1, 1), ())


def test_odp_empty_bag_is_not_found():
    with pytest.raises(RegistryNotFound):
        uspto_odp.parse_application(b'{"count": 0, "patentBag": []}')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("16/123,456", "16123456"), ("US 15123456", "15123456"), ("PCT/US15/27322", "PCT/US15/27322")],
)
def test_odp_application_numbers_normalise(raw, expected):
    assert uspto_odp.application_number_normalise(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "16/123,456,789", "ABCDEFGH", ""])
def test_odp_malformed_application_number_is_refused(raw):
    with pytest.raises(InvalidRegistryNumber):
        uspto_odp.application_number_normalise(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("US 6,654,321 B2", "6654321"), ("D654,321", "D654321"), ("US10900000B1", "10900000")]
)
def test_us_patent_numbers_normalise(raw, expected):
    assert uspto_odp.patent_number_normalise(raw) == expected


# --- TSDR ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rn2178784-ST-961_D3.xml", "rn2178784-ST-962.2.1.xml"])
def test_tsdr_xml_both_schema_versions_read_the_same_facts(registry_dir, name):
    record = tsdr.parse_status_xml((registry_dir / "tsdr" / name).read_bytes(), as_of=date(2012, 1, 1))

    assert (record.application_number, record.registration_number) == ("74631225", "2178784")
    assert record.title == "JAVA"
    assert (record.status, record.status_code) == ("in_force", "800")
    assert record.status_text == "The registration has been renewed."
    assert record.filing_date == date(1995, 2, 7)
    assert record.registration_date == date(1998, 8, 4)
    assert record.owner_names == ("Oracle America, Inc.",)
    assert record.owners[0].role == "SUBSEQUENT OWNER AFTER REGISTRATION"
    assert record.owners[0].address.startswith("500 ORACLE PARKWAY, REDWOOD SHORES")
    assert record.classes == ("009",)
    assert len(record.events) == 33
    (assignment,) = record.assignments
    assert assignment.recorded_date == date(2010, 4, 23)
    assert assignment.kind == "change_of_name"
    assert assignment.reel_frame == "4191/0383"
    assert assignment.assignors[0].name == "SUN MICROSYSTEMS, INC."
    assert assignment.assignees[0].name == "ORACLE AMERICA, INC."
    # Renewed 2008-08-04 (10 years): the next sections 8 & 9 are due 2018-08-04, grace to 2019-02-04.
    assert record.next_due is not None
    assert record.next_due.kind == "section_8_9_renewal"
    assert (record.next_due.window_opens, record.next_due.due_date, record.next_due.grace_ends) == (
        date(2017, 8, 4),
        date(2018, 8, 4),
        date(2019, 2, 4),
    )
    assert record.deadlines[0].satisfied is True  # the section 8 of years 5-6


def test_tsdr_registration_in_its_renewal_grace_period_is_grace(registry_dir):
    body = (registry_dir / "tsdr" / "rn2178784-ST-962.2.1.xml").read_bytes()
    assert tsdr.parse_status_xml(body, as_of=date(2018, 10, 1)).status == "grace"
    overdue = tsdr.parse_status_xml(body, as_of=date(2020, 1, 1))
    assert overdue.status == "in_force"  # the register's word, with the overdue renewal noted
    assert overdue.next_due is not None
    assert overdue.next_due.overdue(as_of=date(2020, 1, 1))
    assert any("no filing" in note for note in overdue.notes)


def test_tsdr_json_status_of_an_abandoned_collective_mark(registry_dir):
    record = tsdr.parse_status_json(tsdr_json(registry_dir))

    assert record.application_number == "78787878"
    assert record.registration_number == ""
    assert (record.status, record.status_code) == ("abandoned", "602")
    assert record.subkind == "collective_membership_mark"
    assert record.title == "MAC MEMPHIS ATHLETIC CAMPUS"
    assert record.filing_date == date(2006, 1, 9)
    assert record.owner_names == ("MEMPHIS ATHLETIC CAMPUS FOUNDATION",)
    assert record.owners[0].role == "ORIGINAL APPLICANT"
    assert record.classes == ("200",)
    assert len(record.events) == 16
    assert "assignments" not in record.sections
    assert record.next_due is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("sn78787878", "sn78787878"), ("78787878", "sn78787878"), ("2,178,784", "rn2178784"), ("RN 2178784", "rn2178784")],
)
def test_tsdr_case_ids(raw, expected):
    assert tsdr.case_id(raw) == expected


@pytest.mark.parametrize("raw", ["sn123", "java", "123456789012"])
def test_tsdr_malformed_numbers_are_refused(raw):
    with pytest.raises(InvalidRegistryNumber):
        tsdr.case_id(raw)


# --- USPTO assignment search -----------------------------------------------------------------------


def test_assignment_search_single_conveyance(registry_dir):
    (record,), total = uspto_assignment.parse_lookup(
        (registry_dir / "uspto_assignment" / "assignment_1.xml").read_bytes()
    )

    assert total == 1
    assert (record.reel, record.frame) == ("18247", "405")
    assert record.conveyance_text == "NUNC PRO TUNC ASSIGNMENT (SEE DOCUMENT FOR DETAILS)."
    assert record.kind == "assignment"
    assert record.recorded_date == date(2006, 9, 14)
    assert [p.name for p in record.assignors] == ["REALTIME DATA COMPRESSION SYSTEMS, INC."]
    assert [p.name for p in record.assignees] == ["REALTIME DATA LLC"]
    assert record.assignees[0].address == "15 WEST 36TH STREET, NEW YORK, NEW YORK, 10018"
    assert record.application_numbers == ("10628795", "11400674", "09210491", "09705446", "09266394")
    assert record.patent_numbers == ("7130913", "7321937", "6195024", "6309424", "6601104")


def test_assignment_search_security_interests_and_their_releases(registry_dir):
    records, total = uspto_assignment.parse_lookup(
        (registry_dir / "uspto_assignment" / "assignment_3.xml").read_bytes()
    )

    assert total == 9
    assert len(records) == 9
    kinds = {r.reel_frame: r.kind for r in records}
    assert kinds["57434/429"] == "security_interest"
    assert kinds["49109/610"] == "release"
    assert kinds["32861/806"] == "assignment"
    first = records[0]
    assert first.assignees[0].name == "WILMINGTON SAVINGS FUND SOCIETY, FSB"
    assert first.recorded_date == date(2021, 6, 30)
    assert "NULL" not in first.patent_numbers
    # The two releases name the interests they end (048818/0520 and 048041/0605).
    assert [r.reel_frame for r in outstanding_encumbrances(records)] == [
        "57434/429",
        "49107/392",
        "49111/583",
        "49342/819",
    ]


def test_assignment_search_rejects_a_non_solr_document():
    with pytest.raises(RegistryMalformed):
        uspto_assignment.parse_lookup(b"<html><body>Service Unavailable</body></html>")
    with pytest.raises(RegistryMalformed):
        uspto_assignment.parse_lookup(b"<response><lst/></response>")


# --- EUIPO ------------------------------------------------------------------------------------------------


def test_euipo_trade_mark_list(registry_dir):
    page = euipo.parse_trademarks((registry_dir / "euipo" / "tm_list_size10.json").read_bytes())

    assert (page.total, page.size, len(page.records)) == (2354583, 10, 10)
    rizla = page.records[0]
    assert (rizla.application_number, rizla.title) == ("000274084", "RIZLA+ INTERNATIONAL")
    assert (rizla.status, rizla.status_code) == ("expired", "EXPIRED")
    assert rizla.owner_names == ("John Player & Sons Limited",)
    assert rizla.classes == ("25", "34")
    assert (rizla.filing_date, rizla.registration_date, rizla.expiry_date) == (
        date(1996, 6, 19),
        date(1999, 2, 10),
        date(2006, 6, 19),
    )
    araphat = page.records[2]
    assert (araphat.application_number, araphat.status, araphat.expiry_date) == ("000274977", "abandoned", None)
    assert {r.status for r in page.records} == {"expired", "abandoned"}


def test_euipo_registered_mark_in_its_grace_period(registry_dir):
    data = json.loads((registry_dir / "euipo" / "tm_list_size10.json").read_bytes())
    data["trademarks"][0]["status"] = "REGISTERED"
    assert euipo.parse_trademarks(json.dumps(data), as_of=date(2006, 8, 1)).records[0].status == "grace"
    assert euipo.parse_trademarks(json.dumps(data), as_of=date(2006, 1, 1)).records[0].status == "in_force"


def test_euipo_design_list(registry_dir):
    page = euipo.parse_designs((registry_dir / "euipo" / "design_list_size10.json").read_bytes())

    assert page.total == 1517413
    first = page.records[0]
    assert (first.registration_number, first.application_number) == ("004247823-0007", "004247823")
    assert (first.kind, first.status, first.expiry_date) == ("design", "expired", date(2022, 9, 8))
    assert first.classes == ("08.06",)
    assert first.classification_scheme == "Locarno"
    # Named by office id only: no name to match, and the record says so.
    assert first.owners[0].identifier == "854815"
    assert first.owner_names == ()
    assert any("office id" in note for note in first.notes)


def test_euipo_numbers():
    assert euipo.trademark_number_normalise("EU 274084") == "000274084"
    assert euipo.design_number_normalise("004247823-0007") == "004247823-0007"
    with pytest.raises(InvalidRegistryNumber):
        euipo.design_number_normalise("004247823")


# --- EPO OPS ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["example_1.xml", "example_2.xml"])
def test_epo_legal_status_lapsed_in_every_designated_state(registry_dir, name):
    record = epo_ops.parse_legal((registry_dir / "epo_legal" / name).read_bytes(), as_of=date(2015, 1, 1))

    assert record.application_number == "EP99203729"
    assert record.publication_number == "EP1000000A1"
    assert record.filing_date == date(1999, 11, 8)
    assert record.status_text == "NO OPPOSITION FILED WITHIN TIME LIMIT"
    assert record.expiry_date == date(2019, 11, 8)
    assert record.status == "lapsed"
    assert record.territories_in_force == ()
    assert set(record.territories_lapsed) >= {"GB", "DE", "FR", "NL", "BE", "IE"}
    assert record.owners == ()
    gb = [e for e in record.events if e.code == "GBPC"]
    assert gb[0].effect == "-"
    assert gb[0].date == date(2010, 11, 8)


def test_epo_legal_status_before_the_late_lapses_is_in_force_in_the_remaining_states(registry_dir):
    record = epo_ops.parse_legal((registry_dir / "epo_legal" / "example_1.xml").read_bytes(), as_of=date(2009, 1, 1))

    assert record.status == "in_force"
    assert set(record.territories_in_force) == {"BE", "GB", "NL"}


def test_epo_example_2_records_the_spc(registry_dir):
    record = epo_ops.parse_legal((registry_dir / "epo_legal" / "example_2.xml").read_bytes())
    assert len(record.events) == 51
    assert any("supplementary protection certificate" in note for note in record.notes)


def test_epo_fault_not_found():
    fault = (
        b'<fault xmlns="http://ops.epo.org"><code>SERVER.EntityNotFound</code>'
        b"<message>No results found</message></fault>"
    )
    with pytest.raises(RegistryNotFound):
        epo_ops.parse_legal(fault)


def test_epo_numbers():
    assert epo_ops.publication_number_normalise("EP 1 000 000 A1") == ("docdb", "EP.1000000.A1")
    assert epo_ops.publication_number_normalise("EP1000000") == ("epodoc", "EP1000000")
    with pytest.raises(InvalidRegistryNumber):
        epo_ops.publication_number_normalise("US1000000")


# --- shared helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS).", "assignment"),
        ("SECURITY INTEREST (SEE DOCUMENT FOR DETAILS).", "security_interest"),
        ("TERMINATION AND RELEASE OF PATENT SECURITY AGREEMENT RECORDED AT REEL 048818/FRAME 0520", "release"),
        ("EXCLUSIVE LICENSE", "exclusive_licence"),
        ("NON-EXCLUSIVE LICENSE", "licence"),
        ("CHANGE OF NAME", "change_of_name"),
        ("MERGER AND CHANGE OF NAME", "merger"),
    ],
)
def test_conveyance_kinds(text, kind):
    assert conveyance_kind(text) == kind


def test_dates_and_months():
    assert parse_date("1995-02-07-05:00") == date(1995, 2, 7)
    assert parse_date("20020423") == date(2002, 4, 23)
    assert parse_date("0001-01-01T00:00:00Z") is None
    assert parse_date("NULL") is None
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)


def test_next_deadline_prefers_the_open_one_and_never_hides_an_overdue_one():
    paid = Deadline(kind="a", due_date=date(2020, 1, 1), grace_ends=date(2020, 7, 1), satisfied=True)
    open_ = Deadline(kind="b", due_date=date(2024, 1, 1), grace_ends=date(2024, 7, 1))
    assert next_deadline((paid, open_), as_of=date(2023, 1, 1)) == open_
    assert next_deadline((paid, open_), as_of=date(2025, 1, 1)) == open_
    assert next_deadline((paid,), as_of=date(2025, 1, 1)) is None


def test_a_release_without_reel_and_frame_does_not_lift_anything():
    interest = AssignmentRecord(conveyance_text="SECURITY INTEREST", kind="security_interest", reel="1", frame="2")
    vague = AssignmentRecord(conveyance_text="RELEASE BY SECURED PARTY", kind="release", reel="3", frame="4")
    assert outstanding_encumbrances((interest, vague)) == (interest,)
