"""The registry clients against a loopback server that speaks the offices' real paths: only
the base URLs differ from production. Then every way an office can fail, each a typed error."""

from __future__ import annotations

import json
import socket
import threading
from email.utils import formatdate
from time import time

import pytest

from tests.verification.conftest import Reply
from verification.registries import epo_ops, euipo, tsdr, uspto_assignment, uspto_odp
from verification.registries.http import (
    OfficePolicy,
    RegistryHttp,
    RegistryMalformed,
    RegistryNotFound,
    RegistryRateLimited,
    RegistryUnavailable,
    parse_retry_after,
)

JSON = "application/json"
XML = "application/xml"
ODP_PATH = "/uspto-odp/api/v1/patent/applications/15123456"
TSDR_XML_PATH = "/tsdr/ts/cd/casestatus/rn2178784/info.xml"


def recording_http(office: str) -> tuple[RegistryHttp, list[float]]:
    """A client whose waits are recorded instead of spent."""
    waits: list[float] = []
    base = OfficePolicy(
        office=office,
        min_interval=0,
        backoff_base=0.25,
        backoff_max=1,
        connect_timeout=2,
        read_timeout=5,
        max_attempts=3,
    )
    return RegistryHttp(office=office, policy=base, sleep=waits.append), waits


# --- each office, unchanged but for the base URL ----------------------------------------------------------


def test_odp_client_reads_an_application_on_the_real_path(fast_registries, registry_dir):
    fast_registries.serve_file(ODP_PATH, registry_dir / "uspto_odp" / "application.json", JSON)

    record = uspto_odp.UsptoOdpClient().application("15/123,456")

    assert record.application_number == "15123456"
    assert record.status == "abandoned"
    assert record.source_url.startswith(f"{fast_registries.url}/uspto-odp/")
    (seen,) = fast_registries.requests_to(ODP_PATH)
    assert seen.headers["x-api-key"] == "sandbox"


def test_odp_paths_are_the_ones_the_swagger_describes(registry_dir):
    swagger = (registry_dir / "uspto_odp" / "swagger.yaml").read_text()
    for section in ("", "/assignment", "/continuity", "/adjustment", "/transactions"):
        assert f"  {uspto_odp.API_PREFIX}/{{applicationNumberText}}{section}:" in swagger
    assert f"  {uspto_odp.API_PREFIX}/search:" in swagger
    assert "name: X-API-KEY" in swagger


def test_odp_section_endpoints(fast_registries, registry_dir):
    folder = registry_dir / "uspto_odp"
    for section, name in (("assignment", "assignment"), ("continuity", "continuity"), ("adjustment", "adjustment")):
        fast_registries.serve_file(f"{ODP_PATH}/{section}", folder / f"{name}.json", JSON)
    client = uspto_odp.UsptoOdpClient()

    assert client.assignments("15123456")[0].reel_frame == "047305/0442"
    assert [p["number"] for p in client.continuity("15123456")[0]] == ["PCT/US15/27322", "61983088"]
    assert client.adjustment("15123456") == 0


def test_odp_allows_no_parallel_requests_from_this_process(fast_registries, registry_dir):
    body = (registry_dir / "uspto_odp" / "application.json").read_bytes()
    fast_registries.add(ODP_PATH, Reply(body=body, headers={"Content-Type": JSON}, delay=0.05))
    results: list[str] = []

    def read() -> None:
        results.append(uspto_odp.UsptoOdpClient().application("15123456").status)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["abandoned"] * 4
    assert fast_registries.max_in_flight == 1


def test_tsdr_client_reads_xml_and_json(fast_registries, registry_dir):
    fast_registries.serve_file(TSDR_XML_PATH, registry_dir / "tsdr" / "rn2178784-ST-962.2.1.xml", XML)
    from tests.verification.test_registry_parsers import tsdr_json

    fast_registries.add(
        "/tsdr/ts/cd/casestatus/sn78787878/info",
        Reply(body=tsdr_json(registry_dir).encode(), headers={"Content-Type": JSON}),
    )
    client = tsdr.TsdrClient()

    mark = client.status("Reg. No. 2,178,784")
    assert (mark.registration_number, mark.owner_names) == ("2178784", ("Oracle America, Inc.",))
    assert fast_registries.requests_to(TSDR_XML_PATH)[0].headers["uspto-api-key"] == "sandbox"
    assert client.status_json("78787878").status == "abandoned"


