"""`manage.py reconcile_stripe --date 2026-11-23`: compare one UTC day of Stripe's balance
transactions with the ledger, print every difference, exit 1 when there is any."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from escrow.stripe_gateway import StripeGatewayError
from escrow.stripe_reconciliation import stripe_reconcile


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date takes a day as YYYY-MM-DD, not {text!r}.") from None


class Command(BaseCommand):
    help = "Compare one day of Stripe balance transactions with the ledger and report every difference."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--date", required=True, help="The UTC day to reconcile, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _date(options["date"])
        try:
            differences = stripe_reconcile(day=day)
        except StripeGatewayError as error:
            raise CommandError(f"Stripe could not be read: {error}") from error
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s) between Stripe and the ledger on {day}.")
        self.stdout.write(f"{day}: the ledger agrees with Stripe.")
