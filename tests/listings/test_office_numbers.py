"""Office numbers: every spelling of a number normalises to one canonical form; anything else is
refused with a message naming the expected format and an example."""

from __future__ import annotations

import pytest

from listings.office_numbers import (
    NUMBER_KIND_CHOICES,
    NumberKind,
    Office,
    OfficeNumberError,
    RightType,
    cn_check_digit,
    detect,
    normalise,
)

K = NumberKind

# (kind, spellings that must all give the canonical form, canonical, display)
VALID = [
    (
        K.US_APPLICATION,
        ["16/123,456", "16123456", "US 16/123,456", "16/123456", "16/ 123,456", "16/123/456", "Appl. No. 16/123,456"],
        "16123456",
        "16/123,456",
    ),
    # NASA's portfolio drops the serial's leading zero: 13/12,345 is 13/012,345.
    (K.US_APPLICATION, ["13/012,345", "13/12,345", "13012345"], "13012345", "13/012,345"),
    (K.US_APPLICATION, ["62/123,456", "62123456"], "62123456", "62/123,456"),
    (
        K.US_PATENT,
        [
            "US 6,654,321 B2",
            "6654321",
            "US6654321B1",
            "6,654,321",
            "US-6654321-B2",
            "U.S. Pat. No. 6,654,321",
            "06654321",
            "us 6654321 b2",
        ],
        "6654321",
        "US 6,654,321",
    ),
    (K.US_PATENT, ["US 10,123,456 B2", "10123456"], "10123456", "US 10,123,456"),
    (
        K.US_DESIGN_PATENT,
        ["D654,321", "USD654321S", "US D654,321 S", "Des. 654,321", "USD0654321", "US-D654321-S"],
        "D654321",
        "US D654,321",
    ),
    (
        K.US_PLANT_PATENT,
        ["PP12,345", "USPP12345P3", "US PP12,345 P2", "PP012345", "Plt. 12,345"],
        "PP12345",
        "US PP12,345",
    ),
    (
        K.US_REISSUE_PATENT,
        ["RE45,678", "USRE45678E", "US-RE45678-E", "RE045678", "US RE45,678 E1"],
        "RE45678",
        "US RE45,678",
    ),
    (
        K.US_PUBLICATION,
        [
            "US 2019/0123456 A1",
            "US20190123456A1",
            "2019/0123456",
            "US-2019123456-A1",
            "US 2019-0123456 A1",
            "2019/123456",
        ],
        "20190123456",
        "US 2019/0123456",
    ),
    (
        K.US_TRADEMARK_SERIAL,
        ["76044902", "76/044,902", "Serial No. 76044902", "Ser. No. 76/044902"],
        "76044902",
        "76044902",
    ),
    (
        K.US_TRADEMARK_REGISTRATION,
        ["2178784", "2,178,784", "Reg. No. 2178784", "Registration No. 2,178,784", "US Reg. No. 2178784"],
        "2178784",
        "2,178,784",
    ),
    # Old registrations are padded to seven digits, as TSDR does.
    (K.US_TRADEMARK_REGISTRATION, ["123,456", "0123456"], "0123456", "123,456"),
    (
        K.CN_APPLICATION,
        [
            "201710431918.5",
            "CN201710431918.5",
            "CN 201710431918.5",
            "2017104319185",
            "201710431918",
            "ZL201710431918.5",
        ],
        "201710431918.5",
        "201710431918.5",
    ),
    (K.CN_PUBLICATION, ["CN 108123456 A", "CN108123456A", "CN-108123456-A", "108123456"], "108123456", "CN 108123456"),
    (K.EP_APPLICATION, ["EP 18123456.7", "18123456", "EP18123456", "18 123 456.7"], "18123456", "18123456"),
    (
        K.EP_PUBLICATION,
        ["EP 1 234 567 A1", "EP1234567A1", "EP-1234567-B1", "1234567", "EP 1234567"],
        "1234567",
        "EP 1 234 567",
    ),
    (K.EU_TRADE_MARK, ["018123456", "EUTM 018123456", "EUTM No. 018123456", "EU018123456"], "018123456", "018123456"),
    (K.EU_DESIGN, ["000123456-0001", "000123456 - 0001", "RCD 000123456-0001"], "000123456-0001", "000123456-0001"),
]


