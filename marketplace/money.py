"""Money: integer minor units with an ISO 4217 currency, never floats.

Every amount in the platform is a `Money`: an exact count of the currency's minor unit (cents
for USD, yen for JPY) and the currency's code. Arithmetic refuses to mix currencies, so a
conversion can never hide inside a sum. User input is parsed by its written form into minor
units; nothing passes through a float on the way.

The one rounding rule (fees): a fee in basis points is rounded HALF-UP ON THE MINOR UNIT, i.e.
to the nearest cent (yen, ...), and exactly half a minor unit goes up. Fees are only taken on
non-negative amounts, so "up" always means "away from zero". Splitting an amount (a fee and
the rest, or shares by weight) always gives back parts that add up to the whole, to the unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

# The currencies the platform takes, with the exponent of their minor unit (ISO 4217 and
# Stripe agree on these). Adding one is a deliberate act: Stripe and the offices' fees must
# support it too.
CURRENCIES: Final = MappingProxyType(
    {
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "CHF": 2,
        "CNY": 2,
        "JPY": 0,
        "KRW": 0,
        "CAD": 2,
        "AUD": 2,
        "SGD": 2,
        "HKD": 2,
        "SEK": 2,
    }
)

# The largest amount, in minor units, that the platform handles: the largest integer that a
# double (JavaScript, JSON parsers) still represents exactly, so no client can round it.
MAX_AMOUNT: Final = 2**53 - 1

BASIS_POINTS_PER_WHOLE: Final = 10_000

# Longer input than this is not an amount anyone typed; refusing it early keeps parsing cheap.
_MAX_INPUT_LENGTH = 64
# Digits, optionally grouped by commas in threes ("1,234,567"), then an optional fraction.
_AMOUNT_PATTERN = re.compile(r"(?P<whole>[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)?(?:\.(?P<fraction>[0-9]+))?", re.ASCII)


class MoneyError(ValueError):
    """A refused amount or operation, with a message fit to show the person."""


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies were combined."""


