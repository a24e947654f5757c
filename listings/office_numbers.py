"""Office numbers: validation and normalisation per office and kind, and detection in free text.

Each office writes its numbers in its own style, and people copy them in many more (with or
without the office prefix, thousands separators, kind codes, Google Patents' hyphens). `normalise`
turns one spelling of a number of a known kind into an `OfficeNumber` whose `canonical` form is the
same for every spelling, so that it can be stored and looked up; `display` is the office's own
style. Anything else raises `OfficeNumberError` saying which format was expected, with an example.

`canonical` is unique within (office, kind), never across kinds: the same eight digits can be a US
application and a US patent number, so the kind is always stored next to it.

`detect` finds office numbers in a search query and returns every kind a span may be.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# A number is short; anything longer is not a number, and the regexes need not look at it.
MAX_NUMBER_LENGTH = 80
# `detect` looks at the start of a query only: a number is typed alone or next to a few words.
MAX_DETECT_LENGTH = 1000


class Office(StrEnum):
    US = "US"  # USPTO
    CN = "CN"  # CNIPA
    EP = "EP"  # European Patent Office
    EU = "EU"  # EUIPO (WIPO ST.3 code EM)


class RightType(StrEnum):
    """What a number says about the right it names, where it says anything."""

    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    PLANT = "plant"


class NumberKind(StrEnum):
    US_APPLICATION = "us_application"
    US_PATENT = "us_patent"
    US_DESIGN_PATENT = "us_design_patent"
    US_PLANT_PATENT = "us_plant_patent"
    US_REISSUE_PATENT = "us_reissue_patent"
    US_PUBLICATION = "us_publication"
    US_TRADEMARK_SERIAL = "us_trademark_serial"
    US_TRADEMARK_REGISTRATION = "us_trademark_registration"
    CN_APPLICATION = "cn_application"
    CN_PUBLICATION = "cn_publication"
    EP_APPLICATION = "ep_application"
    EP_PUBLICATION = "ep_publication"
    EU_TRADE_MARK = "eu_trade_mark"
    EU_DESIGN = "eu_design"

    @property
    def label(self) -> str:
        return _FORMATS[self].label

    @property
    def office(self) -> Office:
        return _FORMATS[self].office


class OfficeNumberError(ValueError):
    """A number that does not fit the format of the kind it was given as."""

    def __init__(self, reason: str, *, kind: NumberKind) -> None:
        spec = _FORMATS[kind]
        self.kind = kind
        self.reason = reason
        self.expected = spec.expected
        self.examples = spec.examples
        examples = " or ".join(spec.examples)
        super().__init__(f"{reason} Expected {spec.label}: {spec.expected}, e.g. {examples}.")


@dataclass(frozen=True, slots=True)
class OfficeNumber:
    office: Office
    kind: NumberKind
    canonical: str  # for storage and lookup: one spelling per number, unique within (office, kind)
    display: str  # the office's own style
    kind_code: str = ""  # the WIPO ST.16 kind code when it was written (B2, A1, S, ...)
    right_type: RightType | None = None  # what the number itself says (CN type digit, US series 29)
    detail: str = ""  # e.g. "provisional", "PCT national phase"

    def __str__(self) -> str:
        return self.display


# --- Cleaning -----------------------------------------------------------------------------------

# Words people put around numbers. Labels that carry meaning become a short marker the formats
# read ("REG" for a trademark registration, "SN" for a serial number, "D" for a design patent);
# the rest go.
_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bU\. ?S\. ?", "US "),
        (r"\bREG(?:ISTRATION\b|\.|\b) ?(?:NO\b\.?|NUMBER\b|NR\b\.?|#)?", "REG "),
        (r"\bSER(?:IAL\b|\.|\b) ?(?:NO\b\.?|NUMBER\b|NR\b\.?|#)?", "SN "),
        (r"\bDES\. ?(?:NO\b\.? ?)?", "D"),
        (r"\bPLT\. ?(?:NO\b\.? ?)?", "PP"),
        (
            r"\b(?:PAT(?:ENT)?|APPL(?:ICATION)?|APP|PUB(?:LICATION)?|TRADE ?MARK|DESIGN)(?:\b\.?|\.)"
            r" ?(?:NO\b\.?|NUMBER\b|NR\b\.?|#)?",
            " ",
        ),
        (r"\b(?:NO\b\.?|NUMBER\b|NR\b\.?)|#", " "),
    )
)
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    text = _DASHES.sub("-", text.upper())
    text = _SPACES.sub(" ", text)
    for pattern, replacement in _LABELS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip(" :;")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _us_grouped(digits: str) -> str:
    return f"{int(digits):,}"


# --- Formats ------------------------------------------------------------------------------------

# Between an office prefix, the number and its kind code: "US 6654321 B2", "US-6654321-B2", "US6654321B2".
_SEP = r"[ -]?"
# US thousands separators as written: "6,654,321", sometimes "6.654.321"; or no separators.
_US_DIGITS = r"\d{{1,3}}(?:[,.]\d{{3}}){{1,{groups}}}|\d{{1,{max}}}"


@dataclass(frozen=True, slots=True)
class _Format:
    kind: NumberKind
    office: Office
    label: str
    expected: str
    examples: tuple[str, ...]
    pattern: str  # with a named group `prefix` for what marks the office or kind
    build: Callable[[re.Match[str], RightType | None], OfficeNumber]
    # In free text a bare run of digits is a number only when it is long enough to mean one;
    # some kinds are recognised only with their prefix (a bare 7 digits is not an EP number).
    detect_needs_prefix: bool = False


def _check_claim(claimed: RightType | None, actual: RightType | None, *, kind: NumberKind, why: str) -> None:
    if claimed is not None and actual is not None and claimed != actual:
        raise OfficeNumberError(
            f"This number is for {_article(actual)} ({why}), not for {_article(claimed)}.", kind=kind
        )


def _article(right_type: RightType) -> str:
    return {
        RightType.INVENTION: "an invention",
        RightType.UTILITY_MODEL: "a utility model",
        RightType.DESIGN: "a design",
        RightType.PLANT: "a plant",
    }[right_type]


def _this_year() -> int:
    return datetime.date.today().year


# US application series codes: 02-19 utility and plant (series 19 opened in 2025; add 20 when
# the USPTO opens it), 29 design, 35 international design (Hague), 60-63 provisional,
# 90, 95 and 96 reexamination and supplemental examination.
_US_UTILITY_SERIES = range(2, 20)
_US_SERIES_DETAIL = {
    **dict.fromkeys(range(60, 64), "provisional"),
    29: "design",
    35: "international design",
    90: "ex parte reexamination",
    95: "inter partes reexamination",
    96: "supplemental examination",
}


def _build_us_application(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.US_APPLICATION
    series = int(match["series"])
    serial = _digits(match["serial"] or match["compact"]).zfill(6)
    if series not in _US_UTILITY_SERIES and series not in _US_SERIES_DETAIL:
        raise OfficeNumberError(f"{series:02d} is not a US application series code.", kind=kind)
    if int(serial) == 0:
        raise OfficeNumberError("The serial number cannot be zero.", kind=kind)
    detail = _US_SERIES_DETAIL.get(series, "")
    actual = RightType.DESIGN if series in (29, 35) else None
    if claimed == RightType.DESIGN and actual is None:
        raise OfficeNumberError(f"Series {series:02d} is not a design series (29 or 35).", kind=kind)
    if claimed is not None and claimed != RightType.DESIGN and actual == RightType.DESIGN:
        raise OfficeNumberError(f"Series {series:02d} is for design applications.", kind=kind)
    if claimed == RightType.UTILITY_MODEL:
        raise OfficeNumberError("The US grants no utility models.", kind=kind)
    return OfficeNumber(
        office=Office.US,
        kind=kind,
        canonical=f"{series:02d}{serial}",
        display=f"{series:02d}/{serial[:3]},{serial[3:]}",
        right_type=actual,
        detail=detail,
    )


def _us_granted_builder(
    kind: NumberKind, letters: str, display_letters: str, right_type: RightType | None, max_digits: int
) -> Callable[[re.Match[str], RightType | None], OfficeNumber]:
    def build(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
        digits = _digits(match["number"]).lstrip("0")
        if not digits:
            raise OfficeNumberError("The number cannot be zero.", kind=kind)
        if len(digits) > max_digits:
            raise OfficeNumberError(f"The number has {len(digits)} digits, at most {max_digits} exist.", kind=kind)
        if right_type is not None:
            _check_claim(claimed, right_type, kind=kind, why=f"{kind.label}")
        elif claimed == RightType.UTILITY_MODEL:
            raise OfficeNumberError("The US grants no utility models.", kind=kind)
        kind_code = match["kind_code"] or ""
        display = f"US {display_letters}{_us_grouped(digits)}"
        return OfficeNumber(
            office=Office.US,
            kind=kind,
            canonical=f"{letters}{digits}",
            display=f"{display} {kind_code}" if kind_code else display,
            kind_code=kind_code,
            right_type=right_type,
        )

    return build


def _build_us_publication(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.US_PUBLICATION
    year = int(match["year"])
    serial = match["serial"].zfill(7)
    # Pre-grant publication began on 15 March 2001.
    if not 2001 <= year <= _this_year():
        raise OfficeNumberError(f"{year} is not a year of US pre-grant publication (2001 onwards).", kind=kind)
    if int(serial) == 0:
        raise OfficeNumberError("The serial number cannot be zero.", kind=kind)
    kind_code = match["kind_code"] or ""
    actual = RightType.PLANT if kind_code.startswith("P") else None
    _check_claim(claimed, actual, kind=kind, why=f"kind code {kind_code}")
    if claimed in (RightType.DESIGN, RightType.UTILITY_MODEL):
        raise OfficeNumberError(f"The US publishes no {claimed.value.replace('_', ' ')} applications.", kind=kind)
    display = f"US {year}/{serial}"
    return OfficeNumber(
        office=Office.US,
        kind=kind,
        canonical=f"{year}{serial}",
        display=f"{display} {kind_code}" if kind_code else display,
        kind_code=kind_code,
        right_type=actual,
    )


# Trademark serial series: 70-79, 80-82 (old registrations given serials later), 85-88, 90, 97-99.
# The USPTO has used codes all over 70-99, so the whole range is accepted rather than a list that
# would refuse the next one it opens.
_US_TRADEMARK_SERIES = range(70, 100)


def _build_us_trademark_serial(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.US_TRADEMARK_SERIAL
    series = int(match["series"])
    serial = _digits(match["serial"] or match["compact"])
    if series not in _US_TRADEMARK_SERIES:
        raise OfficeNumberError(f"{series:02d} is not a US trademark serial series code (70-99).", kind=kind)
    return OfficeNumber(office=Office.US, kind=kind, canonical=f"{series}{serial}", display=f"{series}{serial}")


def _build_us_trademark_registration(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.US_TRADEMARK_REGISTRATION
    digits = _digits(match["number"]).lstrip("0")
    if not digits:
        raise OfficeNumberError("The number cannot be zero.", kind=kind)
    if len(digits) > 7:
        raise OfficeNumberError(f"The number has {len(digits)} digits, registration numbers have 7.", kind=kind)
    # TSDR pads old registrations to seven digits (0123456); we store them the same way.
    return OfficeNumber(office=Office.US, kind=kind, canonical=digits.zfill(7), display=_us_grouped(digits))


# CN application numbers: the type digit (5th of 12, 3rd of 8) says what the right is.
_CN_TYPES = {
    "1": (RightType.INVENTION, ""),
    "2": (RightType.UTILITY_MODEL, ""),
    "3": (RightType.DESIGN, ""),
    "8": (RightType.INVENTION, "PCT national phase"),
    "9": (RightType.UTILITY_MODEL, "PCT national phase"),
}
_CN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def cn_check_digit(digits: str) -> str:
    """The check character of a CN application number (8 or 12 digits): weighted sum mod 11, 10 as X."""
    if not (digits.isascii() and digits.isdigit() and len(digits) in (8, 12)):
        raise ValueError("A CN application number has 8 or 12 digits before its check digit.")
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, _CN_WEIGHTS, strict=False)) % 11
    return "X" if remainder == 10 else str(remainder)


def _build_cn_application(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.CN_APPLICATION
    body = match["body"]
    if len(body) == 12:
        year, type_digit, position = int(body[:4]), body[4], "5th"
        # The 12-digit form began on 1 October 2003.
        if not 2003 <= year <= _this_year():
            raise OfficeNumberError(f"{year} is not a filing year of the 12-digit form (2003 onwards).", kind=kind)
    else:
        year, type_digit, position = int(body[:2]), body[2], "3rd"
        if not (85 <= year <= 99 or year <= 3):
            raise OfficeNumberError(f"{body[:2]} is not a filing year of the 8-digit form (1985-2003).", kind=kind)
    if type_digit not in _CN_TYPES:
        raise OfficeNumberError(
            f"The {position} digit, {type_digit}, is no application type (1, 2, 3, 8 or 9).", kind=kind
        )
    if int(body[-7 if len(body) == 12 else -5 :]) == 0:
        raise OfficeNumberError("The serial number cannot be zero.", kind=kind)
    expected_check = cn_check_digit(body)
    check = match["check"]
    if check is not None and check != expected_check:
        raise OfficeNumberError(
            f"The check digit {check} is wrong for {body}; it would be {expected_check}, so a digit is mistyped.",
            kind=kind,
        )
    right_type, detail = _CN_TYPES[type_digit]
    _check_claim(claimed, right_type, kind=kind, why=f"{position} digit {type_digit}")
    if claimed == RightType.PLANT:
        raise OfficeNumberError("China protects plant varieties outside the patent system.", kind=kind)
    return OfficeNumber(
        office=Office.CN,
        kind=kind,
        canonical=f"{body}.{expected_check}",
        display=f"{body}.{expected_check}",
        right_type=right_type,
        detail=detail,
    )


# CN publication and grant numbers: the first digit is the type, the kind code must agree.
_CN_PUBLICATION_TYPES = {"1": RightType.INVENTION, "2": RightType.UTILITY_MODEL, "3": RightType.DESIGN}
_CN_KIND_CODES = {
    "A": RightType.INVENTION,
    "B": RightType.INVENTION,
    "C": RightType.INVENTION,
    "U": RightType.UTILITY_MODEL,
    "Y": RightType.UTILITY_MODEL,
    "S": RightType.DESIGN,
    "D": RightType.DESIGN,
}


def _build_cn_publication(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.CN_PUBLICATION
    number = match["number"]
    if number[0] not in _CN_PUBLICATION_TYPES:
        raise OfficeNumberError(f"The first digit, {number[0]}, is no publication type (1, 2 or 3).", kind=kind)
    right_type = _CN_PUBLICATION_TYPES[number[0]]
    kind_code = match["kind_code"] or ""
    if kind_code and _CN_KIND_CODES[kind_code[0]] != right_type:
        raise OfficeNumberError(
            f"Kind code {kind_code} does not fit a number starting with {number[0]} ({_article(right_type)}).",
            kind=kind,
        )
    _check_claim(claimed, right_type, kind=kind, why=f"first digit {number[0]}")
    display = f"CN {number}"
    return OfficeNumber(
        office=Office.CN,
        kind=kind,
        canonical=number,
        display=f"{display} {kind_code}" if kind_code else display,
        kind_code=kind_code,
        right_type=right_type,
    )


def _build_ep_application(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.EP_APPLICATION
    body = _digits(match["body"])
    year = int(body[:2])
    # The EPO opened in 1978; two-digit years run 78-99 then 00 to this year.
    if not (year >= 78 or year <= _this_year() % 100):
        raise OfficeNumberError(f"{body[:2]} is not a filing year of an EP application.", kind=kind)
    if claimed not in (None, RightType.INVENTION):
        raise OfficeNumberError("European patents are for inventions only.", kind=kind)
    # The check digit after the dot is kept for display but not verified: the EPO does not
    # publish its algorithm, and the register looks numbers up without it.
    check = match["check"] or ""
    return OfficeNumber(
        office=Office.EP,
        kind=kind,
        canonical=body,
        display=f"{body}.{check}" if check else body,
        right_type=RightType.INVENTION,
    )


def _build_ep_publication(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.EP_PUBLICATION
    digits = _digits(match["number"]).zfill(7)
    if int(digits) == 0:
        raise OfficeNumberError("The number cannot be zero.", kind=kind)
    if claimed not in (None, RightType.INVENTION):
        raise OfficeNumberError("European patents are for inventions only.", kind=kind)
    kind_code = match["kind_code"] or ""
    display = f"EP {digits[0]} {digits[1:4]} {digits[4:]}"
    return OfficeNumber(
        office=Office.EP,
        kind=kind,
        canonical=digits,
        display=f"{display} {kind_code}" if kind_code else display,
        kind_code=kind_code,
        right_type=RightType.INVENTION,
    )


def _build_eu_trade_mark(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.EU_TRADE_MARK
    number = match["number"]
    if int(number) == 0:
        raise OfficeNumberError("The number cannot be zero.", kind=kind)
    return OfficeNumber(office=Office.EU, kind=kind, canonical=number, display=number)


def _build_eu_design(match: re.Match[str], claimed: RightType | None) -> OfficeNumber:
    kind = NumberKind.EU_DESIGN
    application, design = match["application"], match["design"]
    if int(application) == 0 or int(design) == 0:
        raise OfficeNumberError("Neither the application nor the design number can be zero.", kind=kind)
    _check_claim(claimed, RightType.DESIGN, kind=kind, why="a registered Community design")
    number = f"{application}-{design}"
    return OfficeNumber(office=Office.EU, kind=kind, canonical=number, display=number, right_type=RightType.DESIGN)


_FORMAT_LIST = (
    _Format(
        kind=NumberKind.US_APPLICATION,
        office=Office.US,
        label="a US application number",
        expected="a 2-digit series code and a 6-digit serial number (provisional series 60-63)",
        examples=("16/123,456", "16123456"),
        pattern=(
            rf"(?P<prefix>US{_SEP})?"
            rf"(?P<series>\d{{2}})(?: ?/ ?(?P<serial>\d{{1,3}}[,./]\d{{3}}|\d{{1,6}})|(?P<compact>\d{{6}}))"
        ),
        build=_build_us_application,
    ),
    _Format(
        kind=NumberKind.US_PATENT,
        office=Office.US,
        label="a US patent number",
        expected="up to 8 digits, optionally with US before and the kind code A, B1 or B2 after",
        examples=("US 6,654,321 B2", "6654321"),
        pattern=(
            rf"(?P<prefix>US{_SEP})?"
            rf"(?P<number>{_US_DIGITS.format(groups=2, max=8)})(?:{_SEP}(?P<kind_code>B[12]|A))?"
        ),
        build=_us_granted_builder(NumberKind.US_PATENT, "", "", RightType.INVENTION, 8),
    ),
    _Format(
        kind=NumberKind.US_DESIGN_PATENT,
        office=Office.US,
        label="a US design patent number",
        expected="D and up to 7 digits, optionally with US before and the kind code S after",
        examples=("D654,321", "USD654321S"),
        pattern=(
            rf"(?P<prefix>(?:US{_SEP})?D) ?"
            rf"(?P<number>{_US_DIGITS.format(groups=2, max=7)})(?:{_SEP}(?P<kind_code>S))?"
        ),
        build=_us_granted_builder(NumberKind.US_DESIGN_PATENT, "D", "D", RightType.DESIGN, 7),
    ),
    _Format(
        kind=NumberKind.US_PLANT_PATENT,
        office=Office.US,
        label="a US plant patent number",
        expected="PP and up to 6 digits, optionally with US before and the kind code P2 or P3 after",
        examples=("PP12,345", "USPP12345P3"),
        pattern=(
            rf"(?P<prefix>(?:US{_SEP})?PP) ?"
            rf"(?P<number>{_US_DIGITS.format(groups=1, max=6)})(?:{_SEP}(?P<kind_code>P[23]?))?"
        ),
        build=_us_granted_builder(NumberKind.US_PLANT_PATENT, "PP", "PP", RightType.PLANT, 6),
    ),
    _Format(
        kind=NumberKind.US_REISSUE_PATENT,
        office=Office.US,
        label="a US reissue patent number",
        expected="RE and up to 6 digits, optionally with US before and the kind code E after",
        examples=("RE45,678", "USRE45678E"),
        pattern=(
            rf"(?P<prefix>(?:US{_SEP})?RE) ?"
            rf"(?P<number>{_US_DIGITS.format(groups=1, max=6)})(?:{_SEP}(?P<kind_code>E1?))?"
        ),
        build=_us_granted_builder(NumberKind.US_REISSUE_PATENT, "RE", "RE", None, 6),
    ),
    _Format(
        kind=NumberKind.US_PUBLICATION,
        office=Office.US,
        label="a US publication number",
        expected="a 4-digit year and a 7-digit serial number, optionally with US before and the kind code A1 after",
        examples=("US 2019/0123456 A1", "US20190123456A1"),
        pattern=(
            rf"(?P<prefix>US{_SEP})?"
            rf"(?P<year>(?:19|20)\d\d) ?[/-]? ?(?P<serial>\d{{6,7}})(?:{_SEP}(?P<kind_code>A[129]|P[149]))?"
        ),
        build=_build_us_publication,
    ),
    _Format(
        kind=NumberKind.US_TRADEMARK_SERIAL,
        office=Office.US,
        label="a US trademark serial number",
        expected="8 digits, a 2-digit series code and a 6-digit serial number",
        examples=("76044902", "76/044,902"),
        pattern=(
            r"(?P<prefix>(?:US ?)?(?:SN ?)?)"
            r"(?P<series>\d{2})(?: ?/ ?(?P<serial>\d{3}[,.]?\d{3})|(?P<compact>\d{6}))"
        ),
        build=_build_us_trademark_serial,
    ),
    _Format(
        kind=NumberKind.US_TRADEMARK_REGISTRATION,
        office=Office.US,
        label="a US trademark registration number",
        expected="7 digits",
        examples=("2178784", "2,178,784", "Reg. No. 2178784"),
        pattern=rf"(?P<prefix>(?:US ?)?(?:REG ?)?)(?P<number>{_US_DIGITS.format(groups=2, max=7)})",
        build=_build_us_trademark_registration,
    ),
    _Format(
        kind=NumberKind.CN_APPLICATION,
        office=Office.CN,
        label="a CN application number",
        expected="12 digits (8 before October 2003), a dot and the check digit (0-9 or X)",
        examples=("201710431918.5", "CN201710431918.5"),
        pattern=r"(?P<prefix>(?:CN|ZL) ?-?)?(?P<body>\d{12}|\d{8})(?: ?\.? ?(?P<check>[0-9X]))?",
        build=_build_cn_application,
    ),
    _Format(
        kind=NumberKind.CN_PUBLICATION,
        office=Office.CN,
        label="a CN publication or grant number",
        expected="CN and 9 digits (7 before 2007), optionally with the kind code A, B, U or S after",
        examples=("CN 108123456 A", "CN108123456B"),
        pattern=rf"(?P<prefix>CN{_SEP})?(?P<number>\d{{9}}|\d{{7}})(?:{_SEP}(?P<kind_code>[ABCUYSD]))?",
        build=_build_cn_publication,
        detect_needs_prefix=True,
    ),
    _Format(
        kind=NumberKind.EP_APPLICATION,
        office=Office.EP,
        label="an EP application number",
        expected="8 digits (2-digit year and 6 digits), optionally with EP before and the check digit after a dot",
        examples=("EP 18123456.7", "18123456"),
        pattern=r"(?P<prefix>EP ?-?)?(?P<body>\d{2} ?\d{3} ?\d{3})(?: ?\. ?(?P<check>\d))?",
        build=_build_ep_application,
        detect_needs_prefix=True,
    ),
    _Format(
        kind=NumberKind.EP_PUBLICATION,
        office=Office.EP,
        label="an EP publication number",
        expected="EP and 7 digits, optionally with a kind code such as A1 or B1 after",
        examples=("EP 1 234 567 A1", "EP1234567B1"),
        pattern=(
            rf"(?P<prefix>EP{_SEP})?"
            rf"(?P<number>\d(?: \d{{3}}){{2}}|\d{{1,7}})(?:{_SEP}(?P<kind_code>A[1-489]|B[1-389]))?"
        ),
        build=_build_ep_publication,
        detect_needs_prefix=True,
    ),
    _Format(
        kind=NumberKind.EU_TRADE_MARK,
        office=Office.EU,
        label="an EU trade mark number",
        expected="9 digits with their leading zeros",
        examples=("018123456", "EUTM 018123456"),
        pattern=r"(?P<prefix>(?:EUTM|CTM|EU|EM) ?-?)?(?P<number>\d{9})",
        build=_build_eu_trade_mark,
    ),
    _Format(
        kind=NumberKind.EU_DESIGN,
        office=Office.EU,
        label="an EU design number",
        expected="the 9-digit application number, a hyphen and the 4-digit design number",
        examples=("000123456-0001",),
        pattern=r"(?P<prefix>(?:RCD|EU|EM) ?-?)?(?P<application>\d{9}) ?- ?(?P<design>\d{4})",
        build=_build_eu_design,
    ),
)
_FORMATS = {spec.kind: spec for spec in _FORMAT_LIST}
_FULL = {spec.kind: re.compile(spec.pattern) for spec in _FORMAT_LIST}
_FREE = {spec.kind: re.compile(rf"(?<![A-Z0-9])(?:{spec.pattern})(?![A-Z0-9])") for spec in _FORMAT_LIST}

NUMBER_KIND_CHOICES = [(kind.value, spec.label[spec.label.index(" ") + 1 :]) for kind, spec in _FORMATS.items()]


def normalise(text: str, *, kind: NumberKind | str, right_type: RightType | str | None = None) -> OfficeNumber:
    """The number `text` as a number of `kind`, or OfficeNumberError.

    `right_type` is what the person says the right is; where the number itself tells (a CN type
    digit, a US design series), a contradiction is an error.
    """
    kind = NumberKind(kind)
    claimed = RightType(right_type) if right_type else None
    if not isinstance(text, str) or not text.strip():
        raise OfficeNumberError("No number was given.", kind=kind)
    if len(text) > MAX_NUMBER_LENGTH:
        raise OfficeNumberError(f"That is {len(text):,} characters long, not a number.", kind=kind)
    match = _FULL[kind].fullmatch(_clean(text))
    if match is None:
        raise OfficeNumberError(f"“{text.strip()}” is not written as {_FORMATS[kind].label}.", kind=kind)
    return _FORMATS[kind].build(match, claimed)


def detect(text: str) -> list[OfficeNumber]:
    """Every office number that a span of `text` can be, the most specific spans first.

    A bare run of digits counts when it has at least seven (so that "2019" or "500" in a query
    is not a patent); with a prefix or kind code ("D654,321", "RE45,678") five are enough. A span
    inside a longer one is dropped: "US 6,654,321 B2" is a patent, not also a trademark
    registration "US 6,654,321".
    """
    cleaned = _clean(text[:MAX_DETECT_LENGTH])
    found: list[tuple[int, int, OfficeNumber]] = []
    for spec in _FORMAT_LIST:
        for match in _FREE[spec.kind].finditer(cleaned):
            span = match.group(0)
            digit_count = sum(character.isdigit() for character in span)
            has_prefix = bool(match["prefix"]) or bool(match.groupdict().get("kind_code"))
            if spec.detect_needs_prefix and not match["prefix"]:
                continue
            if digit_count < 5 or (not has_prefix and digit_count < 7):
                continue
            try:
                number = spec.build(match, None)
            except OfficeNumberError:
                continue
            found.append((match.start(), match.end(), number))
    outer = [
        (start, end, number)
        for start, end, number in found
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in found)
    ]
    outer.sort(key=lambda item: (item[0] - item[1], item[0]))
    seen: set[tuple[NumberKind, str]] = set()
    candidates = []
    for _, _, number in outer:
        if (number.kind, number.canonical) not in seen:
            seen.add((number.kind, number.canonical))
            candidates.append(number)
    return candidates
