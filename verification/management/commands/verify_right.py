"""manage.py verify_right OFFICE NUMBER [--seller-name NAME] [--disclosed TEXT] [--as-of DATE] [--json]

Reads one right from its register and runs the verification checklist, printing the facts read
and the verdict. Nothing is stored: this is for staff investigating a right.

OFFICE is one of: us-patent (USPTO ODP; an application number such as 16/123,456 or a patent
number such as US 7,767,270 B2 or D654,321), us-trademark (USPTO TSDR; an 8-digit serial or a
registration number), eu-trademark (EUIPO), eu-design (EUIPO, 000000000-0000), ep-patent (EPO OPS
legal status; a publication number such as EP1000000), cn (CNIPA: no API, always needs review).

The JSON form (--json) is stable; its top-level keys are:
  schema       "verify_right/1"
  office       the OFFICE argument;  number: the NUMBER argument as given
  target       {jurisdiction, kind, sub_kind, application_number, registration_number,
               publication_number}: the number as understood
  verdict      "passed" | "warning" | "failed" | "needs_review"
  error        null, or why the register gave no usable answer (the verdict is then never "passed")
  register     the register read ("" when none can be)
  facts        null, or the register's facts: office, source, kind, subkind, application_number,
               patent_number, registration_number, publication_number, title, status,
               status_code, status_text, status_date, owners [{name, address, country, role}],
               filing_date, grant_date, registration_date, expiry_date, next_due
               {kind, due_date, window_opens, grace_ends, derived, satisfied}, deadlines [same],
               assignments [{kind, conveyance_text, reel_frame, assignors, assignees,
               recorded_date, execution_date, outstanding_encumbrance}], sections, derived,
               notes, source_url, raw_sha256, read_at (dates ISO 8601)
  checks       [{name, title, outcome ("pass"|"warn"|"review"|"fail"), evidence, score}]
  responses    [{office, url, status, content_type, sha256, bytes, read_at}]: every raw answer read
The exit status is 0 whatever the verdict; 1 (with a message) when the arguments are unusable.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from listings.office_numbers import NumberKind, OfficeNumberError, normalise
from verification.checks import EXISTS, REGISTRY, CheckResult, Claim, checks_run, verdict_of
from verification.registries.http import RegistryError, RegistryNotFound, RegistryResponse
from verification.services.reading import Reading, Target, facts_as_dict, register_read

# OFFICE -> (jurisdiction, kind, sub_kind, the number kinds accepted, in the order tried)
OFFICES: dict[str, tuple[str, str, str, tuple[NumberKind, ...]]] = {
    "us-patent": (
        "US",
        "patent",
        "invention",
        (
            NumberKind.US_APPLICATION,
            NumberKind.US_PATENT,
            NumberKind.US_DESIGN_PATENT,
            NumberKind.US_PLANT_PATENT,
            NumberKind.US_REISSUE_PATENT,
        ),
    ),
    "us-trademark": (
        "US",
        "trademark",
        "trademark",
        (NumberKind.US_TRADEMARK_SERIAL, NumberKind.US_TRADEMARK_REGISTRATION),
    ),
    "eu-trademark": ("EU", "trademark", "trademark", (NumberKind.EU_TRADE_MARK,)),
    "eu-design": ("EU", "patent", "design", (NumberKind.EU_DESIGN,)),
    "ep-patent": ("EP", "patent", "invention", (NumberKind.EP_PUBLICATION,)),
    "cn": ("CN", "patent", "invention", (NumberKind.CN_APPLICATION, NumberKind.CN_PUBLICATION)),
}
_APPLICATION = {
    NumberKind.US_APPLICATION,
    NumberKind.US_TRADEMARK_SERIAL,
    NumberKind.EU_TRADE_MARK,
    NumberKind.EU_DESIGN,
    NumberKind.CN_APPLICATION,
}
_PUBLICATION = {NumberKind.EP_PUBLICATION, NumberKind.CN_PUBLICATION}
_SUB_KIND_OF = {
    NumberKind.US_DESIGN_PATENT: "design",
    NumberKind.US_PLANT_PATENT: "plant",
}


def target_parse(office: str, number: str) -> Target:
    """The right OFFICE and NUMBER name, or CommandError saying why the number is unusable."""
    if office not in OFFICES:
        raise CommandError(f"Unknown office {office!r}; choose one of {', '.join(OFFICES)}.")
    jurisdiction, kind, sub_kind, kinds = OFFICES[office]
    problems = []
    for number_kind in kinds:
        right_type = _SUB_KIND_OF.get(number_kind, sub_kind) if kind == "patent" else None
        try:
            canonical = normalise(number, kind=number_kind, right_type=right_type).canonical
        except OfficeNumberError as error:
            problems.append(f"{number_kind.label}: {error}")
            continue
        field = (
            "application_number"
            if number_kind in _APPLICATION
            else "publication_number"
            if number_kind in _PUBLICATION
            else "registration_number"
        )
        return Target(
            jurisdiction=jurisdiction,
            kind=kind,
            sub_kind=_SUB_KIND_OF.get(number_kind, sub_kind),
            **{field: canonical},
        )
    raise CommandError(f"{number!r} is not a number {office} knows. " + " ".join(problems))


def verify(
    *, target: Target, seller_name: str, disclosed: str, as_of: date
) -> tuple[Reading, list[CheckResult], str | None]:
    responses: list[RegistryResponse] = []
    reading = Reading(responses=responses)
    try:
        reading = register_read(target=target, as_of=as_of, responses=responses)
    except RegistryNotFound as error:
        return (
            reading,
            [CheckResult(EXISTS, "fail", f"The register has no right under this number: {error}")],
            str(error),
        )
    except RegistryError as failure:
        message = f"{failure.__class__.__name__}: {failure}"
        return (
            reading,
            [CheckResult(REGISTRY, "review", f"The register could not give a usable answer: {message}")],
            message,
        )
    if reading.unsupported or reading.record is None:
        return reading, [CheckResult(REGISTRY, "review", reading.unsupported or "Nothing was read.")], None
    claim = Claim(
        jurisdiction=target.jurisdiction,
        kind=target.kind,
        sub_kind=target.sub_kind,
        application_number=target.application_number,
        registration_number=target.registration_number,
        publication_number=target.publication_number,
        seller_name=seller_name,
        disclosure_text=disclosed,
        as_of=as_of,
    )
    return reading, checks_run(claim=claim, record=reading.record), None


class Command(BaseCommand):
    help = "Verify one right against its register and print the facts read and the verdict (nothing is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("office", help=f"One of: {', '.join(OFFICES)}.")
        parser.add_argument("number", help="The office number as the office writes it.")
        parser.add_argument("--seller-name", default="", help="The legal name to match against the owner of record.")
        parser.add_argument(
            "--disclosed", default="", help="Text that discloses encumbrances (as a listing's description would)."
        )
        parser.add_argument("--as-of", default="", help="Judge deadlines and term as of this date (YYYY-MM-DD).")
        parser.add_argument("--json", action="store_true", help="Print the stable JSON form (see the module help).")

    def handle(self, *args: Any, **options: Any) -> None:
        target = target_parse(options["office"], options["number"])
        as_of = timezone.localdate()
        if options["as_of"]:
            try:
                as_of = date.fromisoformat(options["as_of"])
            except ValueError as error:
                raise CommandError(f"--as-of wants YYYY-MM-DD: {error}") from error
        reading, results, failure = verify(
            target=target, seller_name=options["seller_name"], disclosed=options["disclosed"], as_of=as_of
        )
        verdict = verdict_of(results)
        report: dict[str, Any] = {
            "schema": "verify_right/1",
            "office": options["office"],
            "number": options["number"],
            "target": target.as_dict(),
            "verdict": verdict,
            "error": failure,
            "register": reading.register,
            "facts": facts_as_dict(reading.record) if reading.record is not None else None,
            "checks": [
                {"name": r.name, "title": r.title, "outcome": r.outcome, "evidence": r.evidence, "score": r.score}
                for r in results
            ],
            "responses": [
                {
                    "office": r.office,
                    "url": r.url,
                    "status": r.status,
                    "content_type": r.content_type,
                    "sha256": r.sha256,
                    "bytes": len(r.body),
                    "read_at": r.read_at.isoformat(),
                }
                for r in reading.responses
            ],
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
            return
        self._print_text(report)

    def _print_text(self, report: dict[str, Any]) -> None:
        out = self.stdout.write
        target = report["target"]
        number = target["application_number"] or target["registration_number"] or target["publication_number"]
        out(f"{report['office']} {number} - {report['register'] or 'no register'}")
        facts = report["facts"]
        if facts:
            code = f", code {facts['status_code']}" if facts["status_code"] else ""
            granted = facts["grant_date"] or facts["registration_date"] or "-"
            due = facts["next_due"]
            due_text = f"{due['kind']} {due['due_date']} (grace to {due['grace_ends']})" if due else "-"
            out(f"  Title:    {facts['title'] or '-'}")
            out(f"  Status:   {facts['status']} ({facts['status_text'] or '-'}{code})")
            out(f"  Owners:   {'; '.join(o['name'] for o in facts['owners']) or '-'}")
            out(f"  Filed:    {facts['filing_date'] or '-'}   Granted: {granted}")
            out(f"  Expires:  {facts['expiry_date'] or '-'}")
            out(f"  Next due: {due_text}")
            out(f"  Conveyances on record: {len(facts['assignments'])}")
            for note in facts["notes"]:
                out(f"  Note:     {note}")
        for response in report["responses"]:
            digest = response["sha256"][:16]
            out(f"  Read {response['url']} ({response['status']}, sha256 {digest}..., {response['read_at']})")
        if report["error"]:
            out(f"  Error:    {report['error']}")
        out("Checks:")
        for check in report["checks"]:
            out(f"  [{check['outcome'].upper():6}] {check['title']}: {check['evidence']}")
        style = {"passed": self.style.SUCCESS, "warning": self.style.WARNING}.get(report["verdict"], self.style.ERROR)
        out(style(f"Verdict: {report['verdict']}"))
