"""Offers, deals and their timeline, and the fee schedule (DESIGN.md: Offer, Deal / escrow).

Both states are protected django-fsm fields: they change only through the declared transitions,
which the services in escrow.services call with the rows locked (listing, then deal). What the
database can hold, it holds: one open offer per buyer and listing, one active deal per listing
(Invariant 1), amounts in range, refunds never above what was captured.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from listings.models import DealType, Listing
from marketplace.money import CURRENCIES, MAX_AMOUNT, Money

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]


def offer_expiry_default() -> datetime:
    return timezone.now() + timedelta(days=settings.OFFER_TTL_DAYS)


def payment_deadline_default() -> datetime:
    return timezone.now() + timedelta(days=settings.DEAL_PAYMENT_DAYS)


class Party(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class FeePayer(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    SPLIT = "split", "Split equally (the odd minor unit to the buyer)"


class ValueAddedService(models.TextChoices):
    """What the platform does for a deal beyond escrow, on request, at the schedule's price."""

    BROKER = "broker", "Broker (a platform broker handles the negotiation and paperwork)"
    VALUATION = "valuation", "Valuation report of the rights"
    TRANSLATION = "translation", "Translation of the transfer documents"


class FeeKind(models.TextChoices):
    """The fees of a deal, each posted to its own platform fees revenue account on release."""

    REGISTRATION = "registration", "Registration fee"
    TRANSACTION = "transaction", "Transaction fee"
    BROKER = "broker", "Broker service"
    VALUATION = "valuation", "Valuation report"
    TRANSLATION = "translation", "Translation"


def services_field() -> ArrayField:
    return ArrayField(
        models.CharField(max_length=16, choices=ValueAddedService.choices),
        default=list,
        blank=True,
        help_text="The value-added services asked for, each priced by the fee schedule.",
    )


def services_display(services: list[str]) -> str:
    """The services' short names, for pages and documents: "broker, valuation report"."""
    names = {"broker": "broker", "valuation": "valuation report", "translation": "translation"}
    return ", ".join(names.get(service, service) for service in services)


class FeeSchedule(models.Model):
    """The platform's fees for deals in one currency; the newest active schedule applies, and
    none means no fees (the platform starts free). A deal copies the amounts when it is agreed,
    so a later change of schedule never alters a deal the parties already saw.

    The value-added services (broker, valuation, translation) are charged only on the deals
    that ask for them; each names who pays it, as the registration and transaction fees do."""

    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    registration_fee = models.BigIntegerField(default=0, help_text="Minor units, per deal (recordation handling).")
    registration_fee_payer = models.CharField(max_length=8, choices=FeePayer.choices, default=FeePayer.BUYER)
    transaction_fee_basis_points = models.PositiveIntegerField(
        default=0, help_text="Of the price; 100 basis points = 1%, rounded half-up to the minor unit."
    )
    transaction_fee_payer = models.CharField(max_length=8, choices=FeePayer.choices, default=FeePayer.SELLER)
    broker_fee_basis_points = models.PositiveIntegerField(
        default=0, help_text="Of the price, on deals with the broker service; rounded like the transaction fee."
    )
    broker_fee_payer = models.CharField(max_length=8, choices=FeePayer.choices, default=FeePayer.BUYER)
    valuation_fee = models.BigIntegerField(default=0, help_text="Minor units, per deal with a valuation report.")
    valuation_fee_payer = models.CharField(max_length=8, choices=FeePayer.choices, default=FeePayer.BUYER)
    translation_fee = models.BigIntegerField(
        default=0, help_text="Minor units, per deal with the transfer documents translated."
    )
    translation_fee_payer = models.CharField(max_length=8, choices=FeePayer.choices, default=FeePayer.BUYER)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(registration_fee__gte=0, registration_fee__lte=MAX_AMOUNT),
                name="fee_schedule_registration_fee_in_range",
            ),
            models.CheckConstraint(
                condition=Q(transaction_fee_basis_points__lte=10_000), name="fee_schedule_basis_points_at_most_100pc"
            ),
            models.CheckConstraint(
                condition=Q(broker_fee_basis_points__lte=10_000), name="fee_schedule_broker_at_most_100pc"
            ),
            models.CheckConstraint(
                condition=Q(valuation_fee__gte=0, valuation_fee__lte=MAX_AMOUNT),
                name="fee_schedule_valuation_fee_in_range",
            ),
            models.CheckConstraint(
                condition=Q(translation_fee__gte=0, translation_fee__lte=MAX_AMOUNT),
                name="fee_schedule_translation_fee_in_range",
            ),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="fee_schedule_currency_known"),
        ]

    def __str__(self) -> str:
        return f"{self.currency}: {self.transaction_fee_basis_points} bp + {self.registration_fee} minor units"


