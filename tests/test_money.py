"""Money: exact minor units, no mixing of currencies, one rounding rule, splits that add up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import (
    CURRENCIES,
    MAX_AMOUNT,
    CurrencyMismatchError,
    Money,
    MoneyError,
    currency_exponent,
    fee_compute,
    fee_split,
    money_allocate,
    money_format,
    money_parse,
    money_sum,
)

currencies = st.sampled_from(sorted(CURRENCIES))
amounts = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)
positive_amounts = st.integers(min_value=1, max_value=MAX_AMOUNT)
basis_points = st.integers(min_value=0, max_value=10_000)


@st.composite
def money_pairs(draw: st.DrawFn, bound: int = MAX_AMOUNT // 2) -> tuple[Money, Money]:
    currency = draw(currencies)
    small = st.integers(min_value=-bound, max_value=bound)
    return Money(draw(small), currency), Money(draw(small), currency)


# --- The type -------------------------------------------------------------------------------


@given(money_pairs())
def test_adding_then_subtracting_gives_back_the_amount(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a + b) - b == a
    assert a + b == b + a
    negated = -a
    assert -negated == a
    assert a - a == Money.zero(a.currency)


@given(currencies, st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=20))
def test_a_sum_is_the_sum_of_the_minor_units(currency: str, units: list[int]) -> None:
    assert money_sum([Money(unit, currency) for unit in units], currency=currency) == Money(sum(units), currency)


@given(amounts, amounts, st.sampled_from(sorted(CURRENCIES)), st.sampled_from(sorted(CURRENCIES)))
def test_amounts_in_different_currencies_never_mix(a: int, b: int, first: str, second: str) -> None:
    if first == second:
        return
    left, right = Money(a, first), Money(b, second)
    with pytest.raises(CurrencyMismatchError, match="the currencies differ"):
        left + right
    with pytest.raises(CurrencyMismatchError):
        left - right
    with pytest.raises(CurrencyMismatchError):
        _ = left < right
    with pytest.raises(CurrencyMismatchError):
        money_sum([left, right], currency=first)


def test_the_currency_table_has_the_minor_units_of_iso_4217() -> None:
    assert {code: CURRENCIES[code] for code in ("USD", "EUR", "GBP", "CNY", "JPY", "CHF")} == {
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "CNY": 2,
        "JPY": 0,
        "CHF": 2,
    }


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (1.5, "USD", "whole number of minor units"),
        (Decimal("1.50"), "USD", "whole number of minor units"),
        (True, "USD", "whole number of minor units"),
        ("150", "USD", "whole number of minor units"),
        (MAX_AMOUNT + 1, "USD", "larger than the largest"),
        (-MAX_AMOUNT - 1, "USD", "larger than the largest"),
        (100, "usd", "not supported"),
        (100, "XYZ", "not supported"),
        (100, "", "not supported"),
    ],
)
def test_money_refuses_what_is_not_an_exact_amount(amount: object, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money(amount, currency)  # type: ignore[arg-type]


def test_money_is_immutable_and_multiplies_only_by_whole_numbers() -> None:
    price = Money(1050, "EUR")
    with pytest.raises(AttributeError):
        price.amount = 1  # type: ignore[misc]
    assert price * 3 == Money(3150, "EUR") == 3 * price
    with pytest.raises(TypeError, match="whole number"):
        price * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        price + 1  # type: ignore[operator]


# --- Parsing and formatting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,234.56", "USD", 123456),
        ("1234", "USD", 123400),
        ("1234.5", "EUR", 123450),
        (" 0.01 ", "GBP", 1),
        (".5", "CHF", 50),
        ("1,000,000", "JPY", 1_000_000),
        ("1500", "jpy", 1500),
        ("100.00", "JPY", 100),
        ("12.340", "CNY", 1234),
        ("90,071,992,547,409.91", "USD", MAX_AMOUNT),
        ("9007199254740991", "JPY", MAX_AMOUNT),
    ],
)
def test_parsing_reads_the_written_amount_into_minor_units(text: str, currency: str, minor: int) -> None:
    assert money_parse(text, currency=currency) == Money(minor, currency.upper())


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("-5", "USD", "must be positive"),
        ("\u22125", "USD", "must be positive"),
        ("0", "USD", "more than zero"),
        ("0.00", "EUR", "more than zero"),
        ("1.234", "USD", "at most 2 decimal places"),
        ("10.5", "JPY", "no decimal places"),
        ("90,071,992,547,409.92", "USD", "larger than the largest supported"),
        ("9007199254740992", "JPY", "larger than the largest supported"),
        ("1" * 65, "USD", "not an amount anyone could pay"),
        ("12,34", "EUR", "is not an amount"),
        ("1234,567", "USD", "is not an amount"),
        ("1,23", "USD", "is not an amount"),
        ("1.234,56", "EUR", "is not an amount"),
        ("5.", "USD", "is not an amount"),
        (".", "USD", "is not an amount"),
        ("1e5", "USD", "is not an amount"),
        ("NaN", "USD", "is not an amount"),
        ("Infinity", "USD", "is not an amount"),
        ("+5", "USD", "is not an amount"),
        ("$5", "USD", "is not an amount"),
        ("5 USD", "USD", "is not an amount"),
        ("\u0661\u0662", "USD", "is not an amount"),
        ("1 000", "USD", "is not an amount"),
        ("", "USD", "is required"),
        ("   ", "USD", "is required"),
        ("10", "XYZ", "not supported"),
        ("10", "", "not supported"),
    ],
)
def test_parsing_refuses_bad_input_with_a_clear_error(text: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        money_parse(text, currency=currency)


def test_parsing_takes_zero_only_where_allowed() -> None:
    assert money_parse("0", currency="USD", allow_zero=True) == Money(0, "USD")


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(123456, "USD"), "1,234.56 USD"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(-5, "EUR"), "-0.05 EUR"),
        (Money(0, "GBP"), "0.00 GBP"),
        (Money(1200, "JPY"), "1,200 JPY"),
        (Money(MAX_AMOUNT, "USD"), "90,071,992,547,409.91 USD"),
    ],
)
def test_formatting_shows_the_currency_decimal_places_and_code(money: Money, shown: str) -> None:
    assert money_format(money) == shown == str(money)


@given(currencies, positive_amounts)
def test_a_formatted_amount_parses_back_to_itself(currency: str, minor: int) -> None:
    money = Money(minor, currency)
    assert money_parse(money_format(money, with_currency=False), currency=currency) == money
    assert money_parse(str(money.to_decimal()), currency=currency) == money


@given(currencies, st.integers(min_value=1, max_value=10**15), st.integers(min_value=1, max_value=9))
def test_a_digit_past_the_minor_unit_is_refused(currency: str, minor: int, extra_digit: int) -> None:
    exponent = currency_exponent(currency)
    text = money_format(Money(minor, currency), with_currency=False)
    text += ("" if exponent else ".") + str(extra_digit)
    with pytest.raises(MoneyError, match="decimal places"):
        money_parse(text, currency=currency)


# --- Fees and splits ------------------------------------------------------------------------


@given(currencies, st.integers(min_value=0, max_value=MAX_AMOUNT), basis_points)
def test_a_fee_is_rounded_half_up_on_the_minor_unit(currency: str, minor: int, rate: int) -> None:
    fee = fee_compute(amount=Money(minor, currency), basis_points=rate)
    exact = Decimal(minor) * rate / 10_000
    assert fee == Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency)
    assert Money(0, currency) <= fee <= Money(minor, currency)


@given(st.integers(min_value=0, max_value=10**12), basis_points, basis_points)
def test_a_higher_rate_never_gives_a_smaller_fee(minor: int, rate: int, other_rate: int) -> None:
    low, high = sorted((rate, other_rate))
    amount = Money(minor, "USD")
    assert fee_compute(amount=amount, basis_points=low) <= fee_compute(amount=amount, basis_points=high)


def test_the_rounding_rule_on_exact_halves() -> None:
    # 2.5% of 0.20 USD is half a cent: up. 2.5% of 0.10 USD is a quarter cent: down.
    assert fee_compute(amount=Money(20, "USD"), basis_points=250) == Money(1, "USD")
    assert fee_compute(amount=Money(10, "USD"), basis_points=250) == Money(0, "USD")
    # 5% of 10 yen is 0.5 yen: up to 1.
    assert fee_compute(amount=Money(10, "JPY"), basis_points=500) == Money(1, "JPY")
    assert fee_compute(amount=Money(100_000, "USD"), basis_points=0) == Money(0, "USD")
    assert fee_compute(amount=Money(100_000, "USD"), basis_points=10_000) == Money(100_000, "USD")


@given(currencies, st.integers(min_value=0, max_value=MAX_AMOUNT), basis_points)
def test_a_fee_split_neither_loses_nor_creates_a_minor_unit(currency: str, minor: int, rate: int) -> None:
    amount = Money(minor, currency)
    fee, rest = fee_split(amount=amount, basis_points=rate)
    assert fee + rest == amount
    assert fee.amount >= 0
    assert rest.amount >= 0


@given(
    currencies,
    st.integers(min_value=0, max_value=MAX_AMOUNT),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(any),
)
def test_an_allocation_adds_up_and_each_share_is_within_a_unit(currency: str, minor: int, weights: list[int]) -> None:
    shares = money_allocate(amount=Money(minor, currency), weights=weights)
    total_weight = sum(weights)
    assert len(shares) == len(weights)
    assert sum(share.amount for share in shares) == minor
    for share, weight in zip(shares, weights, strict=True):
        assert share.currency == currency
        # |share - minor * weight / total| < 1, in integers.
        assert abs(share.amount * total_weight - minor * weight) < total_weight
        if weight == 0:
            assert share.amount == 0


def test_an_allocation_gives_left_over_units_to_the_earliest_largest_remainders() -> None:
    assert money_allocate(amount=Money(100, "USD"), weights=[1, 1, 1]) == [
        Money(34, "USD"),
        Money(33, "USD"),
        Money(33, "USD"),
    ]
    assert money_allocate(amount=Money(5, "JPY"), weights=[1, 3]) == [Money(1, "JPY"), Money(4, "JPY")]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fee_compute(amount=Money(100, "USD"), basis_points=-1), "between 0 and 10,000"),
        (lambda: fee_compute(amount=Money(100, "USD"), basis_points=10_001), "between 0 and 10,000"),
        (lambda: fee_compute(amount=Money(100, "USD"), basis_points=2.5), "whole number"),  # type: ignore[arg-type]
        (lambda: fee_compute(amount=Money(-100, "USD"), basis_points=100), "positive amount"),
        (lambda: money_allocate(amount=Money(100, "USD"), weights=[]), "At least one share"),
        (lambda: money_allocate(amount=Money(100, "USD"), weights=[0, 0]), "more than zero"),
        (lambda: money_allocate(amount=Money(100, "USD"), weights=[1, -1]), "zero or more"),
        (lambda: money_allocate(amount=Money(-100, "USD"), weights=[1]), "positive amount"),
    ],
)
def test_fees_and_allocations_refuse_bad_input(call: object, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        call()  # type: ignore[operator]