@pytest.mark.parametrize(
    ("kind", "spelling", "canonical", "display"),
    [(kind, spelling, canonical, display) for kind, spellings, canonical, display in VALID for spelling in spellings],
)
def test_every_spelling_normalises_to_one_canonical_form(kind, spelling, canonical, display):
    number = normalise(spelling, kind=kind)

    assert number.kind == kind
    assert number.office == kind.office
    assert number.canonical == canonical
    # Only a written kind code (or EP check digit) follows; test_display_... checks them exactly.
    assert number.display.startswith(display)


@pytest.mark.parametrize(
    ("spelling", "kind", "display", "kind_code"),
    [
        ("US 6,654,321 B2", K.US_PATENT, "US 6,654,321 B2", "B2"),
        ("us6654321b1", K.US_PATENT, "US 6,654,321 B1", "B1"),
        ("USD654321S", K.US_DESIGN_PATENT, "US D654,321 S", "S"),
        ("US20190123456A1", K.US_PUBLICATION, "US 2019/0123456 A1", "A1"),
        ("EP1234567B1", K.EP_PUBLICATION, "EP 1 234 567 B1", "B1"),
        ("EP 18123456.7", K.EP_APPLICATION, "18123456.7", ""),
        ("CN108123456B", K.CN_PUBLICATION, "CN 108123456 B", "B"),
    ],
)
def test_display_is_the_offices_own_style_with_the_kind_code_written(spelling, kind, display, kind_code):
    number = normalise(spelling, kind=kind)

    assert number.display == display
    assert number.kind_code == kind_code
    assert str(number) == display


def test_us_application_series_tells_provisional_and_design():
    provisional = normalise("63/012,345", kind=K.US_APPLICATION)
    design = normalise("29/654,321", kind=K.US_APPLICATION)
    utility = normalise("17/000,001", kind=K.US_APPLICATION)

    assert (provisional.detail, provisional.right_type) == ("provisional", None)
    assert (design.detail, design.right_type) == ("design", RightType.DESIGN)
    assert (utility.detail, utility.right_type) == ("", None)


def test_cn_check_digit_follows_the_weighted_sum_mod_11():
    # 2*2+0*3+1*4+7*5+1*6+0*7+4*8+3*9+1*2+9*3+1*4+8*5 = 181, 181 mod 11 = 5
    assert cn_check_digit("201710431918") == "5"
    # 8-digit form: weights 2..9
    assert cn_check_digit("93100001") == str((9 * 2 + 3 * 3 + 1 * 4 + 1 * 9) % 11)
    assert cn_check_digit("200710000004") == "X"  # remainder 10 is written X


def test_cn_check_digit_x_is_accepted_in_either_case():
    body = "200710000004"
    assert normalise(f"{body}.x", kind=K.CN_APPLICATION).canonical == f"{body}.X"


def test_cn_eight_digit_form_before_2003():
    body = "93100001"
    check = cn_check_digit(body)

    number = normalise(f"{body}.{check}", kind=K.CN_APPLICATION)

    assert number.canonical == f"{body}.{check}"
    assert number.right_type == RightType.INVENTION
    assert normalise(f"CN{body}{check}", kind=K.CN_APPLICATION) == number


@pytest.mark.parametrize(
    ("type_digit", "right_type", "detail"),
    [
        ("1", RightType.INVENTION, ""),
        ("2", RightType.UTILITY_MODEL, ""),
        ("3", RightType.DESIGN, ""),
        ("8", RightType.INVENTION, "PCT national phase"),
        ("9", RightType.UTILITY_MODEL, "PCT national phase"),
    ],
)
def test_cn_type_digit_says_the_right_type(type_digit, right_type, detail):
    body = f"2019{type_digit}0123456"
    number = normalise(f"{body}.{cn_check_digit(body)}", kind=K.CN_APPLICATION, right_type=right_type)

    assert (number.right_type, number.detail) == (right_type, detail)


def test_cn_publication_kind_code_must_fit_the_type_digit():
    assert normalise("CN 2345678 Y", kind=K.CN_PUBLICATION).right_type == RightType.UTILITY_MODEL
    with pytest.raises(OfficeNumberError, match="Kind code U does not fit"):
        normalise("CN108123456U", kind=K.CN_PUBLICATION)


def _cn(body: str) -> str:
    return f"{body}.{cn_check_digit(body)}"


