"""The offices' wire formats, rendered from the sandbox's rows: one module per office.

Each module turns `RegisterEntry` rows (with their parties, events and assignments) into the
bytes the real service would send, shaped after the recorded real responses in
`SHARED_DATA_DIR/registry`. Fields the office leaves out when it has no value are left out here
too, so a client cannot mistake an unknown for an empty value.
"""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree as ET


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def compact(day: date | None) -> str:
    """INPADOC's and DOCDB's dates: 20000517."""
    return day.strftime("%Y%m%d") if day else ""


def without_empty(data: dict[str, object]) -> dict[str, object]:
    """The office sends only fields that have data."""
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    """A child element; tags carry their prefix literally ("ns2:Trademark"), the root declares them."""
    node = ET.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        node.text = str(text)
    return node


def xml_bytes(root: ET.Element, *, stylesheet: str = "") -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>'
    return (head + "\n" + ET.tostring(root, encoding="unicode")).encode("utf-8")
