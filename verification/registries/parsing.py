"""Safe loading of registry XML and JSON, and lookups by local element name.

The offices change namespace URIs between schema versions (TSDR's ST.96 moved from
`.../Trademark/1` to `.../ST96/Trademark`) while keeping element names, so the parsers match
elements by local name and never by prefix or URI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from verification.registries.http import RegistryMalformed, looks_like_html


def load_xml(body: bytes | str, *, office: str, url: str = "") -> Element:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise RegistryMalformed("empty body where XML was expected", office=office, url=url)
    if looks_like_html(raw):
        raise RegistryMalformed("an HTML page where XML was expected", office=office, url=url)
    try:
        root: Element = SafeET.fromstring(raw)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise RegistryMalformed(f"malformed XML: {exc}", office=office, url=url) from exc
    return root


def load_json(body: bytes | str, *, office: str, url: str = "") -> Any:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise RegistryMalformed("empty body where JSON was expected", office=office, url=url)
    if looks_like_html(raw):
        raise RegistryMalformed("an HTML page where JSON was expected", office=office, url=url)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RegistryMalformed(f"malformed JSON: {exc}", office=office, url=url) from exc


def local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1] if "}" in text else text.rsplit(":", 1)[-1]


def children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [c for c in element if local(c.tag) == name]


def child(element: Element | None, name: str) -> Element | None:
    found = children(element, name)
    return found[0] if found else None


def descendants(element: Element | None, name: str) -> Iterator[Element]:
    if element is None:
        return
    for node in element.iter():
        if local(node.tag) == name:
            yield node


def first(element: Element | None, name: str) -> Element | None:
    return next(descendants(element, name), None)


def text_of(element: Element | None, *path: str) -> str:
    """Text at a path of local names below `element` (direct children at each step); '' if absent."""
    node = element
    for name in path:
        node = child(node, name)
        if node is None:
            return ""
    return (node.text or "").strip() if node is not None else ""


def attr(element: Element | None, name: str) -> str:
    """An attribute by local name, whatever its namespace."""
    if element is None:
        return ""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return ""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def clean(value: Any) -> str:
    """A JSON scalar as display text: None and the Solr placeholder 'NULL' become ''."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return "" if text.upper() == "NULL" else text
