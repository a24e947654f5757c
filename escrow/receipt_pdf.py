"""Drawing a receipt as a PDF (A4), the one module that imports reportlab.

Names and titles come in any script. Latin text is set in Helvetica (one of the PDF's standard
fonts: nothing embedded, the text stays searchable); characters beyond it that Bitstream Vera
has (Central European letters: Ł, ő, č...) in Vera, which reportlab ships and which is embedded
as a subset; Chinese and Japanese in STSong-Light and Korean in HYSMyeongJo-Medium, the Adobe
Asian fonts that every PDF reader has or substitutes (not embedded, so a receipt stays small).
Anything else degrades to its unaccented letters (NFKD) or "?", never to an error or a blank.
Drawn with `invariant`, so one receipt always gives the same bytes.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from functools import cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from escrow.receipts import Receipt
from marketplace.money import money_format

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
BODY = 10
SMALL = 8

LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
EXTENDED, EXTENDED_BOLD = "Vera", "VeraBd"
CHINESE, KOREAN = "STSong-Light", "HYSMyeongJo-Medium"


@cache
def _fonts() -> frozenset[int]:
    """Register the fonts once per process; the code points Vera has."""
    vera = TTFont(EXTENDED, "Vera.ttf")
    pdfmetrics.registerFont(vera)
    pdfmetrics.registerFont(TTFont(EXTENDED_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFont(UnicodeCIDFont(CHINESE))
    pdfmetrics.registerFont(UnicodeCIDFont(KOREAN))
    return frozenset(vera.face.charToGlyph)


def _in_latin(char: str) -> bool:
    try:
        char.encode("cp1252")  # the standard fonts' WinAnsi encoding
    except UnicodeEncodeError:
        return False
    return True


def _is_hangul(code: int) -> bool:
    return 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def _font_of(char: str, *, bold: bool) -> tuple[str, str]:
    """(font, the character as drawn) for one character."""
    if _in_latin(char):
        return (LATIN_BOLD if bold else LATIN), char
    code = ord(char)
    if code in _fonts():
        return (EXTENDED_BOLD if bold else EXTENDED), char
    if _is_hangul(code):
        return KOREAN, char
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return CHINESE, char
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if folded and all(_in_latin(c) for c in folded):
        return (LATIN_BOLD if bold else LATIN), folded
    return (LATIN_BOLD if bold else LATIN), "?"


def text_runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """The text as (font, text) runs, each drawable in its font."""
    runs: list[tuple[str, str]] = []
    for char in text:
        if not char.isprintable():
            char = " "  # noqa: PLW2901 - tabs and newlines inside a field read as a space
        font, drawn = _font_of(char, bold=bold)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + drawn)
        else:
            runs.append((font, drawn))
    return runs


def text_width(text: str, *, size: float, bold: bool = False) -> float:
    return sum(pdfmetrics.stringWidth(part, font, size) for font, part in text_runs(text, bold=bold))


def _tokens(text: str) -> Iterator[str]:
    """Words with their following space; each wide (CJK) character is a token of its own."""
    word = ""
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if word:
                yield word
                word = ""
            yield char
        elif char == " ":
            yield word + " "
            word = ""
        else:
            word += char
    if word:
        yield word


def wrap(text: str, *, width: float, size: float, bold: bool = False) -> list[str]:
    """The text in lines no wider than `width`; a word longer than a line is cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            if text_width(line + token, size=size, bold=bold) <= width or not line:
                line += token
            else:
                lines.append(line.rstrip())
                line = token
            while text_width(line.rstrip(), size=size, bold=bold) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and text_width(line[:cut], size=size, bold=bold) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


