"""Listings: a seller's offer of one right or a portfolio, and its lifecycle (DESIGN.md).

The state is a protected django-fsm field: it changes only through the declared transitions,
which the services in listings.services call, so no view or admin form can jump a state.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from listings.models.rights import Right
from marketplace.money import CURRENCIES, MAX_AMOUNT


class DealType(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment (sale)"
    EXCLUSIVE_LICENCE = "exclusive_licence", "Exclusive licence"
    NON_EXCLUSIVE_LICENCE = "non_exclusive_licence", "Non-exclusive licence"


class PriceMode(models.TextChoices):
    FIXED = "fixed", "Fixed price"
    OFFERS = "offers", "Offers above a minimum"
    ON_REQUEST = "on_request", "Price on request"


class ListingState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    VERIFYING = "verifying", "Being verified"
    NEEDS_REVIEW = "needs_review", "Awaiting staff review"
    AWAITING_MARGIN = "awaiting_margin", "Awaiting margin deposit"
    PUBLISHED = "published", "Published"
    RESERVED = "reserved", "Reserved by a deal"
    SOLD = "sold", "Sold"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    SUSPENDED = "suspended", "Suspended"


S = ListingState

# What the seller is waiting for in each state, shown on "My listings".
WAITING_FOR: dict[str, str] = {
    S.DRAFT: "You: complete and submit it.",
    S.SUBMITTED: "The platform: verification is about to start.",
    S.VERIFYING: "The platform: checking the rights against the registers.",
    S.NEEDS_REVIEW: "Staff: reviewing the ownership evidence.",
    S.AWAITING_MARGIN: "You: pay the margin deposit to publish it.",
    S.PUBLISHED: "Buyers: it is live.",
    S.RESERVED: "The deal: payment and transfer are under way.",
    S.SOLD: "Nothing: the sale is complete.",
    S.REJECTED: "Nothing: staff rejected it (see the reason).",
    S.WITHDRAWN: "Nothing: you withdrew it.",
    S.EXPIRED: "Nothing: a right's term has ended.",
    S.SUSPENDED: "Staff: a re-check of the register failed.",
}

# States in which the seller may still withdraw the listing (a reserved listing has a deal).
WITHDRAWABLE = [S.DRAFT, S.SUBMITTED, S.VERIFYING, S.NEEDS_REVIEW, S.AWAITING_MARGIN, S.PUBLISHED, S.SUSPENDED]
# States in which buyers can find the listing. An expired listing stays visible, marked as such,
# so that a buyer who follows a link learns why it cannot be bought.
PUBLIC_STATES = (S.PUBLISHED, S.RESERVED, S.EXPIRED)


class Listing(FSMModelMixin, models.Model):
    # FSMModelMixin: refresh_from_db() leaves the protected state alone; re-fetch to read it.

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listings")
    rights = models.ManyToManyField(Right, through="ListingRight", related_name="listings")
    title = models.CharField(max_length=300, help_text="Shown in search results.")
    description = models.TextField(blank=True)
    deal_types = ArrayField(models.CharField(max_length=32, choices=DealType.choices), default=list)
    price_mode = models.CharField(max_length=16, choices=PriceMode.choices, default=PriceMode.FIXED)
    # Minor units of `currency` (cents for USD); never a float.
    asking_price = models.BigIntegerField(null=True, blank=True)
    minimum_price = models.BigIntegerField(null=True, blank=True, help_text="The lowest offer accepted.")
    currency = models.CharField(max_length=3, choices=[(code, code) for code in CURRENCIES], default="USD")

    state = FSMField(default=S.DRAFT, choices=S.choices, protected=True)
    review_note = models.TextField(blank=True, help_text="Staff's reason for a rejection or suspension.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(asking_price__isnull=True)
                | models.Q(asking_price__gt=0, asking_price__lte=MAX_AMOUNT),
                name="listing_asking_price_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_price__isnull=True)
                | models.Q(minimum_price__gt=0, minimum_price__lte=MAX_AMOUNT),
                name="listing_minimum_price_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(asking_price__isnull=True)
                | models.Q(minimum_price__isnull=True)
                | models.Q(minimum_price__lte=models.F("asking_price")),
                name="listing_minimum_not_above_asking",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__in=list(CURRENCIES)), name="listing_currency_supported"
            ),
        ]
        indexes = [models.Index(fields=["seller", "state"]), models.Index(fields=["state", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def waiting_for(self) -> str:
        return WAITING_FOR[self.state]

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    # --- Transitions: called only by listings.services -------------------------------------

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=state, source=S.SUBMITTED, target=S.VERIFYING)
    def start_verification(self) -> None:
        pass

    @transition(field=state, source=[S.SUBMITTED, S.VERIFYING], target=S.NEEDS_REVIEW)
    def send_to_review(self) -> None:
        pass

    @transition(field=state, source=[S.VERIFYING, S.NEEDS_REVIEW], target=S.AWAITING_MARGIN)
    def require_margin(self) -> None:
        pass

    @transition(field=state, source=[S.VERIFYING, S.NEEDS_REVIEW, S.AWAITING_MARGIN, S.SUSPENDED], target=S.PUBLISHED)
    def publish(self) -> None:
        if self.published_at is None:
            self.published_at = timezone.now()

    @transition(field=state, source=[S.SUBMITTED, S.VERIFYING, S.NEEDS_REVIEW], target=S.REJECTED)
    def reject(self, reason: str) -> None:
        self.review_note = reason

    @transition(field=state, source=WITHDRAWABLE, target=S.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @transition(field=state, source=S.PUBLISHED, target=S.RESERVED)
    def reserve(self) -> None:
        pass

    @transition(field=state, source=S.RESERVED, target=S.PUBLISHED)
    def release_reservation(self) -> None:
        pass

    @transition(field=state, source=S.RESERVED, target=S.SOLD)
    def mark_sold(self) -> None:
        pass

    @transition(field=state, source=[S.PUBLISHED, S.AWAITING_MARGIN, S.NEEDS_REVIEW, S.SUSPENDED], target=S.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=state, source=[S.PUBLISHED, S.RESERVED, S.AWAITING_MARGIN], target=S.SUSPENDED)
    def suspend(self, reason: str) -> None:
        self.review_note = reason


class ListingRight(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="listing_rights")
    right = models.ForeignKey(Right, on_delete=models.PROTECT, related_name="listing_rights")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["listing", "right"], name="listing_right_once")]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.right_id}"


def listing_document_path(document: ListingDocument, filename: str) -> str:
    # The stored name is ours, not the uploader's: the original name is kept as data only.
    return f"listings/{document.listing_id}/{timezone.now():%Y%m%d%H%M%S}-{document.sha256[:16]}.{document.extension}"


class ListingDocument(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public brochure"
        DATA_ROOM = "data_room", "Private data room (buyers with an open deal, and staff)"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=listing_document_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64, help_text="As detected from the content, not the name.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(self.content_type, "bin")


class ListingEvent(models.Model):
    """One step of a listing's history: who moved it from which state to which, and why."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, choices=S.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=S.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.from_state or '-'} -> {self.to_state}"