def test_assignment_client_searches_by_patent_number(fast_registries, registry_dir):
    fast_registries.serve_file(
        "/uspto-assignment/patent/lookup", registry_dir / "uspto_assignment" / "assignment_3.xml", XML
    )

    result = uspto_assignment.UsptoAssignmentClient().for_patent("US 8,789,601 B2")

    assert result.total == 9
    assert not result.truncated
    assert [r.reel_frame for r in result.encumbrances] == ["57434/429", "49107/392", "49111/583", "49342/819"]
    (seen,) = fast_registries.requests_to("/uspto-assignment/patent/lookup")
    assert seen.query["filter"] == ["PatentNumber"]
    assert seen.query["query"] == ["8789601"]


def test_euipo_client_takes_a_token_then_reads_the_mark(fast_registries, registry_dir):
    token = json.dumps({"access_token": "tok-1", "token_type": "bearer", "expires_in": 7200}).encode()
    fast_registries.add("/euipo/oidc/accessToken", Reply(body=token, headers={"Content-Type": JSON}), method="POST")
    fast_registries.serve_file(
        "/euipo/trademark-search/trademarks", registry_dir / "euipo" / "tm_list_size10.json", JSON
    )
    fast_registries.serve_file("/euipo/design-search/designs", registry_dir / "euipo" / "design_list_size10.json", JSON)
    client = euipo.EuipoClient()

    mark = client.trademark("274084")
    design = client.design("004247823-0008")

    assert (mark.application_number, mark.status) == ("000274084", "expired")
    assert design.registration_number == "004247823-0008"
    searches = fast_registries.requests_to("/euipo/trademark-search/trademarks")
    assert searches[0].headers["authorization"] == "Bearer tok-1"
    assert searches[0].query["query"] == ["applicationNumber==000274084"]
    assert len(fast_registries.requests_to("/euipo/oidc/accessToken")) == 1  # the token is reused


def test_euipo_number_absent_from_the_answer_is_not_found(fast_registries, registry_dir):
    token = json.dumps({"access_token": "tok-1", "expires_in": 7200}).encode()
    fast_registries.add("/euipo/oidc/accessToken", Reply(body=token, headers={"Content-Type": JSON}), method="POST")
    fast_registries.add(
        "/euipo/trademark-search/trademarks",
        Reply(body=b'{"trademarks": [], "totalElements": 0, "page": 0, "size": 10}', headers={"Content-Type": JSON}),
    )
    with pytest.raises(RegistryNotFound):
        euipo.EuipoClient().trademark("999999999")


def test_epo_client_authenticates_and_reads_legal_status(fast_registries, registry_dir):
    token = json.dumps({"access_token": "ops-1", "expires_in": "1199"}).encode()
    fast_registries.add(
        "/epo-ops/3.2/auth/accesstoken", Reply(body=token, headers={"Content-Type": JSON}), method="POST"
    )
    path = "/epo-ops/3.2/rest-services/legal/publication/docdb/EP.1000000.A1"
    fast_registries.serve_file(path, registry_dir / "epo_legal" / "example_1.xml", XML)

    record = epo_ops.EpoOpsClient().legal_status("EP 1000000 A1")

    assert (record.publication_number, record.status) == ("EP1000000A1", "lapsed")
    (auth,) = fast_registries.requests_to("/epo-ops/3.2/auth/accesstoken")
    assert auth.headers["authorization"].startswith("Basic ")
    assert b"grant_type=client_credentials" in auth.body
    assert fast_registries.requests_to(path)[0].headers["authorization"] == "Bearer ops-1"


# --- bad input: every failure is a typed error, never a record -----------------------------------------------


def test_unknown_number_is_not_found(fast_registries):
    with pytest.raises(RegistryNotFound):
        uspto_odp.UsptoOdpClient().application("99999999")


def test_a_500_then_success_is_retried(fast_registries, registry_dir):
    body = (registry_dir / "uspto_odp" / "application.json").read_bytes()
    fast_registries.add(
        ODP_PATH, Reply(status=500, body=b'{"code": 500}'), Reply(body=body, headers={"Content-Type": JSON})
    )
    http, waits = recording_http("uspto_odp")

    record = uspto_odp.UsptoOdpClient(http=http).application("15123456")

    assert record.application_number == "15123456"
    assert len(fast_registries.requests_to(ODP_PATH)) == 2
    assert len(waits) == 1  # one backoff between the two attempts


def test_500_forever_is_unavailable_after_the_attempts(fast_registries):
    fast_registries.add(ODP_PATH, Reply(status=503, body=b"busy"))
    http, waits = recording_http("uspto_odp")

    with pytest.raises(RegistryUnavailable) as caught:
        uspto_odp.UsptoOdpClient(http=http).application("15123456")

    assert caught.value.status == 503
    assert len(fast_registries.requests_to(ODP_PATH)) == 3
    assert len(waits) == 2


