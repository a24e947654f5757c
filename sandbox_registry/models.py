"""What the sandbox registry holds: the offices' registers in miniature.

The sandbox stands in for systems outside the platform (USPTO, EUIPO, EPO), so it keeps its own
tables and imports nothing from the marketplace's apps. Fields keep the office's own words:
status codes and texts in each office's vocabulary, parties as the register names them. The
views turn these rows into each office's wire format (see `sandbox_registry.formats`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Office(models.TextChoices):
    USPTO = "uspto", "USPTO"
    EUIPO = "euipo", "EUIPO"
    EPO = "epo", "EPO"


class Kind(models.TextChoices):
    US_PATENT = "us_patent", "US patent application / patent"
    US_TRADEMARK = "us_trademark", "US trademark"
    EU_TRADE_MARK = "eu_trade_mark", "EU trade mark"
    EU_DESIGN = "eu_design", "EU (registered Community) design"
    EP_PATENT = "ep_patent", "European patent"


OFFICE_OF_KIND = {
    Kind.US_PATENT: Office.USPTO,
    Kind.US_TRADEMARK: Office.USPTO,
    Kind.EU_TRADE_MARK: Office.EUIPO,
    Kind.EU_DESIGN: Office.EUIPO,
    Kind.EP_PATENT: Office.EPO,
}


class RegisterEntry(models.Model):
    """One right as its office's register holds it."""

    office = models.CharField(max_length=8, choices=Office.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The office's type of the right: ODP applicationTypeCode (UTL, DES, PLT, REI), TSDR mark
    # category ("Trademark", "Collective Membership Mark"), EUIPO markFeature (WORD, FIGURATIVE).
    application_type = models.CharField(max_length=64, blank=True)
    # US application number (8 digits or PCT/...), TSDR serial number, EUIPO or EP application number.
    application_number = models.CharField(max_length=32, blank=True, db_index=True)
    # True when the catalogue gave a patent number but no application number: the sandbox then
    # numbers the application itself in series 99, which the USPTO does not use.
    application_number_assigned = models.BooleanField(default=False)
    patent_number = models.CharField(max_length=16, blank=True, db_index=True)
    # TSDR registration number, EUIPO registration or design number (000000000-0000).
    registration_number = models.CharField(max_length=20, blank=True, db_index=True)
    # US earliest publication ("US 2017-0071586 A1") or the EP publication (EP1000000A1).
    publication_number = models.CharField(max_length=32, blank=True, db_index=True)
    title = models.CharField(max_length=500, blank=True)
    status_code = models.CharField(max_length=32, blank=True, help_text="The office's own code, e.g. ODP 150, TSDR 800")
    status_text = models.CharField(
        max_length=300, blank=True, help_text="The office's own words, e.g. 'Patented Case', 'REGISTERED AND RENEWED'"
    )
    status_date = models.DateField(null=True, blank=True)
    filing_date = models.DateField(null=True, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    grant_date = models.DateField(null=True, blank=True)
    registration_date = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    # Only where the office states it (EUIPO expiryDate) or the source did (NASA's portfolio).
    expiry_date = models.DateField(null=True, blank=True)
    classes = models.JSONField(default=list, blank=True, help_text="CPC symbols, Nice or Locarno classes")
    pta_days = models.IntegerField(null=True, blank=True, verbose_name="PTA days")
    parent_application_number = models.CharField(max_length=32, blank=True)
    parent_relation = models.CharField(
        max_length=8, blank=True, help_text="ODP claimParentageTypeCode: CON, DIV, CIP, NST, ..."
    )
    parent_filing_date = models.DateField(null=True, blank=True)
    # Office fields without a column of their own (TSDR JSON flags, EUIPO markKind, ...).
    details = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=120, blank=True, help_text="Where the seed found this right")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "register entry"
        verbose_name_plural = "register entries"
        ordering = ["office", "kind", "application_number", "registration_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "application_number"],
                condition=~Q(kind="eu_design") & ~Q(application_number=""),
                name="sandbox_entry_unique_application",
            ),
            models.UniqueConstraint(
                fields=["kind", "registration_number"],
                condition=~Q(registration_number=""),
                name="sandbox_entry_unique_registration",
            ),
            models.UniqueConstraint(
                fields=["kind", "patent_number"],
                condition=~Q(patent_number=""),
                name="sandbox_entry_unique_patent",
            ),
            models.CheckConstraint(
                condition=~Q(application_number="") | ~Q(registration_number="") | ~Q(publication_number=""),
                name="sandbox_entry_has_a_number",
            ),
        ]
        indexes = [
            # ODP's continuity bag lists an application's children on every answer.
            models.Index(
                fields=["kind", "parent_application_number"],
                condition=~Q(parent_application_number=""),
                name="sandbox_entry_children",
            ),
        ]

    def __str__(self) -> str:
        number = self.patent_number or self.registration_number or self.publication_number or self.application_number
        return f"{self.get_kind_display()} {number}: {self.title[:60]}"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "Applicant / owner"
    INVENTOR = "inventor", "Inventor"


