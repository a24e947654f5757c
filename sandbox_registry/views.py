"""The sandbox registry's endpoints: the offices' real paths, answering in their real formats.

Plain function views: each checks the office's credentials, reads through `selectors`, and
renders through `formats`. Unknown numbers answer as the office does (404 for ODP, TSDR and
OPS; an empty list for the EUIPO searches and numFound=0 for the assignment search), and never
with made-up data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox_registry import auth, selectors
from sandbox_registry.formats import assignment as assignment_format
from sandbox_registry.formats import epo as epo_format
from sandbox_registry.formats import euipo as euipo_format
from sandbox_registry.formats import odp as odp_format
from sandbox_registry.formats import tsdr as tsdr_format
from sandbox_registry.models import Kind

XML = "application/xml"
US_APPLICATION = re.compile(r"^(\d{8}|PCT/[A-Z]{2}\d{2,4}/\d{5,6})$")
ODP_FIELD_TERM = re.compile(r"^(?:applicationMetaData\.)?(\w+):(\S+)$")
MAX_PAGE_SIZE = 100


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"indent": 2})


def _int(value: str | None, default: int, *, low: int = 0, high: int = 10_000) -> int | None:
    if value is None or value == "":
        return default
    if not value.isdigit():
        return None
    return max(low, min(high, int(value)))


# --- USPTO Open Data Portal -------------------------------------------------------------------------


def _odp_refused(request: HttpRequest) -> JsonResponse | None:
    if not auth.api_key_valid(request.headers.get("X-API-KEY")):
        return _json(odp_format.error(403, "Forbidden"), status=403)
    return None


@require_GET
def odp_application(request: HttpRequest, number: str, section: str = "") -> JsonResponse:
    refused = _odp_refused(request)
    if refused:
        return refused
    if not US_APPLICATION.match(number):
        return _json(
            odp_format.error(
                400, "Bad Request", "Invalid request, review patent data request filter section and try again"
            ),
            status=400,
        )
    entry = selectors.us_patent_get(application_number=number)
    if entry is None:
        return _json(odp_format.error(404, "Not Found", odp_format.NOT_FOUND_DETAILS), status=404)
    if section == "assignment":
        item: dict[str, Any] = {"assignmentBag": odp_format.assignments(entry)}
    elif section == "continuity":
        item = {"continuityBag": odp_format.continuity_bag(entry)}
    elif section == "adjustment":
        item = {"patentTermAdjustmentData": odp_format.adjustment_data(entry)}
    elif section == "transactions":
        item = {"transactionContentBag": odp_format.transactions(entry)}
    else:
        item = odp_format.application_item(entry)
    return _json(odp_format.envelope([item]))


@require_GET
def odp_search(request: HttpRequest) -> JsonResponse:
    """GET /search?q=field:value [AND field:value] with offset and limit. Free text searches titles."""
    refused = _odp_refused(request)
    if refused:
        return refused
    offset = _int(request.GET.get("offset"), 0)
    limit = _int(request.GET.get("limit"), 25, low=1, high=MAX_PAGE_SIZE)
    query = " ".join(request.GET.get("q", "").split())
    if offset is None or limit is None or not query:
        return _json(
            odp_format.error(400, "Bad Request", "Invalid request, review patent data request filter section"),
            status=400,
        )
    entries = None
    for term in re.split(r"\s+AND\s+", query):
        match = ODP_FIELD_TERM.match(term)
        field, value = (match.group(1), match.group(2)) if match else ("inventionTitle", term.strip('"'))
        found = selectors.us_patents_search(field=field, value=value)
        entries = found if entries is None else entries & found
    assert entries is not None
    total = entries.count()
    page = list(entries.order_by("application_number")[offset : offset + limit])
    if not page:
        return _json(odp_format.error(404, "Not Found", odp_format.NOT_FOUND_DETAILS), status=404)
    return _json(odp_format.envelope([odp_format.application_item(e) for e in page], count=total))


# --- USPTO TSDR -------------------------------------------------------------------------------------------


@require_GET
def tsdr_status(request: HttpRequest, prefix: str, digits: str, fmt: str = "") -> HttpResponse:
    as_xml = fmt == ".xml"
    if not auth.api_key_valid(request.headers.get("USPTO-API-KEY")):
        return _json({"error": "Unauthorized", "message": "a valid USPTO-API-KEY header is required"}, status=401)
    entry = (
        selectors.us_trademark_get(serial=digits)
        if prefix == "sn"
        else selectors.us_trademark_get(registration=digits.lstrip("0"))
    )
    if entry is None:
        return _json({"error": "Not Found", "message": f"no case found for {prefix}{digits}"}, status=404)
    if as_xml:
        return HttpResponse(tsdr_format.status_xml(entry), content_type=XML)
    return _json(tsdr_format.status_json(entry))


# --- USPTO assignment search --------------------------------------------------------------------------------


@require_GET
def assignment_lookup(request: HttpRequest) -> HttpResponse:
    filter_name = request.GET.get("filter", "")
    query = re.sub(r"[\s,]", "", request.GET.get("query", ""))
    start = _int(request.GET.get("start"), 0)
    rows = _int(request.GET.get("rows"), 25, low=1, high=MAX_PAGE_SIZE)
    found = selectors.patent_assignments_lookup(filter_name=filter_name, query=query) if query else None
    if found is None or start is None or rows is None:
        return HttpResponse(
            b"<response><lst name='error'><str name='msg'>invalid filter or query</str></lst></response>",
            status=400,
            content_type=XML,
        )
    total = found.count()
    body = assignment_format.lookup_xml(
        list(found[start : start + rows]), total=total, start=start, rows=rows, filter_query=f"{filter_name}:{query}"
    )
    return HttpResponse(body, content_type=XML)


# --- EUIPO ----------------------------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def euipo_token(request: HttpRequest) -> JsonResponse:
    client_id = request.POST.get("client_id", "")
    if request.POST.get("grant_type") != "client_credentials":
        return _json({"error": "unsupported_grant_type"}, status=400)
    if not auth.client_valid(client_id, request.POST.get("client_secret", "")):
        return _json({"error": "invalid_client", "error_description": "client authentication failed"}, status=401)
    return _json(
        {
            "access_token": auth.token_issue(office="euipo", client_id=client_id),
            "token_type": "Bearer",
            "expires_in": auth.TOKEN_LIFETIME_SECONDS,
            "scope": request.POST.get("scope", "uid"),
        }
    )


def _rsql(query: str) -> dict[str, str] | None:
    """`applicationNumber==000274084 and status==REGISTERED` (also `;`) -> criteria; None if unsupported."""
    criteria = {}
    for term in re.split(r"\s+and\s+|;", query.strip(), flags=re.IGNORECASE):
        field, operator, value = term.strip().partition("==")
        if not operator or field not in selectors.EU_SEARCH_FIELDS or not value:
            return None
        criteria[field] = value.strip().strip('"')
    return criteria


def _euipo_search(request: HttpRequest, *, kind: str) -> JsonResponse:
    client = auth.token_client(request, office="euipo")
    if client is None or request.headers.get("X-IBM-Client-Id") != client:
        return _json({"httpCode": "401", "httpMessage": "Unauthorized", "moreInformation": "invalid token"}, status=401)
    criteria = _rsql(request.GET.get("query", ""))
    page = _int(request.GET.get("page"), 0)
    size = _int(request.GET.get("size"), 10, low=1, high=MAX_PAGE_SIZE)
    if criteria is None or page is None or size is None:
        return _json({"type": "about:blank", "title": "Bad Request", "status": 400}, status=400)
    entries = selectors.eu_rights_search(kind=kind, criteria=criteria)
    total = entries.count()
    rows = list(entries[page * size : (page + 1) * size])
    return _json(euipo_format.search_page(rows, kind=kind, total=total, page=page, size=size))


@require_GET
def euipo_trademarks(request: HttpRequest) -> JsonResponse:
    return _euipo_search(request, kind=Kind.EU_TRADE_MARK)


@require_GET
def euipo_designs(request: HttpRequest) -> JsonResponse:
    return _euipo_search(request, kind=Kind.EU_DESIGN)


# --- EPO OPS ----------------------------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def epo_token(request: HttpRequest) -> HttpResponse:
    key, secret = auth.basic_credentials(request)
    if request.POST.get("grant_type") != "client_credentials" or not auth.client_valid(key, secret):
        return _json({"error": "invalid_client", "error_description": "Client credentials are invalid"}, status=401)
    body = {
        "token_type": "BearerToken",
        "client_id": key,
        "access_token": auth.token_issue(office="epo", client_id=key),
        "scope": "core",
        "expires_in": str(auth.TOKEN_LIFETIME_SECONDS),
        "status": "approved",
    }
    return HttpResponse(json.dumps(body), content_type="application/json")


@require_GET
def epo_legal(request: HttpRequest, scheme: str, number: str) -> HttpResponse:
    if auth.token_client(request, office="epo") is None:
        fault = epo_format.fault_xml("CLIENT.InvalidAccessToken", "Invalid or expired accessToken")
        return HttpResponse(fault, status=401, content_type=XML)
    entry = selectors.ep_patent_get(scheme=scheme, number=number.upper())
    if entry is None:
        return HttpResponse(
            epo_format.fault_xml("SERVER.EntityNotFound", "No results found"), status=404, content_type=XML
        )
    return HttpResponse(epo_format.legal_xml(entry), content_type=XML)
