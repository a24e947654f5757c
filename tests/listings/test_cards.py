"""The result cards' display strings match what the templates' filters made of the same facts."""

from __future__ import annotations

import pytest
from django.utils.text import Truncator

from listings import cards


@pytest.mark.parametrize(
    "abstract",
    [
        "",
        "One word",
        " ".join(f"word{n}" for n in range(40)),
        " ".join(f"word{n}" for n in range(41)),
        "A method\nfor  sensing\t" + " ".join("light" for _ in range(60)),
        " ".join("…" for _ in range(45)),
    ],
)
def test_an_abstract_is_cut_as_truncatewords_cuts_it(abstract):
    expected = Truncator(abstract).words(cards.ABSTRACT_WORDS, truncate=" …") if abstract else ""
    assert cards.abstract_excerpt(abstract) == expected


def test_a_public_name_is_the_users():
    from accounts.models import User

    for fields in (
        {"display_name": "Ada", "organisation": "Analytical Engines", "email": "ada@example.com"},
        {"display_name": "", "organisation": "Analytical Engines", "email": "ada@example.com"},
        {"display_name": "", "organisation": "", "email": "ada@example.com"},
    ):
        assert cards.public_name(**fields) == User(**fields).public_name
