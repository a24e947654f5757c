from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from listings.classification import ClassificationError, classification_load


class Command(BaseCommand):
    help = (
        "Load the CPC symbols and Nice classes from SHARED_DATA_DIR/classification, or from the table the"
        " project ships when that folder is absent. Safe to run again: only differences are written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", type=Path, help="A folder in the same layout, instead of the default.")
        parser.add_argument(
            "--cpc-sections", default="", help="Only these CPC sections, e.g. GH (default: every section)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sections = set(options["cpc_sections"].upper()) or None
        try:
            report = classification_load(source=options["source"], cpc_sections=sections)
        except ClassificationError as error:
            raise CommandError(f"Nothing was loaded: {error}") from error
        origin = "the project's shipped table" if report.shipped else "the shared data"
        self.stdout.write(f"Source: {report.source} ({origin})")
        self.stdout.write(f"CPC symbols: {report.cpc}")
        self.stdout.write(f"Nice classes: {report.nice_classes}")
        self.stdout.write(f"Nice terms: {report.nice_terms}")
        if not report.changed:
            self.stdout.write("Nothing changed.")
