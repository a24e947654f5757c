"""The checklist a verification run applies to what a register said about one right.

Pure functions: a `RegistryRecord` and the seller's `Claim` in, one `CheckResult` per check out,
each with the evidence a reviewer reads. Nothing here talks to a register or the database, so
the command line (`verify_right`), the worker and the tests run exactly the same checks.

Outcomes: `pass`; `warn` (allowed, but staff see it: a fee in its grace period); `review` (a
person must decide: a near-miss owner name, a fact the register did not state); `fail`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from django.conf import settings

from verification.names import owner_match, text_mentions_name
from verification.registries.records import AssignmentRecord, RegistryRecord, add_months

Outcome = Literal["pass", "warn", "fail", "review"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "warn", "review", "fail")

EXISTS = "exists"
STATUS = "status"
OWNER = "owner"
TERM = "term"
FEES = "fees"
ENCUMBRANCES = "encumbrances"
PENDING_TRANSFER = "pending_transfer"
REGISTRY = "registry"  # not a check of the right: the register could not be read
CHECK_TITLES = {
    REGISTRY: "Register answered",
    EXISTS: "Right exists; kind and number match",
    STATUS: "In force",
    OWNER: "Owner of record is the seller",
    TERM: "Remaining term",
    FEES: "Fees and renewals not overdue",
    ENCUMBRANCES: "No undisclosed security interest or exclusive licence",
    PENDING_TRANSFER: "No transfer already pending",
}

_OWNERSHIP_KINDS = ("assignment", "merger", "change_of_name")


@dataclass(frozen=True)
class Claim:
    """What the listing says about the right, and who sells it."""

    jurisdiction: str  # "US", "EP", "EU", "CN"
    kind: str  # listings' Kind: "patent", "trademark", "copyright"
    sub_kind: str  # listings' SubKind: "invention", "design", "plant", "utility_model", "trademark", ...
    application_number: str = ""
    registration_number: str = ""
    publication_number: str = ""
    seller_name: str = ""
    # Other names the owner of record may carry without a problem: before release of escrowed
    # funds, the buyer's (once the recordation names them).
    accepted_owner_names: tuple[str, ...] = ()
    # The listing's own words: a recorded encumbrance is disclosed when they name its holder or
    # its reel/frame.
    disclosure_text: str = ""
    as_of: date = field(default_factory=date.today)


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    evidence: str
    score: float | None = None  # the owner-name similarity, for the owner check

    @property
    def title(self) -> str:
        return CHECK_TITLES.get(self.name, self.name)


def verdict_of(results: list[CheckResult]) -> str:
    """The run's verdict: the worst outcome decides (fail > review > warn > pass)."""
    outcomes = {r.outcome for r in results}
    if not results:
        return "needs_review"
    if "fail" in outcomes:
        return "failed"
    if "review" in outcomes:
        return "needs_review"
    if "warn" in outcomes:
        return "warning"
    return "passed"


# --- numbers and kinds ------------------------------------------------------------------------------


def number_key(number: str) -> str:
    """A number reduced to what identifies it: 'US 6,654,321 B2' -> '6654321', 'EP1000000A1' ->
    '1000000', '000274084' -> '274084', 'D654,321' -> 'D654321'."""
    text = re.sub(r"[^0-9A-Z]", "", str(number).upper())
    text = re.sub(r"^(US|EP|EU|EM|CN|WO)(?=[0-9DPR])", "", text)
    text = re.sub(r"(?<=\d)([AB]\d?|[SEP]\d?)$", "", text)
    match = re.match(r"^([A-Z]*)0*(\d.*)$", text)
    return f"{match.group(1)}{match.group(2)}" if match else text


def _kind_matches(claim: Claim, record: RegistryRecord) -> bool:  # noqa: PLR0911 - one rule per kind
    if claim.kind == "trademark":
        return record.kind == "trademark"
    if claim.kind != "patent":
        return False
    if claim.sub_kind == "design":
        return record.kind == "design" or record.subkind == "design"
    if record.kind != "patent":
        return False
    if claim.sub_kind == "plant":
        return record.subkind == "plant"
    if claim.sub_kind == "invention":
        # A provisional application never becomes a right; a reissue replaces a utility patent.
        return record.subkind in ("", "utility", "reissue", "invention")
    return record.subkind == claim.sub_kind


