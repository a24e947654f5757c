"""Reading the text back out of a receipt PDF, without a PDF library: the page streams are
inflated, and each string shown (`(...) Tj`) decoded in the font it is set in: WinAnsi for
the standard fonts, UCS-2 for the Adobe CJK fonts. Text in an embedded TrueType subset (Vera)
reads as "\ufffd" per glyph, which the tests do not look for. (This module holds no tests.)"""

from __future__ import annotations

import base64
import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", re.S)
_FONT_RESOURCE = re.compile(rb"/(F[\w+]+) (\d+) 0 R")
_SHOW = re.compile(rb"/(F[\w+]+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    index = 0
    while index < len(raw):
        byte = raw[index : index + 1]
        if byte != b"\\":
            out += byte
            index += 1
            continue
        following = raw[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(), 8))
            index += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def pdf_fonts(content: bytes) -> dict[str, str]:
    """Font resource name (F1, F3...) to its base font (Helvetica, STSong-Light...)."""
    objects = {int(number): body for number, body in _OBJECT.findall(content)}
    fonts = {}
    for body in objects.values():
        for name, number in _FONT_RESOURCE.findall(body):
            base = re.search(rb"/BaseFont /([\w+-]+)", objects.get(int(number), b""))
            if base:
                fonts[name.decode()] = base.group(1).decode()
    return fonts


def pdf_text(content: bytes) -> str:
    """The text of every page, one shown string per line."""
    fonts = pdf_fonts(content)
    shown: list[str] = []
    streams = [match.groups() for _, body in _OBJECT.findall(content) if (match := _STREAM.search(body))]
    for header, raw_stream in streams:
        if b"FlateDecode" not in header or b"Length1" in header:
            continue  # an embedded font program, not a page
        data = raw_stream.strip()
        if b"ASCII85Decode" in header:
            data = base64.a85decode(data.removesuffix(b"~>"))
        page = zlib.decompress(data)
        font = ""
        for match in _SHOW.finditer(page):
            if match.group(1):
                font = fonts.get(match.group(1).decode(), "")
                continue
            raw = _unescape(match.group(2))
            if font in ("STSong-Light", "HYSMyeongJo-Medium"):
                shown.append(raw.decode("utf-16-be", errors="replace"))
            elif font.startswith("Helvetica"):
                shown.append(raw.decode("cp1252", errors="replace"))
            else:
                shown.append("\ufffd" * len(raw))
    return "\n".join(shown)
