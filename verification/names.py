"""Owner names as registers write them, compared with a seller's legal name.

The offices write one company many ways: "ORACLE AMERICA INC", "Oracle America, Inc.",
"WANG, MARVIN" for Marvin Wang, "华为技术有限公司". Normalising takes away what carries no
identity (case, punctuation, accents, a leading "The", the corporate form); what remains is
compared exactly, and failing that by a similarity score that staff see beside the names. A
score never proves ownership on its own: below `VERIFICATION_NAME_MATCH_THRESHOLD` (1.0 by
default, i.e. only exact normalised matches) the run goes to review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

# Corporate forms, written as they are after normalisation (lower case, no punctuation). Several
# words form one suffix ("limited liability company"); longest first so that they win.
_SUFFIXES = sorted(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "l l c",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "gmbh co kg",
        "se",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "kk",
        "pty",
        "pty ltd",
        "pte",
        "pte ltd",
        "co ltd",
        "limited liability company",
        "public limited company",
        "kabushiki kaisha",
    },
    key=lambda s: -len(s),
)
# Chinese corporate forms, matched as characters at the end of the name.
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司", "株式会社")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_normalise(name: str) -> str:
    """The part of a name that identifies its holder: 'The Oracle America, Inc.' -> 'oracle america'."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    for suffix in _CJK_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    text = _strip_accents(text).casefold().replace("&", " and ")
    # Dots inside abbreviations join ("L.L.C." -> "llc"); other punctuation separates words.
    text = re.sub(r"(?<=\b\w)\.(?=\w\b)", "", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    joined = " ".join(words)
    changed = True
    while changed and joined:
        changed = False
        for suffix in _SUFFIXES:
            if joined.endswith(" " + suffix):
                joined = joined[: -len(suffix) - 1].rstrip()
                changed = True
                break
    return joined


def _tokens(normalised: str) -> list[str]:
    if _CJK.search(normalised):
        # Chinese names have no spaces: compare character by character.
        return [c for c in normalised if not c.isspace()]
    return normalised.split()


def name_match_score(a: str, b: str) -> float:
    """0.0 to 1.0: 1.0 when the normalised names are equal (word order aside: registers write
    people as 'WANG, MARVIN'); otherwise the better of a plain and a word-sorted similarity."""
    left, right = name_normalise(a), name_normalise(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    left_tokens, right_tokens = _tokens(left), _tokens(right)
    if sorted(left_tokens) == sorted(right_tokens):
        return 1.0
    plain = SequenceMatcher(None, left, right).ratio()
    joiner = "" if _CJK.search(left + right) else " "
    ordered = SequenceMatcher(None, joiner.join(sorted(left_tokens)), joiner.join(sorted(right_tokens))).ratio()
    # Never round a near miss up to an exact match.
    return min(round(max(plain, ordered), 3), 0.999)


@dataclass(frozen=True)
class NameMatch:
    seller_name: str
    owner_name: str  # the owner of record that came closest ("" when the register names none)
    score: float

    @property
    def exact(self) -> bool:
        return self.score >= 1.0


def owner_match(*, seller_name: str, owner_names: Iterable[str]) -> NameMatch:
    """The owner of record closest to the seller's legal name, with its score."""
    best = NameMatch(seller_name=seller_name, owner_name="", score=0.0)
    for owner in owner_names:
        score = name_match_score(seller_name, owner)
        if score > best.score or not best.owner_name:
            best = NameMatch(seller_name=seller_name, owner_name=owner, score=score)
    return best


def text_mentions_name(*, text: str, name: str) -> bool:
    """Whether a free text (a listing's description) names this party, after normalisation."""
    wanted = name_normalise(name)
    if not wanted:
        return False
    haystack = " ".join(_tokens(name_normalise(text))) if not _CJK.search(wanted) else name_normalise(text)
    needle = " ".join(_tokens(wanted)) if not _CJK.search(wanted) else wanted
    return f" {needle} " in f" {haystack} " if not _CJK.search(wanted) else needle in haystack
