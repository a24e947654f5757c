"""The platform's fees on a deal: the registration and transaction fees of every deal, and the
value-added services (broker, valuation, translation) of the deals that ask for them.

One function, `fee_quote`, reckons them all from the newest active FeeSchedule of the price's
currency, line by line, so that what a party is shown before committing (the listing's buy
box, an open offer on the dashboard, the API) is exactly what the deal copies when it is agreed
and what the ledger posts on release. Percentages round half-up on the minor unit
(marketplace.money.fee_compute); a fee split between the parties gives the odd unit to the buyer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from escrow.models import Deal, FeeKind, FeeSchedule, ValueAddedService
from escrow.models.deals import FeePayer
from escrow.services.errors import DealError, Refusal
from marketplace.money import Money, MoneyError, fee_compute, money_allocate, money_sum

# The order in which a deal's services are kept and its fees shown.
SERVICE_ORDER = [ValueAddedService.BROKER, ValueAddedService.VALUATION, ValueAddedService.TRANSLATION]


@dataclass(frozen=True)
class FeeLine:
    """One fee: what it is, how it was reckoned, and each side's part."""

    kind: str
    basis: str
    buyer_part: Money
    seller_part: Money

    @property
    def label(self) -> str:
        return FeeKind(self.kind).label if self.kind in FeeKind.values else "Platform fees"

    @property
    def total(self) -> Money:
        return self.buyer_part + self.seller_part


@dataclass(frozen=True)
class FeeQuote:
    """The exact amounts of a deal at a price, shown to both parties before they commit."""

    price: Money
    lines: tuple[FeeLine, ...] = ()
    services: tuple[str, ...] = ()

    @property
    def buyer_fee(self) -> Money:
        return money_sum([line.buyer_part for line in self.lines], currency=self.price.currency)

    @property
    def seller_fee(self) -> Money:
        return money_sum([line.seller_part for line in self.lines], currency=self.price.currency)

    @property
    def buyer_pays(self) -> Money:
        return self.price + self.buyer_fee

    @property
    def seller_receives(self) -> Money:
        return self.price - self.seller_fee

    def buyer_lines(self) -> list[FeeLine]:
        return [line for line in self.lines if not line.buyer_part.is_zero]

    def seller_lines(self) -> list[FeeLine]:
        return [line for line in self.lines if not line.seller_part.is_zero]


def _charged(fee: Money, payer: str) -> tuple[Money, Money]:
    """(buyer's part, seller's part) of a fee; a split gives the odd minor unit to the buyer."""
    if payer == FeePayer.BUYER:
        return fee, Money.zero(fee.currency)
    if payer == FeePayer.SELLER:
        return Money.zero(fee.currency), fee
    buyer_part, seller_part = money_allocate(amount=fee, weights=[1, 1])
    return buyer_part, seller_part


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}% of the price"


def _basis(text: str, payer: str) -> str:
    if payer == FeePayer.SPLIT:
        return f"{text}, shared equally"
    return f"{text}, paid by the {payer}"


def services_check(services: object) -> tuple[str, ...]:
    """The services asked for, each known and once, in the schedule's order; refuses the rest."""
    if services is None:
        return ()
    if isinstance(services, str) or not isinstance(services, Iterable):
        raise DealError("Services are a list of names.", code=Refusal.INVALID, field="services")
    asked = list(services)
    unknown = sorted({str(name) for name in asked if name not in ValueAddedService.values})
    if unknown:
        known = ", ".join(ValueAddedService.values)
        raise DealError(
            f"Unknown service {', '.join(unknown)}; choose among {known}.", code=Refusal.INVALID, field="services"
        )
    return tuple(service.value for service in SERVICE_ORDER if service.value in asked)


def fee_schedule_for(*, currency: str) -> FeeSchedule | None:
    return FeeSchedule.objects.filter(currency=currency, active=True).order_by("-created_at", "-id").first()