class OfferState(models.TextChoices):
    OPEN = "open", "Open"
    COUNTERED = "countered", "Countered"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Offer(FSMModelMixin, models.Model):
    """One proposal in a negotiation between the listing's seller and one buyer. A counter is a
    new offer by the other side whose `parent` is the offer it answers (which becomes countered)."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="offers")
    # The prospective buyer of the negotiation, whoever made this particular offer.
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_as_buyer")
    made_by = models.CharField(max_length=8, choices=Party.choices)
    amount = models.BigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    deal_type = models.CharField(max_length=32, choices=DealType.choices)
    services = services_field()
    message = models.TextField(blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="counters")
    state = FSMField(default=OfferState.OPEN, choices=OfferState.choices, protected=True)
    expires_at = models.DateTimeField(default=offer_expiry_default)
    # Why it closed, when no person's word says it (expired, the listing went to another deal).
    closing_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, amount__lte=MAX_AMOUNT), name="offer_amount_positive_in_range"
            ),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="offer_currency_known"),
            models.CheckConstraint(
                condition=Q(services__contained_by=ValueAddedService.values), name="offer_services_known"
            ),
            # One live proposal per negotiation: a counter closes the offer it answers first.
            models.UniqueConstraint(
                fields=["listing", "buyer"], condition=Q(state="open"), name="offer_one_open_per_listing_and_buyer"
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self) -> str:
        return f"Offer #{self.pk} on listing {self.listing_id}: {self.money}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def services_display(self) -> str:
        return services_display(self.services)

    @property
    def recipient(self) -> str:
        return Party.SELLER if self.made_by == Party.BUYER else Party.BUYER

    # --- Transitions: called only by escrow.services.offers ---------------------------------

    def _close(self, note: str = "") -> None:
        self.closed_at = timezone.now()
        self.closing_note = note[:300]

    @transition(field=state, source=OfferState.OPEN, target=OfferState.COUNTERED)
    def counter(self) -> None:
        self._close()

    @transition(field=state, source=OfferState.OPEN, target=OfferState.ACCEPTED)
    def accept(self) -> None:
        self._close()

    @transition(field=state, source=OfferState.OPEN, target=OfferState.REJECTED)
    def reject(self, note: str = "") -> None:
        self._close(note)

    @transition(field=state, source=OfferState.OPEN, target=OfferState.WITHDRAWN)
    def withdraw(self) -> None:
        self._close()

    @transition(field=state, source=OfferState.OPEN, target=OfferState.EXPIRED)
    def expire(self, note: str = "") -> None:
        self._close(note)


class DealState(models.TextChoices):
    AGREED = "agreed", "Agreed"
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    FUNDED = "funded", "Funded (held in escrow)"
    IN_TRANSFER = "in_transfer", "Transfer being recorded"
    RECORDED = "recorded", "Transfer recorded"
    RELEASED = "released", "Released to the seller"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded to the buyer"
    DISPUTED = "disputed", "Disputed"


D = DealState
# A deal in one of these no longer holds its listing; any other state does (Invariant 1).
INACTIVE_DEAL_STATES = (D.CANCELLED, D.REFUNDED, D.CLOSED)
# Money is held in escrow and may be disputed.
DISPUTABLE_STATES = (D.FUNDED, D.IN_TRANSFER, D.RECORDED)

WAITING_FOR: dict[str, str] = {
    D.AGREED: "The platform: the deal is being set up.",
    D.AWAITING_PAYMENT: "The buyer: pay into escrow before the deadline.",
    D.FUNDED: "The seller: sign the transfer documents.",
    D.IN_TRANSFER: "The office: recording the transfer.",
    D.RECORDED: "The platform: releasing the escrow to the seller.",
    D.RELEASED: "The platform: paying the seller out.",
    D.CLOSED: "Nothing: the deal is complete.",
    D.CANCELLED: "Nothing: the deal was cancelled.",
    D.REFUNDED: "Nothing: the buyer's payment was refunded.",
    D.DISPUTED: "Staff: deciding the dispute.",
}


class Deal(FSMModelMixin, models.Model):
    """An agreement to transfer a listing's rights at a price, with the buyer's money in escrow.
    FSMModelMixin: refresh_from_db() leaves the protected state alone; re-fetch to read it."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="deals")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals_as_buyer")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals_as_seller")
    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="deal")
    deal_type = models.CharField(max_length=32, choices=DealType.choices)
    services = services_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    # All in minor units of `currency`, fixed when the deal is agreed (each fee's parts are in
    # DealFee, which sums to these).
    price = models.BigIntegerField()
    buyer_fee = models.BigIntegerField(default=0, help_text="Added to what the buyer pays.")
    seller_fee = models.BigIntegerField(default=0, help_text="Taken from what the seller receives.")
    # What the payment provider captured for this deal, and what went back to the buyer.
    funded_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    # The idempotency key of the payment that funded the deal: the same payment applied again
    # changes nothing; another payment is refused.
    funding_key = models.CharField(max_length=200, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True)

    state = FSMField(default=D.AGREED, choices=D.choices, protected=True)
    # The state a dispute interrupted, so staff see where the deal stood.
    disputed_from = models.CharField(max_length=16, choices=D.choices, blank=True)
    dispute_reason = models.TextField(blank=True)
    disputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    payment_deadline = models.DateTimeField(default=payment_deadline_default)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_dispute", "Can decide a deal's dispute (release or refund)")]
        constraints = [
            # Invariant 1, held by the database: whatever the code does, a second active deal on
            # one listing cannot commit.
            models.UniqueConstraint(
                fields=["listing"],
                condition=~Q(state__in=[s.value for s in INACTIVE_DEAL_STATES]),
                name="deal_one_active_per_listing",
            ),
            models.CheckConstraint(condition=Q(price__gt=0, price__lte=MAX_AMOUNT), name="deal_price_in_range"),
            models.CheckConstraint(
                condition=Q(buyer_fee__gte=0, seller_fee__gte=0, seller_fee__lte=F("price")),
                name="deal_fees_in_range",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("funded_amount")),
                name="deal_refund_at_most_captured",
            ),
            models.CheckConstraint(condition=Q(funded_amount__gte=0), name="deal_funded_amount_not_negative"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="deal_buyer_is_not_seller"),
            models.CheckConstraint(condition=Q(currency__in=sorted(CURRENCIES)), name="deal_currency_known"),
            models.CheckConstraint(
                condition=Q(services__contained_by=ValueAddedService.values), name="deal_services_known"
            ),
        ]
        indexes = [models.Index(fields=["state", "payment_deadline"])]

    def __str__(self) -> str:
        return f"Deal #{self.pk}: {self.listing} for {self.price_money}"

    @property
    def reference(self) -> str:
        """How the ledger names this deal (account references, journal references)."""
        return f"deal:{self.pk}"

    @property
    def price_money(self) -> Money:
        return Money(self.price, self.currency)

    @property
    def total_due(self) -> Money:
        """What the buyer pays into escrow: the price plus the buyer's fees."""
        return Money(self.price + self.buyer_fee, self.currency)

    @property
    def seller_proceeds(self) -> Money:
        return Money(self.price - self.seller_fee, self.currency)

    @property
    def platform_fees(self) -> Money:
        return Money(self.buyer_fee + self.seller_fee, self.currency)

    @property
    def services_display(self) -> str:
        return services_display(self.services)

    @property
    def waiting_for(self) -> str:
        return WAITING_FOR[self.state]

    def party_of(self, user_id: int | None) -> str | None:
        if user_id == self.buyer_id:
            return Party.BUYER
        if user_id == self.seller_id:
            return Party.SELLER
        return None

    # --- Transitions: called only by escrow.services.deals ----------------------------------

    @transition(field=state, source=D.AGREED, target=D.AWAITING_PAYMENT)
    def await_payment(self) -> None:
        pass

    @transition(field=state, source=D.AWAITING_PAYMENT, target=D.FUNDED)
    def fund(self, *, amount: int, funding_key: str, payment_reference: str) -> None:
        self.funded_amount = amount
        self.funding_key = funding_key
        self.payment_reference = payment_reference
        self.funded_at = timezone.now()

    @transition(field=state, source=D.FUNDED, target=D.IN_TRANSFER)
    def start_transfer(self) -> None:
        pass

    @transition(field=state, source=[D.FUNDED, D.IN_TRANSFER], target=D.RECORDED)
    def mark_recorded(self) -> None:
        self.recorded_at = timezone.now()

    # Release and refund leave from a dispute only through the staff decision (the service
    # checks who decides); from any other state they are the ordinary path.
    @transition(field=state, source=[D.RECORDED, D.DISPUTED], target=D.RELEASED)
    def release(self) -> None:
        self.released_at = timezone.now()

    @transition(field=state, source=[D.FUNDED, D.IN_TRANSFER, D.RECORDED, D.DISPUTED], target=D.REFUNDED)
    def refund(self, *, amount: int) -> None:
        self.refunded_amount += amount
        self.refunded_at = timezone.now()

    @transition(field=state, source=[D.AGREED, D.AWAITING_PAYMENT], target=D.CANCELLED)
    def cancel(self) -> None:
        self.cancelled_at = timezone.now()

    @transition(field=state, source=DISPUTABLE_STATES, target=D.DISPUTED)
    def open_dispute(self, *, reason: str, by_id: int | None) -> None:
        self.disputed_from = self.state
        self.dispute_reason = reason
        self.disputed_by_id = by_id

    @transition(field=state, source=D.RELEASED, target=D.CLOSED)
    def close(self) -> None:
        self.closed_at = timezone.now()