def currency_exponent(currency: str) -> int:
    """The number of decimal places of the currency's minor unit; refuses an unsupported code."""
    try:
        return CURRENCIES[currency]
    except (KeyError, TypeError):
        supported = ", ".join(sorted(CURRENCIES))
        raise MoneyError(f"The currency {currency!r} is not supported; use one of {supported}.") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `amount` minor units of `currency` (an ISO 4217 code, upper case).

    Amounts may be negative (a ledger entry that takes money out of an account); what a person
    types is parsed by `money_parse`, which takes only positive amounts.
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int in Python; True cents is a bug, not an amount.
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise MoneyError(f"An amount is a whole number of minor units, not {type(self.amount).__name__}.")
        currency_exponent(self.currency)
        if abs(self.amount) > MAX_AMOUNT:
            raise MoneyError(f"The amount is larger than the largest supported ({MAX_AMOUNT} minor units).")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return CURRENCIES[self.currency]

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (for display and for forms, never for arithmetic)."""
        return Decimal(self.amount).scaleb(-self.exponent)

    def _same_currency(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot {operation} Money and {type(other).__name__}.")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"Cannot {operation} {money_format(self)} and {money_format(other)}: the currencies differ."
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other, "subtract").amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, times: int) -> Money:
        # Only whole multiples: a fraction of an amount needs a rounding rule (see fee_compute).
        if not isinstance(times, int) or isinstance(times, bool):
            raise TypeError("Money can only be multiplied by a whole number; use fee_compute for fractions.")
        return Money(self.amount * times, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other, "compare").amount

    def __str__(self) -> str:
        return money_format(self)


def money_sum(amounts: Sequence[Money], *, currency: str) -> Money:
    """The sum of amounts that must all be in `currency` (the currency is named so that an
    empty sum still has one)."""
    total = Money.zero(currency)
    for amount in amounts:
        total += amount
    return total


def money_parse(text: str, *, currency: str, allow_zero: bool = False) -> Money:
    """Parse what a person typed ("1,234.56", "1234", "0.5") into minor units of `currency`.

    Accepts ASCII digits, commas grouping thousands in threes, and a decimal point. Refuses,
    each with its own message: a sign, anything else in the text, zero unless `allow_zero`,
    more decimal places than the currency has (trailing zeros excepted: "100.00" yen is exact),
    amounts past MAX_AMOUNT minor units, and an unsupported currency.
    """
    if not isinstance(currency, str):
        raise MoneyError("A currency code is required.")
    currency = currency.strip().upper()
    exponent = currency_exponent(currency)
    if not isinstance(text, str):
        raise MoneyError("An amount is required.")
    cleaned = text.strip()
    if not cleaned:
        raise MoneyError("An amount is required.")
    if len(cleaned) > _MAX_INPUT_LENGTH:
        raise MoneyError("That is not an amount anyone could pay.")
    if cleaned.startswith(("-", "\u2212")):
        raise MoneyError("The amount must be positive.")
    match = _AMOUNT_PATTERN.fullmatch(cleaned)
    if match is None or (match["whole"] is None and match["fraction"] is None):
        raise MoneyError(f"{text.strip()!r} is not an amount; write it like 1,234.56 or 1234.")
    whole = (match["whole"] or "0").replace(",", "")
    fraction = match["fraction"] or ""
    if len(fraction) > exponent:
        if fraction[exponent:].strip("0"):
            if exponent == 0:
                raise MoneyError(f"{currency} amounts have no decimal places.")
            raise MoneyError(f"{currency} amounts have at most {exponent} decimal places.")
        fraction = fraction[:exponent]
    minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor > MAX_AMOUNT:
        raise MoneyError(
            f"The amount is larger than the largest supported, {money_format(Money(MAX_AMOUNT, currency))}."
        )
    if minor == 0 and not allow_zero:
        raise MoneyError("The amount must be more than zero.")
    return Money(minor, currency)


def money_format(money: Money, *, with_currency: bool = True) -> str:
    """Display form: thousands grouped by commas, the currency's decimal places, the code last:
    "1,234.56 USD", "-0.05 EUR", "1,200 JPY". Without the code it parses back with money_parse
    (for positive amounts)."""
    exponent = money.exponent
    whole, fraction = divmod(abs(money.amount), 10**exponent)
    text = f"{whole:,}"
    if exponent:
        text += f".{fraction:0{exponent}d}"
    if money.amount < 0:
        text = f"-{text}"
    return f"{text} {money.currency}" if with_currency else text


def _basis_points_check(basis_points: int) -> None:
    if not isinstance(basis_points, int) or isinstance(basis_points, bool):
        raise MoneyError("A rate in basis points is a whole number (100 basis points = 1%).")
    if not 0 <= basis_points <= BASIS_POINTS_PER_WHOLE:
        raise MoneyError("A rate in basis points is between 0 and 10,000 (0% to 100%).")


def fee_compute(*, amount: Money, basis_points: int) -> Money:
    """`basis_points` / 10,000 of `amount`, rounded half-up on the minor unit.

    E.g. 2.5% (250 bp) of 0.10 USD is 0.25 cents: 0 cents; of 0.20 USD is 0.5 cents: 1 cent.
    The fee never exceeds the amount (the rate is at most 100%)."""
    _basis_points_check(basis_points)
    if amount.amount < 0:
        raise MoneyError("A fee is taken on a positive amount.")
    quotient, remainder = divmod(amount.amount * basis_points, BASIS_POINTS_PER_WHOLE)
    # Half-up: a remainder of exactly half a minor unit or more rounds the fee up.
    if 2 * remainder >= BASIS_POINTS_PER_WHOLE:
        quotient += 1
    return Money(quotient, amount.currency)


def fee_split(*, amount: Money, basis_points: int) -> tuple[Money, Money]:
    """(fee, rest): the fee by fee_compute's rule, and what is left; together exactly `amount`."""
    fee = fee_compute(amount=amount, basis_points=basis_points)
    return fee, amount - fee


def money_allocate(*, amount: Money, weights: Sequence[int]) -> list[Money]:
    """Share `amount` in proportion to `weights`, to the minor unit, losing and creating nothing.

    Each share is first rounded down; the units left over (fewer than the number of shares) go
    one each to the shares that lost the largest fraction, the earlier share first on a tie. So
    every share is within one minor unit of its exact proportion and the shares sum to `amount`.
    """
    if amount.amount < 0:
        raise MoneyError("Only a positive amount can be shared out.")
    if not weights:
        raise MoneyError("At least one share is needed.")
    if any(not isinstance(weight, int) or isinstance(weight, bool) or weight < 0 for weight in weights):
        raise MoneyError("Weights are whole numbers of zero or more.")
    total_weight = sum(weights)
    if total_weight == 0:
        raise MoneyError("At least one weight must be more than zero.")
    floors_and_remainders = [divmod(amount.amount * weight, total_weight) for weight in weights]
    shares = [floor for floor, _ in floors_and_remainders]
    left_over = amount.amount - sum(shares)
    by_largest_remainder = sorted(range(len(weights)), key=lambda index: (-floors_and_remainders[index][1], index))
    for index in by_largest_remainder[:left_over]:
        shares[index] += 1
    return [Money(share, amount.currency) for share in shares]
