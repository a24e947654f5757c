"""The real registry clients, unchanged but for their base URLs, read the sandbox's rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import requests
from django.conf import settings

from sandbox_registry.models import Kind, RecordedAssignment, RegisterEntry
from sandbox_registry.seeding import shared_data_read
from sandbox_registry.services import PartyIn, SandboxError, assignment_record, entry_status_set, register_seed
from verification.registries import epo_ops, euipo, tsdr, uspto_assignment, uspto_odp
from verification.registries.http import RegistryNotFound, RegistryUnavailable

AS_OF = date(2025, 1, 1)
REGISTRY = Path(settings.SHARED_DATA_DIR) / "registry"
needs_shared_data = pytest.mark.skipif(not REGISTRY.is_dir(), reason="SHARED_DATA_DIR has no registry folder")


@pytest.fixture
def seeded(sandbox: str) -> str:
    if not REGISTRY.is_dir():
        pytest.skip("SHARED_DATA_DIR has no registry folder")
    register_seed(seeds=shared_data_read(Path(settings.SHARED_DATA_DIR), today=AS_OF))
    return sandbox


def test_odp_application_continuity_and_assignment_from_the_rows(seeded_sample):
    client = uspto_odp.UsptoOdpClient()

    record = client.application("15/123,456", as_of=AS_OF)

    assert record.application_number == "15123456"
    assert record.title == "TONGUE RETRACTORS FOR FRENOTOMIES"
    assert (record.status, record.status_code) == ("abandoned", "161")
    assert record.filing_date == date(2016, 9, 2)
    assert record.owner_names == ("THE GENERAL HOSPITAL CORPORATION",)
    assert record.assignments[0].reel_frame == "047305/0442"
    assert record.assignments[0].kind == "assignment"
    parents, children = client.continuity("15123456")
    assert [(p["number"], p["parentage"]) for p in parents] == [("PCT/US15/27322", "NST")]
    assert children == []
    assert [a.reel_frame for a in client.assignments("15123456")] == ["047305/0442"]
    assert client.adjustment("15123456") is None


def test_odp_finds_a_patent_by_its_number_and_reads_the_stated_owner(seeded_sample):
    record = uspto_odp.UsptoOdpClient().patent("US 7,767,270 B2", as_of=AS_OF)

    assert (record.application_number, record.patent_number) == ("11387503", "7767270")
    assert (record.status, record.status_text) == ("in_force", "Patented Case")
    assert record.owner_names == ("National Aeronautics and Space Administration",)


def test_a_patent_past_its_stated_expiry_reads_expired(seeded_sample):
    record = uspto_odp.UsptoOdpClient().patent("6858197", as_of=AS_OF)

    assert record.status == "expired"


def test_a_status_changed_as_the_admin_does_is_what_the_client_reads_next(seeded_sample):
    client = uspto_odp.UsptoOdpClient()
    assert client.patent("7767270", as_of=AS_OF).status == "in_force"

    entry_status_set(entry=RegisterEntry.objects.get(patent_number="7767270"), outcome="lapsed", on=date(2024, 6, 1))

    record = client.patent("7767270", as_of=AS_OF)
    assert (record.status, record.status_code, record.status_date) == ("lapsed", "250", date(2024, 6, 1))


def test_an_unknown_status_outcome_is_refused_and_changes_nothing(seeded_sample):
    entry = RegisterEntry.objects.get(patent_number="7767270")

    with pytest.raises(SandboxError):
        entry_status_set(entry=entry, outcome="revoked-ish")

    entry.refresh_from_db()
    assert (entry.status_code, entry.status_text) == ("150", "Patented Case")


def test_unknown_numbers_are_registry_not_found_for_every_client(seeded_sample):
    with pytest.raises(RegistryNotFound):
        uspto_odp.UsptoOdpClient().application("16999999")
    with pytest.raises(RegistryNotFound):
        uspto_odp.UsptoOdpClient().patent("9999999")
    with pytest.raises(RegistryNotFound):
        tsdr.TsdrClient().status("sn99999999")
    with pytest.raises(RegistryNotFound):
        tsdr.TsdrClient().status_json("rn1234567")
    with pytest.raises(RegistryNotFound):
        euipo.EuipoClient().trademark("000000001")
    with pytest.raises(RegistryNotFound):
        epo_ops.EpoOpsClient().legal_status("EP 1234567 A1")
    assert uspto_assignment.UsptoAssignmentClient().for_patent("9999999").total == 0


def test_tsdr_xml_and_json_read_the_same_mark(seeded_sample):
    client = tsdr.TsdrClient()

    xml = client.status("Reg. No. 2,178,784", as_of=AS_OF)
    json_ = client.status_json("74631225", as_of=AS_OF)

    for record in (xml, json_):
        assert (record.application_number, record.registration_number) == ("74631225", "2178784")
        assert record.title == "JAVA"
        assert record.status == "in_force"
        assert record.status_code == "800"
        assert record.owner_names == ("Oracle America, Inc.",)
        assert record.classes == ("009",)
        assert record.registration_date == date(1998, 8, 4)
    assert xml.next_due is not None
    assert xml.next_due.kind == "section_8_9_renewal"


def test_a_recorded_trademark_assignment_names_the_new_owner(seeded_sample):
    mark = RegisterEntry.objects.get(kind=Kind.US_TRADEMARK, registration_number="2178784")

    recorded = assignment_record(
        entries=[mark],
        conveyance_text="ASSIGNMENT OF THE ENTIRE INTEREST AND THE GOODWILL",
        assignors=[PartyIn(name="Oracle America, Inc.", execution_date=date(2024, 12, 1))],
        assignees=[PartyIn(name="Buyer Holdings LLC", city="Wilmington", region="DELAWARE")],
        recorded_date=date(2024, 12, 10),
    )

    record = tsdr.TsdrClient().status("rn2178784", as_of=AS_OF)
    assert record.owner_names == ("Buyer Holdings LLC",)
    assert record.assignments[-1].reel == str(recorded.reel)
    assert record.assignments[-1].assignees[0].name == "Buyer Holdings LLC"
    assert tsdr.TsdrClient().status_json("rn2178784", as_of=AS_OF).owner_names == ("Buyer Holdings LLC",)


def test_a_recorded_security_interest_shows_in_both_patent_registers_without_moving_ownership(seeded_sample):
    patent = RegisterEntry.objects.get(patent_number="7767270")

    recorded = assignment_record(
        entries=[patent],
        conveyance_text="SECURITY INTEREST (SEE DOCUMENT FOR DETAILS).",
        assignors=[PartyIn(name="National Aeronautics and Space Administration", execution_date=date(2024, 5, 2))],
        assignees=[PartyIn(name="Lender Bank, N.A.")],
        recorded_date=date(2024, 5, 3),
    )

    result = uspto_assignment.UsptoAssignmentClient().for_patent("7,767,270")
    assert result.total == 1
    (found,) = result.assignments
    assert (found.reel, found.frame, found.kind) == (str(recorded.reel), "1", "security_interest")
    assert found.assignees[0].name == "Lender Bank, N.A."
    assert found.execution_date == date(2024, 5, 2)
    assert found.patent_numbers == ("7767270",)
    record = uspto_odp.UsptoOdpClient().patent("7767270", as_of=AS_OF)
    assert [a.kind for a in record.encumbrances] == ["security_interest"]
    assert record.owner_names == ("National Aeronautics and Space Administration",)


def test_an_assignment_across_registers_is_refused_and_records_nothing(seeded_sample):
    rights = RegisterEntry.objects.filter(patent_number="7767270") | RegisterEntry.objects.filter(
        registration_number="2178784"
    )
    before = RecordedAssignment.objects.count()

    with pytest.raises(SandboxError):
        assignment_record(
            entries=list(rights),
            conveyance_text="ASSIGNMENT OF ASSIGNORS INTEREST",
            assignors=[PartyIn(name="A")],
            assignees=[PartyIn(name="B")],
        )

    assert RecordedAssignment.objects.count() == before


def test_euipo_and_epo_read_through_their_tokens(seeded):
    mark = euipo.EuipoClient().trademark("EU 274084", as_of=AS_OF)
    assert (mark.status, mark.title, mark.owner_names) == (
        "expired",
        "RIZLA+ INTERNATIONAL",
        ("John Player & Sons Limited",),
    )
    assert mark.classes == ("25", "34")
    design = euipo.EuipoClient().design("004247823-0007", as_of=AS_OF)
    assert (design.registration_number, design.status, design.classes) == ("004247823-0007", "expired", ("08.06",))

    record = epo_ops.EpoOpsClient().legal_status("EP 1000000 A1", as_of=date(2015, 1, 1))
    expected = epo_ops.parse_legal((REGISTRY / "epo_legal" / "example_2.xml").read_bytes(), as_of=date(2015, 1, 1))
    assert (record.application_number, record.publication_number) == ("EP99203729", "EP1000000A1")
    assert (record.status, record.status_text) == (expected.status, expected.status_text)
    assert record.territories_lapsed == expected.territories_lapsed
    assert record.filing_date == expected.filing_date


def test_an_ep_status_changed_in_the_sandbox_reads_as_a_new_staa_event(seeded):
    entry = RegisterEntry.objects.get(kind=Kind.EP_PATENT, publication_number="EP1000000A1")

    entry_status_set(entry=entry, outcome="cancelled", on=date(2024, 1, 5))

    record = epo_ops.EpoOpsClient().legal_status("EP1000000")
    assert (record.status, record.status_text) == ("cancelled", "THE PATENT HAS BEEN REVOKED")


def test_seeded_registry_files_read_back_as_the_files_do(seeded):
    odp = uspto_odp.UsptoOdpClient().application("15123456", as_of=AS_OF)
    original = uspto_odp.parse_application((REGISTRY / "uspto_odp" / "application.json").read_bytes(), as_of=AS_OF)
    for name in ("status", "status_code", "status_text", "title", "filing_date", "owner_names", "classes"):
        assert getattr(odp, name) == getattr(original, name), name
    assert sorted((e.date, e.code) for e in odp.events) == sorted((e.date, e.code) for e in original.events)

    sn = tsdr.TsdrClient().status_json("78787878", as_of=AS_OF)
    assert (sn.status, sn.status_code, sn.subkind, sn.title) == (
        "abandoned",
        "602",
        "collective_membership_mark",
        "MAC MEMPHIS ATHLETIC CAMPUS",
    )
    assert sn.owner_names == ("MEMPHIS ATHLETIC CAMPUS FOUNDATION",)

    result = uspto_assignment.UsptoAssignmentClient().for_patent("8789601")
    expected, total = uspto_assignment.parse_lookup((REGISTRY / "uspto_assignment" / "assignment_3.xml").read_bytes())
    assert result.total == total
    assert {a.reel_frame for a in result.assignments} == {a.reel_frame for a in expected}
    assert {a.kind for a in result.assignments} == {a.kind for a in expected}


def test_credentials_are_required_as_the_offices_require_them(seeded_sample):
    base = seeded_sample
    odp = requests.get(f"{base}/uspto-odp/api/v1/patent/applications/15123456", timeout=5)
    tsdr_answer = requests.get(f"{base}/tsdr/ts/cd/casestatus/rn2178784/info.xml", timeout=5)
    euipo_answer = requests.get(
        f"{base}/euipo/trademark-search/trademarks?query=applicationNumber==000274084", timeout=5
    )
    epo_answer = requests.get(f"{base}/epo-ops/3.2/rest-services/legal/publication/epodoc/EP1000000", timeout=5)

    assert (odp.status_code, odp.json()["error"]) == (403, "Forbidden")
    assert tsdr_answer.status_code == 401
    assert euipo_answer.status_code == 401
    assert epo_answer.status_code == 401
    with pytest.raises(RegistryUnavailable):
        uspto_odp.UsptoOdpClient(api_key="").application("15123456")


def test_the_sandbox_does_not_serve_the_marketplace(seeded_sample):
    assert requests.get(f"{seeded_sample}/admin/", timeout=5).status_code == 404