class DealFee(models.Model):
    """One fee of a deal as both parties saw it before they committed: its kind, how it was
    reckoned, and each side's part, in the deal's currency. The buyer's parts sum to the deal's
    `buyer_fee`, the seller's to its `seller_fee` (escrow.services.common.deal_create writes
    them together); the release credits each fee to its own revenue account."""

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=16, choices=FeeKind.choices)
    basis = models.CharField(max_length=100, blank=True, help_text='How it was reckoned, e.g. "2.50% of the price".')
    buyer_amount = models.BigIntegerField(default=0, help_text="Minor units the buyer pays on top of the price.")
    seller_amount = models.BigIntegerField(default=0, help_text="Minor units taken from the seller's proceeds.")

    class Meta:
        ordering = ["deal", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "kind"], name="deal_fee_once_per_kind"),
            models.CheckConstraint(
                condition=Q(buyer_amount__gte=0, seller_amount__gte=0)
                & Q(buyer_amount__lte=MAX_AMOUNT, seller_amount__lte=MAX_AMOUNT)
                & (Q(buyer_amount__gt=0) | Q(seller_amount__gt=0)),
                name="deal_fee_parts_in_range_and_not_both_zero",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of deal #{self.deal_id}"

    @property
    def total(self) -> int:
        return self.buyer_amount + self.seller_amount


class DealEvent(models.Model):
    """One step of a deal's timeline: who moved it from which state to which, and why."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, choices=D.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=D.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_state or '-'} -> {self.to_state}"