def _schedule_lines(schedule: FeeSchedule, *, price: Money, services: tuple[str, ...]) -> list[FeeLine]:
    currency = price.currency
    wanted: list[tuple[str, Money, str, str]] = [  # (kind, fee, basis text, payer)
        (FeeKind.REGISTRATION, Money(schedule.registration_fee, currency), "per deal", schedule.registration_fee_payer),
        (
            FeeKind.TRANSACTION,
            fee_compute(amount=price, basis_points=schedule.transaction_fee_basis_points),
            _percent(schedule.transaction_fee_basis_points),
            schedule.transaction_fee_payer,
        ),
    ]
    if ValueAddedService.BROKER in services:
        fee = fee_compute(amount=price, basis_points=schedule.broker_fee_basis_points)
        wanted.append((FeeKind.BROKER, fee, _percent(schedule.broker_fee_basis_points), schedule.broker_fee_payer))
    if ValueAddedService.VALUATION in services:
        fee = Money(schedule.valuation_fee, currency)
        wanted.append((FeeKind.VALUATION, fee, "per deal", schedule.valuation_fee_payer))
    if ValueAddedService.TRANSLATION in services:
        fee = Money(schedule.translation_fee, currency)
        wanted.append((FeeKind.TRANSLATION, fee, "per deal", schedule.translation_fee_payer))
    lines = []
    for kind, fee, basis, payer in wanted:
        if fee.is_zero:
            continue  # a free service is still provided; it is simply no fee
        buyer_part, seller_part = _charged(fee, payer)
        lines.append(FeeLine(kind=kind, basis=_basis(basis, payer), buyer_part=buyer_part, seller_part=seller_part))
    return lines


def fee_quote(*, price: Money, services: object = ()) -> FeeQuote:
    """The fees under the newest active schedule for the price's currency (none: no fees), with
    the value-added services asked for. Refuses unknown services, and amounts the platform could
    not hold (a total past the largest amount, seller's fees above the price)."""
    return fee_quote_under(fee_schedule_for(currency=price.currency), price=price, services=services)


def fee_quote_under(schedule: FeeSchedule | None, *, price: Money, services: object = ()) -> FeeQuote:
    """fee_quote under a schedule already read (a page quoting several amounts reads it once)."""
    chosen = services_check(services)
    if schedule is None:
        return FeeQuote(price=price, services=chosen)
    try:
        quote = FeeQuote(
            price=price, lines=tuple(_schedule_lines(schedule, price=price, services=chosen)), services=chosen
        )
        quote.buyer_pays  # noqa: B018 - refuses a total past the largest amount
    except MoneyError as error:
        raise DealError(f"The fees cannot be computed for this price: {error}", code=Refusal.INVALID) from None
    if quote.seller_fee > price:
        raise DealError("The seller's fees would exceed the price.", code=Refusal.INVALID)
    return quote


def services_costing_the_seller(quote: FeeQuote) -> list[str]:
    """The value-added services of the quote of which the seller pays a part."""
    return [line.kind for line in quote.lines if line.kind in ValueAddedService.values and not line.seller_part.is_zero]


def deal_fee_lines(*, deal: Deal) -> list[FeeLine]:
    """The deal's fees as the parties agreed them, line by line. A deal agreed before fees were
    kept line by line shows its fees as one "Platform fees" line (kind "")."""
    currency = deal.currency
    lines = [
        FeeLine(
            kind=fee.kind,
            basis=fee.basis,
            buyer_part=Money(fee.buyer_amount, currency),
            seller_part=Money(fee.seller_amount, currency),
        )
        for fee in sorted(deal.fees.all(), key=lambda fee: fee.pk)  # .all(): a prefetch serves it
    ]
    buyer_rest = deal.buyer_fee - sum(fee.buyer_part.amount for fee in lines)
    seller_rest = deal.seller_fee - sum(fee.seller_part.amount for fee in lines)
    if buyer_rest or seller_rest:
        if buyer_rest < 0 or seller_rest < 0:
            raise DealError(f"Deal #{deal.pk}'s fee lines exceed its fees; staff must look.")
        lines.append(
            FeeLine(
                kind="",
                basis="as agreed",
                buyer_part=Money(buyer_rest, currency),
                seller_part=Money(seller_rest, currency),
            )
        )
    return lines


def service_fee_rules(schedule: FeeSchedule | None, *, currency: str) -> list[tuple[str, str, str]]:
    """(service, label, how its fee is reckoned) under the schedule (fee_schedule_for the currency),
    for a form where the price is not known yet (an offer): "2.50% of the price, paid by the
    buyer", "free"."""
    rules = []
    for service in SERVICE_ORDER:
        text = "free"
        if schedule is not None:
            if service == ValueAddedService.BROKER and schedule.broker_fee_basis_points:
                text = _basis(_percent(schedule.broker_fee_basis_points), schedule.broker_fee_payer)
            elif service == ValueAddedService.VALUATION and schedule.valuation_fee:
                text = _basis(str(Money(schedule.valuation_fee, currency)), schedule.valuation_fee_payer)
            elif service == ValueAddedService.TRANSLATION and schedule.translation_fee:
                text = _basis(str(Money(schedule.translation_fee, currency)), schedule.translation_fee_payer)
        rules.append((service.value, service.label, text))
    return rules