def check_exists(claim: Claim, record: RegistryRecord) -> CheckResult:
    if not _kind_matches(claim, record):
        found = f"{record.kind}{f' ({record.subkind})' if record.subkind else ''}"
        return CheckResult(EXISTS, "fail", f"The register holds a {found} under this number, not a {claim.sub_kind}.")
    pairs = (
        ("application", claim.application_number, (record.application_number,)),
        ("patent/registration", claim.registration_number, (record.patent_number, record.registration_number)),
        ("publication", claim.publication_number, (record.publication_number,)),
    )
    matched, conflicts = [], []
    for label, claimed, stated in pairs:
        stated_keys = {number_key(s) for s in stated if s}
        if not claimed or not stated_keys:
            continue
        if number_key(claimed) in stated_keys:
            matched.append(f"{label} {claimed}")
        else:
            conflicts.append(f"{label}: listing says {claimed}, register says {', '.join(s for s in stated if s)}")
    if conflicts:
        return CheckResult(EXISTS, "fail", "Numbers differ: " + "; ".join(conflicts) + ".")
    if not matched:
        return CheckResult(EXISTS, "review", "The register's answer states none of the listing's numbers.")
    title = f" “{record.title}”" if record.title else ""
    return CheckResult(EXISTS, "pass", f"{record.office} holds {record.kind}{title} under {', '.join(matched)}.")


def check_status(claim: Claim, record: RegistryRecord) -> CheckResult:
    office_words = f"{record.status_text or '-'}{f' (code {record.status_code})' if record.status_code else ''}"
    dated = f", since {record.status_date:%Y-%m-%d}" if record.status_date else ""
    if record.status == "in_force":
        return CheckResult(STATUS, "pass", f"In force: {office_words}{dated}.")
    if record.status == "grace":
        due = record.next_due
        grace = f" {due.kind} was due {due.due_date}, grace ends {due.grace_ends}." if due else ""
        return CheckResult(STATUS, "warn", f"In its grace period: {office_words}.{grace}")
    if record.status == "pending":
        return CheckResult(STATUS, "warn", f"Pending application, not yet granted: {office_words}{dated}.")
    return CheckResult(STATUS, "fail", f"Not in force ({record.status}): {office_words}{dated}.")


def check_owner(claim: Claim, record: RegistryRecord) -> CheckResult:
    owners = record.owner_names
    if not owners:
        return CheckResult(OWNER, "review", "The register's answer names no owner of record.")
    if not claim.seller_name.strip():
        return CheckResult(OWNER, "review", f"No seller name to compare; owners of record: {'; '.join(owners)}.")
    threshold = float(settings.VERIFICATION_NAME_MATCH_THRESHOLD)
    match = owner_match(seller_name=claim.seller_name, owner_names=owners)
    for other in claim.accepted_owner_names:
        alternative = owner_match(seller_name=other, owner_names=owners)
        if alternative.score > match.score:
            match = alternative
    listed = "; ".join(owners)
    if match.exact:
        return CheckResult(
            OWNER, "pass", f"Owner of record “{match.owner_name}” matches “{match.seller_name}”.", score=1.0
        )
    if match.score >= threshold:
        return CheckResult(
            OWNER,
            "pass",
            f"Owner of record “{match.owner_name}” is close to “{match.seller_name}” (score {match.score:.2f}).",
            score=match.score,
        )
    return CheckResult(
        OWNER,
        "review",
        f"Owner of record “{match.owner_name}” does not exactly match the seller's legal name “{claim.seller_name}” "
        f"(similarity {match.score:.2f}); owners of record: {listed}.",
        score=match.score,
    )


def check_term(claim: Claim, record: RegistryRecord) -> CheckResult:  # noqa: PLR0911 - one outcome per case
    minimum = int(settings.VERIFICATION_MIN_TERM_MONTHS)
    if record.expiry_date is None:
        if record.kind == "trademark":
            return CheckResult(TERM, "pass", "A trade mark lasts as long as it is renewed: no fixed term.")
        if record.status == "pending":
            return CheckResult(TERM, "pass", "Pending application: the term is fixed at grant.")
        return CheckResult(TERM, "review", "The register states no expiry and none could be derived from its dates.")
    how = " (derived from the register's dates)" if "expiry_date" in record.derived else ""
    if record.expiry_date < claim.as_of:
        return CheckResult(TERM, "fail", f"The term ended on {record.expiry_date:%Y-%m-%d}{how}.")
    if record.kind == "trademark" or (record.kind == "design" and record.office == "EUIPO"):
        # A registration's "expiry" is its next renewal: renewable, so the fee check covers it.
        return CheckResult(TERM, "pass", f"Registered until {record.expiry_date:%Y-%m-%d}{how}, renewable.")
    if record.expiry_date < add_months(claim.as_of, minimum):
        return CheckResult(
            TERM,
            "fail",
            f"Expires {record.expiry_date:%Y-%m-%d}{how}: less than the {minimum} months of term required.",
        )
    return CheckResult(TERM, "pass", f"Expires {record.expiry_date:%Y-%m-%d}{how}: at least {minimum} months left.")