INVALID = [
    # (kind, text, right_type, words the reason must contain)
    (K.US_APPLICATION, "16/1234567", None, "is not written as"),
    (K.US_APPLICATION, "1612345", None, "is not written as"),
    (K.US_APPLICATION, "16/12a,456", None, "is not written as"),
    (K.US_APPLICATION, "21/123,456", None, "21 is not a US application series code"),
    (K.US_APPLICATION, "16/000,000", None, "cannot be zero"),
    (K.US_APPLICATION, "16/123,456", RightType.DESIGN, "not a design series"),
    (K.US_APPLICATION, "29/123,456", RightType.INVENTION, "for design applications"),
    (K.US_PATENT, "123456789", None, "is not written as"),
    (K.US_PATENT, "US 6,654,321 C1", None, "is not written as"),
    (K.US_PATENT, "US 6,654,32l", None, "is not written as"),
    (K.US_PATENT, "CN 6654321", None, "is not written as"),
    (K.US_PATENT, "0", None, "cannot be zero"),
    (K.US_PATENT, "6654321", RightType.DESIGN, "for an invention"),
    (K.US_DESIGN_PATENT, "654,321", None, "is not written as"),
    (K.US_DESIGN_PATENT, "D12345678", None, "is not written as"),
    (K.US_DESIGN_PATENT, "D654321", RightType.INVENTION, "for a design"),
    (K.US_PLANT_PATENT, "PP1234567", None, "is not written as"),
    (K.US_PLANT_PATENT, "P12345", None, "is not written as"),
    (K.US_REISSUE_PATENT, "RE1234567", None, "is not written as"),
    (K.US_REISSUE_PATENT, "RX45678", None, "is not written as"),
    (K.US_PUBLICATION, "US 2019/01234567 A1", None, "is not written as"),
    (K.US_PUBLICATION, "US 1999/0123456 A1", None, "1999 is not a year"),
    (K.US_PUBLICATION, "US 2019/0123456 B2", None, "is not written as"),
    (K.US_TRADEMARK_SERIAL, "7604490", None, "is not written as"),
    (K.US_TRADEMARK_SERIAL, "760449021", None, "is not written as"),
    (K.US_TRADEMARK_SERIAL, "16123456", None, "16 is not a US trademark serial series code"),
    (K.US_TRADEMARK_SERIAL, "76O44902", None, "is not written as"),
    (K.US_TRADEMARK_REGISTRATION, "21787845", None, "is not written as"),
    (K.US_TRADEMARK_REGISTRATION, "Reg. No. 217A784", None, "is not written as"),
    (K.CN_APPLICATION, "201710431918.4", None, "The check digit 4 is wrong"),
    (K.CN_APPLICATION, "20171043191.5", None, "is not written as"),
    (K.CN_APPLICATION, "2017104319185X", None, "is not written as"),
    (
        K.CN_APPLICATION,
        "201710431918.5",
        RightType.UTILITY_MODEL,
        "for an invention (5th digit 1), not for a utility model",
    ),
    (
        K.CN_APPLICATION,
        _cn("201720431918"),
        RightType.INVENTION,
        "for a utility model (5th digit 2), not for an invention",
    ),
    (K.CN_APPLICATION, _cn("201730431918"), RightType.UTILITY_MODEL, "for a design (5th digit 3)"),
    (K.CN_APPLICATION, _cn("201740431918"), None, "The 5th digit, 4, is no application type"),
    (K.CN_APPLICATION, _cn("199910431918"), None, "1999 is not a filing year"),
    (K.CN_APPLICATION, _cn("05100001"), None, "05 is not a filing year"),
    (K.CN_APPLICATION, _cn("93400001"), None, "The 3rd digit, 4"),
    (K.CN_PUBLICATION, "CN 408123456 A", None, "no publication type"),
    (K.EP_APPLICATION, "EP 1812345", None, "is not written as"),
    (K.EP_APPLICATION, "EP 18123456.77", None, "is not written as"),
    (K.EP_PUBLICATION, "EP 12345678 A1", None, "is not written as"),
    (K.EP_PUBLICATION, "EP 1234567 C1", None, "is not written as"),
    (K.EP_PUBLICATION, "EP1234567", RightType.DESIGN, "inventions only"),
    (K.EU_TRADE_MARK, "18123456", None, "is not written as"),
    (K.EU_TRADE_MARK, "0181234567", None, "is not written as"),
    (K.EU_TRADE_MARK, "EUTM 01812345A", None, "is not written as"),
    (K.EU_DESIGN, "000123456", None, "is not written as"),
    (K.EU_DESIGN, "000123456-001", None, "is not written as"),
    (K.EU_DESIGN, "000123456-0000", None, "design number can be zero"),
]