class _Page:
    """A cursor down the page that starts a new page when the next line would not fit."""

    def __init__(self, canvas: Canvas, receipt: Receipt) -> None:
        self.canvas = canvas
        self.receipt = receipt
        self.y = PAGE_HEIGHT - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 12 * mm:
            self._footer()
            self.canvas.showPage()
            self.y = PAGE_HEIGHT - MARGIN

    def text(self, x: float, text: str, *, size: float = BODY, bold: bool = False, right: bool = False) -> None:
        if right:
            x -= text_width(text, size=size, bold=bold)
        for font, part in text_runs(text, bold=bold):
            self.canvas.setFont(font, size)
            self.canvas.drawString(x, self.y, part)
            x += pdfmetrics.stringWidth(part, font, size)

    def line(self, text: str, *, x: float = MARGIN, size: float = BODY, bold: bool = False, gap: float = 1.45) -> None:
        for part in wrap(text, width=PAGE_WIDTH - MARGIN - x, size=size, bold=bold):
            self.need(size * gap)
            self.y -= size * gap
            self.text(x, part, size=size, bold=bold)

    def field(self, label: str, value: str, *, size: float = BODY) -> None:
        """A label in the left column and its value, wrapped, in the right."""
        column = MARGIN + 42 * mm
        parts = wrap(value, width=PAGE_WIDTH - MARGIN - column, size=size) or [""]
        for index, part in enumerate(parts):
            self.need(size * 1.45)
            self.y -= size * 1.45
            if index == 0:
                self.text(MARGIN, label, size=size, bold=True)
            self.text(column, part, size=size)

    def space(self, height: float) -> None:
        self.y -= height

    def rule(self) -> None:
        self.need(4)
        self.y -= 4
        self.canvas.setLineWidth(0.5)
        self.canvas.line(MARGIN, self.y, PAGE_WIDTH - MARGIN, self.y)

    def _footer(self) -> None:
        self.canvas.setFont(LATIN, SMALL)
        self.canvas.drawString(
            MARGIN, MARGIN, f"IP Marketplace receipt {self.receipt.number}, drawn from the platform's ledger."
        )

    def finish(self) -> None:
        self._footer()
        self.canvas.showPage()


def _party_lines(receipt: Receipt) -> list[str]:
    party = receipt.party
    name = party.legal_name or party.get_full_name() or party.email
    lines = [name]
    if party.organisation and party.organisation != name:
        lines.append(party.organisation)
    lines += [line for line in party.legal_address.splitlines() if line.strip()]
    lines.append(party.email)
    return lines


def receipt_pdf_render(receipt: Receipt) -> bytes:
    """The receipt as a one-page (or longer, for very long names) A4 PDF."""
    _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(f"Receipt {receipt.number}: {receipt.title}")
    canvas.setAuthor("IP Marketplace")
    canvas.setSubject(receipt.title)
    page = _Page(canvas, receipt)
    right = PAGE_WIDTH - MARGIN

    page.y -= 16
    page.text(MARGIN, "IP Marketplace", size=16, bold=True)
    page.text(right, "RECEIPT", size=14, bold=True, right=True)
    page.y -= 14
    page.text(right, f"No. {receipt.number}", right=True)
    page.y -= 13
    page.text(right, f"Issued {receipt.issued_at:%d %b %Y %H:%M} UTC", right=True)
    page.space(10)
    page.line(receipt.title, size=14, bold=True)
    page.space(6)

    for index, text in enumerate(_party_lines(receipt)):
        page.field(receipt.party_label if index == 0 else "", text)
    for label, value in receipt.subject:
        page.field(label, value)
    page.field("Currency", receipt.currency)
    page.space(8)

    # The amounts: description on the left, amount on the right, the total below a rule.
    page.need(14)
    page.y -= 14
    page.text(MARGIN, "Description", bold=True)
    page.text(right, f"Amount ({receipt.currency})", bold=True, right=True)
    page.rule()
    amount_column = 40 * mm
    for line in receipt.lines:
        if line.total:
            page.rule()
        parts = wrap(line.label, width=PAGE_WIDTH - 2 * MARGIN - amount_column, size=BODY, bold=line.total)
        for index, part in enumerate(parts):
            page.need(BODY * 1.6)
            page.y -= BODY * 1.6
            page.text(MARGIN, part, bold=line.total)
            if index == 0:
                page.text(right, money_format(line.amount), bold=line.total, right=True)
    page.space(12)

    for label, value in receipt.references:
        page.field(label, value, size=SMALL + 1)
    if receipt.note:
        page.space(8)
        page.line(receipt.note, size=SMALL + 1)
    page.finish()
    canvas.save()
    return buffer.getvalue()
