"""Rights: what the offices' registers say about a patent, trademark or copyright.

A right exists once per office number, whoever lists it; its legal facts carry their source and
the date they were read, because a buyer must be able to tell a register's word from a seller's
claim.
"""

from __future__ import annotations

from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    PATENT = "patent", "Patent"
    TRADEMARK = "trademark", "Trademark"
    COPYRIGHT = "copyright", "Copyright"


class SubKind(models.TextChoices):
    INVENTION = "invention", "Invention (utility patent)"
    UTILITY_MODEL = "utility_model", "Utility model"
    DESIGN = "design", "Design"
    PLANT = "plant", "Plant"
    TRADEMARK = "trademark", "Trademark"
    COPYRIGHT = "copyright", "Copyright"


SUB_KINDS_OF: dict[str, tuple[str, ...]] = {
    Kind.PATENT: (SubKind.INVENTION, SubKind.UTILITY_MODEL, SubKind.DESIGN, SubKind.PLANT),
    Kind.TRADEMARK: (SubKind.TRADEMARK,),
    Kind.COPYRIGHT: (SubKind.COPYRIGHT,),
}


class Jurisdiction(models.TextChoices):
    US = "US", "United States (USPTO / US Copyright Office)"
    CN = "CN", "China (CNIPA)"
    EP = "EP", "European patent (EPO)"
    EU = "EU", "European Union (EUIPO)"


class Status(models.TextChoices):
    """The office's status, normalised. The office's own code and text are kept beside it."""

    PENDING = "pending", "Pending"
    IN_FORCE = "in_force", "In force"
    GRACE = "grace", "In grace period"
    LAPSED = "lapsed", "Lapsed"
    EXPIRED = "expired", "Expired"
    ABANDONED = "abandoned", "Abandoned"
    CANCELLED = "cancelled", "Cancelled"


# A right in one of these states can still be bought: its owner holds something to convey.
TRADABLE_STATUSES = (Status.PENDING, Status.IN_FORCE, Status.GRACE)


class Right(models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sub_kind = models.CharField(max_length=16, choices=SubKind.choices)
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices)

    # Office numbers in canonical form (see listings.office_numbers); the display forms are
    # derived from them.
    application_number = models.CharField(max_length=32, blank=True)
    publication_number = models.CharField(max_length=32, blank=True)
    registration_number = models.CharField(
        max_length=32, blank=True, help_text="The patent number or the trademark/copyright registration number."
    )

    title = models.CharField(max_length=500)
    abstract = models.TextField(blank=True)
    goods_and_services = models.TextField(blank=True)
    cpc_symbols = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    nice_classes = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)

    filing_date = models.DateField(null=True, blank=True)
    priority_date = models.DateField(null=True, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    grant_date = models.DateField(null=True, blank=True, help_text="Grant (patents) or registration date.")
    expiry_date = models.DateField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    office_status_code = models.CharField(max_length=32, blank=True)
    office_status_text = models.CharField(max_length=300, blank=True)
    next_due_date = models.DateField(null=True, blank=True, help_text="The next maintenance fee or renewal due.")
    grace_end_date = models.DateField(null=True, blank=True)

    # Where the facts above come from, and when they were read there.
    facts_source = models.CharField(max_length=200, help_text="e.g. 'USPTO Open Data Portal', 'seller's statement'.")
    facts_as_of = models.DateTimeField(default=timezone.now)

    # The latest verification against the register, as a summary the listing page can show
    # without asking the verification app (which sits above listings) for its runs.
    verification_verdict = models.CharField(
        max_length=16, blank=True, help_text="passed, warning, failed or needs_review; empty until verified."
    )
    verified_as_of = models.DateTimeField(null=True, blank=True, help_text="When the register was read.")
    verification_register = models.CharField(max_length=120, blank=True, help_text="The register that was read.")
    verification_summary = models.TextField(blank=True, help_text="One line per check: outcome and evidence.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "application_number"],
                condition=~models.Q(application_number=""),
                name="right_unique_application_number",
            ),
            models.UniqueConstraint(
                fields=["jurisdiction", "sub_kind", "registration_number"],
                condition=~models.Q(registration_number=""),
                name="right_unique_registration_number",
            ),
            models.CheckConstraint(
                condition=~models.Q(application_number="", registration_number="", publication_number=""),
                name="right_has_an_office_number",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(filing_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("filing_date")),
                name="right_expires_after_filing",
            ),
        ]
        indexes = [
            models.Index(fields=["registration_number"]),
            models.Index(fields=["application_number"]),
            models.Index(fields=["publication_number"]),
        ]

    def __str__(self) -> str:
        return f"{self.number_display} {self.title[:60]}"

    @property
    def number_display(self) -> str:
        """The most telling office number, in the office's style: the patent or registration
        number once granted, else the publication or application number."""
        for field_name in ("registration_number", "publication_number", "application_number"):
            if getattr(self, field_name):
                number = self.number_in_office_style(field_name)
                return number if number.startswith(self.jurisdiction) else f"{self.jurisdiction} {number}"
        return self.jurisdiction

    def number_in_office_style(self, field_name: str) -> str:
        """A stored (canonical) number as the office writes it, e.g. 6654321 -> US 6,654,321."""
        from listings.office_numbers import OfficeNumberError, normalise
        from listings.services.rights import number_kinds_of_field

        value: str = getattr(self, field_name)
        kinds = number_kinds_of_field(jurisdiction=self.jurisdiction, sub_kind=self.sub_kind, field_name=field_name)
        for kind in kinds:
            try:
                return normalise(value, kind=kind).display
            except OfficeNumberError:
                continue
        return value

    @property
    def is_tradable(self) -> bool:
        return self.status in TRADABLE_STATUSES and not self.term_has_ended()

    def term_has_ended(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.expiry_date is not None and self.expiry_date < today

    def remaining_term_days(self, today: date | None = None) -> int | None:
        if self.expiry_date is None:
            return None
        return max(0, (self.expiry_date - (today or timezone.localdate())).days)


class OwnerOfRecord(models.Model):
    """An owner as the register names it: matched against the seller's legal name."""

    right = models.ForeignKey(Right, on_delete=models.CASCADE, related_name="owners")
    name = models.CharField(max_length=300)
    address = models.TextField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Encumbrance(models.Model):
    """A recorded security interest or licence that a buyer takes the right subject to."""

    class EncumbranceKind(models.TextChoices):
        SECURITY_INTEREST = "security_interest", "Security interest"
        EXCLUSIVE_LICENCE = "exclusive_licence", "Exclusive licence"
        NON_EXCLUSIVE_LICENCE = "non_exclusive_licence", "Non-exclusive licence"
        OTHER = "other", "Other"

    right = models.ForeignKey(Right, on_delete=models.CASCADE, related_name="encumbrances")
    kind = models.CharField(max_length=32, choices=EncumbranceKind.choices)
    party = models.CharField(max_length=300, help_text="The secured party or licensee.")
    recorded_on = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="e.g. the reel/frame of the recordation.")
    released_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.party}"
