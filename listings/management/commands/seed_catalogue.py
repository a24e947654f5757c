from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from listings import catalogue
from listings.classification import classification_load
from listings.models import Right


class Command(BaseCommand):
    help = (
        "Seed the demo catalogue on first start: the classification tables, then the NASA portfolio, "
        "the PatentsView and Google Patents records and some US copyright renewals from SHARED_DATA_DIR, "
        "or the project's small sample when that folder is absent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--copyrights", type=int, default=3000, help="How many copyright renewals to list.")
        parser.add_argument("--force", action="store_true", help="Import even if a catalogue is already there.")

    def handle(self, *args: Any, copyrights: int, force: bool, **options: Any) -> None:
        if Right.objects.filter(facts_source__in=catalogue.SEED_SOURCES).exists() and not force:
            self.stdout.write("The demo catalogue is already seeded.")
            return
        classification = classification_load()
        self.stdout.write(f"Classification tables: {classification}")
        data = Path(settings.SHARED_DATA_DIR) / "catalogue"
        if not data.is_dir():
            data = catalogue.SAMPLE_DIR
            self.stdout.write(f"{settings.SHARED_DATA_DIR} has no catalogue: seeding the project's sample.")
        for title, rows in catalogue.seed_sources(data, copyrights=copyrights):
            report = catalogue.catalogue_import(rows, publish=True, one_seller_per_right=True)
            self.stdout.write(
                f"{title}: {report.created_listings} listings, {report.created_rights} new rights, "
                f"{report.reused_rights} rights already known, {report.skipped} repeated, "
                f"{len(report.rejected)} rows refused"
            )
