"""`manage.py replay_stripe_events --since 2026-11-01T00:00`: fetch Stripe's events since then,
store the ones we missed and process every one still unprocessed. Running it twice changes
nothing the second time."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from escrow import stripe_gateway
from escrow.webhooks import stripe_events_replay


def _since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since takes an ISO 8601 time such as 2026-11-01T00:00, not {text!r}.") from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    if moment > timezone.now():
        raise CommandError("--since is in the future; there is nothing to replay.")
    return moment


class Command(BaseCommand):
    help = "Store and process the Stripe events created since a time that the webhook missed or failed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--since", required=True, help="ISO 8601 time (UTC when no offset), e.g. 2026-11-01T00:00")

    def handle(self, *args: Any, **options: Any) -> None:
        since = _since(options["since"])
        try:
            report = stripe_events_replay(events=stripe_gateway.events_list(created_from=since), since=since)
        except stripe_gateway.StripeGatewayError as error:
            raise CommandError(f"Stripe's events could not be listed: {error}") from error
        self.stdout.write(
            f"Listed {report.listed} event(s) since {since.isoformat()}: stored {report.stored} new, "
            f"processed {report.processed}, failed {report.failed}."
        )
        if report.failed:
            raise CommandError(f"{report.failed} event(s) failed to process; see their processing_error.")
