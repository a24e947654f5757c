"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from listings.classification import facet_labels_forget
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_facet_labels():
    # Each process keeps the classification titles it has read; each test has its own tables.
    facet_labels_forget()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()
