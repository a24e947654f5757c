"""The ledger in the staff admin: finance sees everything, nobody can add, change or delete."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.staff import FINANCE, staff_groups_sync
from escrow.ledger import journal_post
from escrow.models import Entry, Journal, JournalKind
from marketplace.money import Money
from tests.escrow.conftest import Books, ledger_state
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client: Client) -> Client:
    staff_groups_sync()
    clerk = UserFactory.create(is_staff=True)
    clerk.groups.add(Group.objects.get(name=FINANCE))
    client.force_login(clerk)
    return client


def test_finance_sees_entries_with_their_journal_account_and_formatted_amount(
    finance_client: Client, books: Books
) -> None:
    journal_post(
        kind=JournalKind.DEAL_RELEASED,
        idempotency_key="deal:1:released",
        lines=[(books.escrow, Money(123_456, "USD") - Money(23_456, "USD")), (books.payable, Money(-100_000, "USD"))],
        description="Deal 1 released",
    )

    response = finance_client.get(reverse("admin:escrow_entry_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Dr 1,000.00 USD" in page
    assert "Cr 1,000.00 USD" in page
    assert "Escrow released to the seller" in page
    assert "Buyer escrow of user #" in page


def test_finance_sees_account_balances_and_journals(finance_client: Client, books: Books) -> None:
    accounts_page = finance_client.get(reverse("admin:escrow_ledgeraccount_changelist"))
    journal = Journal.objects.get()
    journal_page = finance_client.get(reverse("admin:escrow_journal_change", args=[journal.pk]))

    assert accounts_page.status_code == 200
    assert "1,000.00 USD" in accounts_page.content.decode()
    assert journal_page.status_code == 200
    assert "Cr 1,000.00 USD" in journal_page.content.decode()


def test_nobody_can_add_change_or_delete_ledger_rows_in_the_admin(client: Client, books: Books) -> None:
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    entry = Entry.objects.first()
    assert entry is not None
    before = ledger_state(books)

    assert client.get(reverse("admin:escrow_entry_add")).status_code == 403
    assert client.get(reverse("admin:escrow_journal_add")).status_code == 403
    assert client.get(reverse("admin:escrow_ledgeraccount_add")).status_code == 403
    assert client.post(reverse("admin:escrow_entry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:escrow_entry_change", args=[entry.pk]), {"amount": "1", "currency": "USD"})
    assert response.status_code == 403
    assert ledger_state(books) == before