@pytest.mark.parametrize(("kind", "text", "right_type", "reason"), INVALID)
def test_bad_numbers_are_refused_with_the_expected_format(kind, text, right_type, reason):
    with pytest.raises(OfficeNumberError) as caught:
        normalise(text, kind=kind, right_type=right_type)

    message = str(caught.value)
    assert reason in message
    assert "Expected " in message
    assert "e.g. " in message
    assert caught.value.examples[0] in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("kind", list(NumberKind))
@pytest.mark.parametrize("text", ["", "   ", "x" * 10_000, "1" * 10_000, "hello"])
def test_empty_absurd_and_wordy_input_is_refused_for_every_kind(kind, text):
    with pytest.raises(OfficeNumberError) as caught:
        normalise(text, kind=kind)

    message = str(caught.value)
    assert "Expected " in message
    assert len(message) < 400  # the message never echoes 10,000 characters back


def test_every_kind_names_its_example_and_the_example_is_valid():
    for kind in NumberKind:
        with pytest.raises(OfficeNumberError) as caught:
            normalise("?", kind=kind)
        for example in caught.value.examples:
            assert normalise(example, kind=kind).kind == kind


def test_choices_cover_every_kind():
    assert [value for value, _ in NUMBER_KIND_CHOICES] == [kind.value for kind in NumberKind]
    assert dict(NUMBER_KIND_CHOICES)["cn_application"] == "CN application number"
    assert K.EU_TRADE_MARK.office == Office.EU


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("US 6,654,321 B2", [(K.US_PATENT, "6654321")]),
        ("U.S. Pat. No. 6,654,321", [(K.US_PATENT, "6654321"), (K.US_TRADEMARK_REGISTRATION, "6654321")]),
        ("16/123,456", [(K.US_APPLICATION, "16123456")]),
        ("D654,321 office chair", [(K.US_DESIGN_PATENT, "D654321")]),
        ("pp12345", [(K.US_PLANT_PATENT, "PP12345")]),
        ("RE45,678", [(K.US_REISSUE_PATENT, "RE45678")]),
        ("US 2019/0123456 A1", [(K.US_PUBLICATION, "20190123456")]),
        ("US20190123456A1", [(K.US_PUBLICATION, "20190123456")]),
        ("battery 201710431918.5", [(K.CN_APPLICATION, "201710431918.5")]),
        ("CN108123456A", [(K.CN_PUBLICATION, "108123456")]),
        ("Reg. No. 2,178,784", [(K.US_TRADEMARK_REGISTRATION, "2178784")]),
        ("EP 1 234 567 A1", [(K.EP_PUBLICATION, "1234567")]),
        ("EP18123456.7", [(K.EP_APPLICATION, "18123456")]),
        ("EUTM 018123456", [(K.EU_TRADE_MARK, "018123456")]),
        ("000123456-0001", [(K.EU_DESIGN, "000123456-0001")]),
        # A bare number is every kind it can be; search looks each up.
        ("2178784", [(K.US_PATENT, "2178784"), (K.US_TRADEMARK_REGISTRATION, "2178784")]),
        ("76044902", [(K.US_PATENT, "76044902"), (K.US_TRADEMARK_SERIAL, "76044902")]),
        ("16123456", [(K.US_APPLICATION, "16123456"), (K.US_PATENT, "16123456")]),
    ],
)
def test_detect_finds_office_numbers_in_any_common_spelling(query, expected):
    assert [(number.kind, number.canonical) for number in detect(query)] == expected


@pytest.mark.parametrize(
    "query",
    [
        "neural network",
        "solar 2019",
        "price 500000",
        "3.5 years 10-year term",
        '"unbalanced quote -',
        "",
        "x" * 10_000,
        "1" * 10_000,
        "201710431918.4",  # a CN number with a wrong check digit is no CN number
    ],
)
def test_detect_ignores_words_short_numbers_and_garbage(query):
    assert detect(query) == []


def test_detect_finds_several_numbers_in_one_query():
    found = detect("compare US 6,654,321 B2 with EP 1 234 567 A1")

    assert [(number.kind, number.canonical) for number in found] == [
        (K.US_PATENT, "6654321"),
        (K.EP_PUBLICATION, "1234567"),
    ]