class RegisterParty(models.Model):
    """An applicant, owner or inventor as the register names it."""

    entry = models.ForeignKey(RegisterEntry, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=16, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    # TSDR's party type orders a mark's owners through its life (10 original applicant, 20 owner
    # at publication, 30 original registrant, 31 owner after registration); the highest is the
    # owner of record. Elsewhere simply the order.
    sequence = models.PositiveSmallIntegerField(default=10)
    role_text = models.CharField(max_length=80, blank=True, help_text="e.g. ORIGINAL APPLICANT")
    name = models.CharField(max_length=300, blank=True)
    identifier = models.CharField(max_length=40, blank=True, help_text="The office's party id (EUIPO)")
    entity_type = models.CharField(max_length=80, blank=True, help_text="e.g. CORPORATION")
    incorporation_country = models.CharField(max_length=2, blank=True)
    incorporation_state = models.CharField(max_length=40, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, blank=True)

    class Meta:
        verbose_name_plural = "register parties"
        ordering = ["entry", "role", "-sequence", "id"]

    def __str__(self) -> str:
        return self.name or self.identifier


class RegisterEvent(models.Model):
    """A dated entry in the right's history: ODP transactions, TSDR events, INPADOC events."""

    entry = models.ForeignKey(RegisterEntry, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=16)
    description = models.CharField(max_length=300, blank=True)
    date = models.DateField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    effect = models.CharField(max_length=1, blank=True, help_text="INPADOC influence: + or -")
    # INPADOC's L5xxEP details as [tag, description, text] triples.
    details = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["entry", "date", "id"]

    def __str__(self) -> str:
        return f"{self.date} {self.code} {self.description[:60]}"


class AssignmentRegister(models.TextChoices):
    PATENT = "patent", "Patent assignments"
    TRADEMARK = "trademark", "Trademark assignments"


class RecordedAssignment(models.Model):
    """A conveyance recorded at the USPTO (an assignment, a security interest, a release, ...),
    covering one or more properties."""

    register = models.CharField(max_length=12, choices=AssignmentRegister.choices, default=AssignmentRegister.PATENT)
    reel = models.PositiveIntegerField()
    frame = models.PositiveIntegerField()
    conveyance_text = models.CharField(
        max_length=300, help_text="e.g. ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS)."
    )
    recorded_date = models.DateField()
    received_date = models.DateField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    correspondent_name = models.CharField(max_length=200, blank=True)
    properties = models.ManyToManyField(RegisterEntry, related_name="assignments")

    class Meta:
        ordering = ["-recorded_date", "-reel", "-frame"]
        constraints = [
            models.UniqueConstraint(fields=["register", "reel", "frame"], name="sandbox_assignment_unique_reel_frame"),
        ]

    def __str__(self) -> str:
        return f"{self.reel:06d}/{self.frame:04d} {self.conveyance_text[:60]}"

    @property
    def reel_frame(self) -> str:
        return f"{self.reel:06d}/{self.frame:04d}"


class AssignmentPartyRole(models.TextChoices):
    ASSIGNOR = "assignor", "Assignor (conveying party)"
    ASSIGNEE = "assignee", "Assignee (receiving party)"


class AssignmentParty(models.Model):
    assignment = models.ForeignKey(RecordedAssignment, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=10, choices=AssignmentPartyRole.choices)
    name = models.CharField(max_length=300)
    execution_date = models.DateField(null=True, blank=True, help_text="Assignors: the day they signed")
    entity_type = models.CharField(max_length=80, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_name = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name_plural = "assignment parties"
        ordering = ["assignment", "role", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="sandbox_assignment_party_named"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name}"
