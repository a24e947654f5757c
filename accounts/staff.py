"""The staff groups and what each may do.

Each group's permissions are named here by app label and codename, including those of apps
above accounts: a name is only a string, so nothing is imported upward, and a permission whose
app has not migrated yet is simply not granted until it has.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

VERIFICATION_REVIEWERS = "Verification reviewers"
FILING_AGENTS = "Filing agents"
FINANCE = "Finance"

STAFF_GROUP_PERMISSIONS: dict[str, list[str]] = {
    VERIFICATION_REVIEWERS: [
        "accounts.view_user",
        "listings.view_right",
        "listings.view_listing",
        "listings.change_listing",
        "listings.view_listingdocument",
        "verification.view_verificationrun",
        "verification.decide_verificationrun",
    ],
    FILING_AGENTS: [
        "accounts.view_user",
        "listings.view_right",
        "listings.view_listing",
        "escrow.view_deal",
        "filings.view_filing",
        "filings.change_filing",
        "filings.add_filing",
    ],
    FINANCE: [
        "accounts.view_user",
        "listings.view_listing",
        "escrow.view_deal",
        "escrow.view_ledgeraccount",
        "escrow.view_journal",
        "escrow.view_entry",
        "escrow.view_margindeposit",
        "escrow.decide_dispute",
    ],
}


@transaction.atomic
def staff_groups_sync() -> dict[str, int]:
    """Create the staff groups and grant them the permissions that exist; returns the counts."""
    granted: dict[str, int] = {}
    for group_name, names in STAFF_GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = [name.split(".", 1) for name in names]
        permissions = Permission.objects.none()
        for app_label, codename in wanted:
            permissions |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*permissions)
        granted[group_name] = group.permissions.count()
    return granted


def staff_groups_sync_on_migrate(**kwargs: Any) -> None:
    staff_groups_sync()
