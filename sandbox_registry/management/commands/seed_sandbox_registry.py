"""`manage.py seed_sandbox_registry`: fill the sandbox register from the shared public data (the
registry responses and the demo catalogue's patents), or from the app's own small sample when
`SHARED_DATA_DIR` is absent. Idempotent: rights and conveyances already held are left alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from sandbox_registry.sample import sample_seeds
from sandbox_registry.seeding import shared_data_read
from sandbox_registry.services import register_seed


class Command(BaseCommand):
    help = "Seed the sandbox registry from SHARED_DATA_DIR (or the shipped sample), without duplicating."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sample", action="store_true", help="Seed only the shipped sample.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        folder = Path(settings.SHARED_DATA_DIR)
        today = timezone.localdate()
        if options["sample"] or not (folder / "registry").is_dir():
            if not options["sample"]:
                self.stdout.write(f"{folder} has no registry folder: seeding the shipped sample.")
            seeds = sample_seeds(today=today)
        else:
            seeds = shared_data_read(folder, today=today)
        report = register_seed(seeds=seeds)
        for source, count in sorted(report.sources.items()):
            self.stdout.write(f"  {source}: {count} rights read")
        self.stdout.write(
            self.style.SUCCESS(
                f"Sandbox registry: {report.entries_created} rights created ({report.entries_present} already held, "
                f"{report.numbers_assigned} application numbers assigned in series 99), "
                f"{report.parties_created} parties, {report.events_created} events, "
                f"{report.assignments_created} assignments created ({report.assignments_present} already held) "
                f"in {time.monotonic() - started:.1f}s."
            )
        )