def test_429_retry_after_seconds_is_honoured(fast_registries, registry_dir):
    body = (registry_dir / "tsdr" / "rn2178784-ST-962.2.1.xml").read_bytes()
    fast_registries.add(
        TSDR_XML_PATH, Reply(status=429, headers={"Retry-After": "2"}), Reply(body=body, headers={"Content-Type": XML})
    )
    http, waits = recording_http("tsdr")

    record = tsdr.TsdrClient(http=http).status("rn2178784")

    assert record.registration_number == "2178784"
    assert waits == [2.0]


def test_429_retry_after_http_date_is_honoured():
    assert parse_retry_after(formatdate(time() + 30, usegmt=True)) == pytest.approx(30, abs=2)
    assert parse_retry_after("soon") is None


def test_429_asking_for_a_long_wait_is_reported_not_slept(fast_registries):
    fast_registries.add(TSDR_XML_PATH, Reply(status=429, headers={"Retry-After": "3600"}))
    http, waits = recording_http("tsdr")

    with pytest.raises(RegistryRateLimited) as caught:
        tsdr.TsdrClient(http=http).status("rn2178784")

    assert caught.value.retry_after == 3600
    assert waits == []


def test_429_forever_is_rate_limited(fast_registries):
    fast_registries.add(TSDR_XML_PATH, Reply(status=429, headers={"Retry-After": "1"}))
    http, waits = recording_http("tsdr")

    with pytest.raises(RegistryRateLimited):
        tsdr.TsdrClient(http=http).status("rn2178784")
    assert waits == [1.0, 1.0]


def test_malformed_xml_is_malformed(fast_registries):
    fast_registries.add(TSDR_XML_PATH, Reply(body=b"<TrademarkTransaction><Trademark>", headers={"Content-Type": XML}))
    with pytest.raises(RegistryMalformed):
        tsdr.TsdrClient().status("rn2178784")


def test_xml_entity_expansion_is_refused(fast_registries):
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    fast_registries.add(TSDR_XML_PATH, Reply(body=bomb, headers={"Content-Type": XML}))
    with pytest.raises(RegistryMalformed):
        tsdr.TsdrClient().status("rn2178784")


def test_an_html_error_page_with_status_200_is_malformed(fast_registries):
    page = b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Back soon</body></html>"
    fast_registries.add(ODP_PATH, Reply(body=page, headers={"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(RegistryMalformed):
        uspto_odp.UsptoOdpClient().application("15123456")


def test_html_served_as_xml_is_malformed(fast_registries):
    fast_registries.add(TSDR_XML_PATH, Reply(body=b"<html><body>Error</body></html>", headers={"Content-Type": XML}))
    with pytest.raises(RegistryMalformed):
        tsdr.TsdrClient().status("rn2178784")


def test_an_empty_body_is_malformed(fast_registries):
    fast_registries.add(ODP_PATH, Reply(body=b"", headers={"Content-Type": JSON}))
    with pytest.raises(RegistryMalformed):
        uspto_odp.UsptoOdpClient().application("15123456")


def test_json_that_is_not_json_is_malformed(fast_registries):
    fast_registries.add(ODP_PATH, Reply(body=b'{"count": 1, "patentBag": [', headers={"Content-Type": JSON}))
    with pytest.raises(RegistryMalformed):
        uspto_odp.UsptoOdpClient().application("15123456")


def test_a_refused_connection_is_unavailable(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.USPTO_ODP_BASE_URL = f"http://127.0.0.1:{port}/uspto-odp"
    http, waits = recording_http("uspto_odp")

    with pytest.raises(RegistryUnavailable):
        uspto_odp.UsptoOdpClient(http=http).application("15123456")
    assert len(waits) == 2


def test_refused_credentials_are_unavailable_not_retried(fast_registries):
    fast_registries.add(ODP_PATH, Reply(status=403, body=b'{"code": 403, "error": "Forbidden"}'))
    with pytest.raises(RegistryUnavailable):
        uspto_odp.UsptoOdpClient().application("15123456")
    assert len(fast_registries.requests_to(ODP_PATH)) == 1


def test_a_malformed_number_never_reaches_the_office(fast_registries):
    with pytest.raises(RegistryNotFound):
        uspto_odp.UsptoOdpClient().application("not-a-number")
    assert fast_registries.seen == []


def test_odp_exclusivity_holds_with_the_cross_process_redis_lock(fast_registries, registry_dir, settings):
    settings.REGISTRY_REDIS_LOCKS = True
    body = (registry_dir / "uspto_odp" / "application.json").read_bytes()
    fast_registries.add(ODP_PATH, Reply(body=body, headers={"Content-Type": JSON}, delay=0.02))
    errors: list[Exception] = []

    def read() -> None:
        try:
            uspto_odp.UsptoOdpClient().application("15123456")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert fast_registries.max_in_flight == 1
    assert len(fast_registries.requests_to(ODP_PATH)) == 3