def check_fees(claim: Claim, record: RegistryRecord) -> CheckResult:
    overdue = [d for d in record.deadlines if d.overdue(as_of=claim.as_of)]
    if overdue and record.status not in ("expired",):
        worst = overdue[-1]
        return CheckResult(
            FEES,
            "fail",
            f"{worst.kind} was due {worst.due_date}, grace ended {worst.grace_ends or worst.due_date}; "
            "the register does not show it met.",
        )
    in_grace = [d for d in record.deadlines if d.in_grace(as_of=claim.as_of)]
    if in_grace:
        d = in_grace[0]
        return CheckResult(FEES, "warn", f"{d.kind} was due {d.due_date}; grace period to {d.grace_ends}.")
    due = record.next_due
    if due is not None:
        return CheckResult(FEES, "pass", f"Next: {due.kind} due {due.due_date} (window opens {due.window_opens}).")
    if record.deadlines:
        return CheckResult(FEES, "pass", "Every fee or renewal the register's dates call for is met.")
    return CheckResult(FEES, "pass", "No fee or renewal deadline is stated or derivable from the register's dates.")


def _disclosed(claim: Claim, record: AssignmentRecord) -> bool:
    text = claim.disclosure_text
    if not text.strip():
        return False
    if record.reel and record.frame and re.search(rf"\b0*{int(record.reel)}\s*/\s*0*{int(record.frame)}\b", text):
        return True
    return any(text_mentions_name(text=text, name=party.name) for party in record.assignees if party.name)


def check_encumbrances(claim: Claim, record: RegistryRecord) -> CheckResult:
    if "assignments" not in record.sections:
        return CheckResult(ENCUMBRANCES, "review", "The register's answer did not include the recorded conveyances.")
    relevant = [e for e in record.encumbrances if e.kind in ("security_interest", "exclusive_licence")]
    if not relevant:
        return CheckResult(ENCUMBRANCES, "pass", "No security interest or exclusive licence on record.")
    described = [
        f"{e.kind.replace('_', ' ')} to {', '.join(p.name for p in e.assignees) or 'unnamed party'}"
        f" (reel/frame {e.reel_frame or '-'}, recorded {e.recorded_date or '-'})"
        for e in relevant
    ]
    undisclosed = [d for e, d in zip(relevant, described, strict=True) if not _disclosed(claim, e)]
    if undisclosed:
        return CheckResult(ENCUMBRANCES, "fail", "Not disclosed by the listing: " + "; ".join(undisclosed) + ".")
    return CheckResult(ENCUMBRANCES, "pass", "On record and disclosed by the listing: " + "; ".join(described) + ".")


def check_pending_transfer(claim: Claim, record: RegistryRecord) -> CheckResult:
    if "assignments" not in record.sections:
        return CheckResult(
            PENDING_TRANSFER, "review", "The register's answer did not include the recorded conveyances."
        )
    transfers = sorted(
        (a for a in record.assignments if a.kind in _OWNERSHIP_KINDS),
        key=lambda a: a.recorded_date or a.received_date or a.execution_date or date.min,
    )
    unrecorded = [a for a in transfers if a.recorded_date is None and (a.received_date or a.execution_date)]
    if unrecorded:
        a = unrecorded[-1]
        return CheckResult(
            PENDING_TRANSFER,
            "fail",
            f"A transfer to {', '.join(p.name for p in a.assignees) or 'an unnamed party'} was received "
            f"{a.received_date or a.execution_date} and is not yet recorded.",
        )
    if claim.seller_name.strip():
        # The seller's latest appearance in the chain of title: as assignor means they conveyed it away.
        for a in reversed(transfers):
            as_assignee = any(
                owner_match(seller_name=claim.seller_name, owner_names=[p.name]).exact for p in a.assignees
            )
            as_assignor = any(
                owner_match(seller_name=claim.seller_name, owner_names=[p.name]).exact for p in a.assignors
            )
            if as_assignee:
                break
            to_accepted = any(
                owner_match(seller_name=name, owner_names=[p.name]).exact
                for name in claim.accepted_owner_names
                for p in a.assignees
            )
            if as_assignor and to_accepted:
                return CheckResult(
                    PENDING_TRANSFER,
                    "pass",
                    f"The transfer to {', '.join(p.name for p in a.assignees)} is recorded "
                    f"(reel/frame {a.reel_frame or '-'}, recorded {a.recorded_date or '-'}).",
                )
            if as_assignor:
                return CheckResult(
                    PENDING_TRANSFER,
                    "fail",
                    f"The seller already assigned it to {', '.join(p.name for p in a.assignees)} "
                    f"(reel/frame {a.reel_frame or '-'}, recorded {a.recorded_date or '-'}).",
                )
    return CheckResult(PENDING_TRANSFER, "pass", f"{len(transfers)} transfer(s) on record; none pending.")


CHECKS = (
    check_exists,
    check_status,
    check_owner,
    check_term,
    check_fees,
    check_encumbrances,
    check_pending_transfer,
)


def checks_run(*, claim: Claim, record: RegistryRecord) -> list[CheckResult]:
    """Every check, in order. A wrong kind or number makes the rest meaningless: they are skipped."""
    first = check_exists(claim, record)
    if first.outcome == "fail":
        return [first]
    return [first, *(check(claim, record) for check in CHECKS[1:])]
