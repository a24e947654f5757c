from typing import Any

from django.core.management.base import BaseCommand

from accounts.staff import staff_groups_sync


class Command(BaseCommand):
    help = "Create the staff groups (verification reviewers, filing agents, finance) and grant their permissions."

    def handle(self, *args: Any, **options: Any) -> None:
        for group, count in staff_groups_sync().items():
            self.stdout.write(f"{group}: {count} permissions")
