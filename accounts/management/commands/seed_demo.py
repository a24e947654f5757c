import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.staff import STAFF_GROUP_PERMISSIONS, staff_groups_sync

DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": "buyer@demo.ip-marketplace.local",
        "display_name": "Demo Buyer",
        "organisation": "Acme Licensing Ltd",
        "country": "GB",
        "legal_name": "Acme Licensing Ltd",
        "legal_address": "1 Example Street, London EC1A 1AA, United Kingdom",
    },
    {
        "email": "seller@demo.ip-marketplace.local",
        "display_name": "Demo Seller",
        "organisation": "Example Innovations Inc.",
        "country": "US",
        "legal_name": "Example Innovations Inc.",
        "legal_address": "100 Main Street, Springfield, IL 62701, United States",
    },
    {
        "email": "staff@demo.ip-marketplace.local",
        "display_name": "Demo Staff",
        "organisation": "IP Marketplace",
        "country": "US",
        "is_staff": True,
        "is_superuser": True,
    },
]


class Command(BaseCommand):
    help = "Create the demo buyer, seller and staff accounts on first start, printing their passwords once."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        created: list[tuple[str, str]] = []
        for account in DEMO_ACCOUNTS:
            fields = dict(account)
            email = str(fields.pop("email"))
            if User.objects.filter(email__iexact=email).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(email, password, **fields)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            if user.is_staff:
                staff_groups_sync()
                user.groups.add(*Group.objects.filter(name__in=STAFF_GROUP_PERMISSIONS))
            created.append((email, password))
        if not created:
            self.stdout.write("Demo accounts exist already (their passwords were printed on first start).")
            return
        self.stdout.write(self.style.SUCCESS("Demo accounts (the passwords are shown this once):"))
        for email, password in created:
            self.stdout.write(f"    {email:<36} {password}")
