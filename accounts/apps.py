from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import staff

        # Groups reference other apps' permissions, which are created in each app's own
        # post_migrate: listen to all of them, so the last one leaves the groups complete.
        post_migrate.connect(staff.staff_groups_sync_on_migrate, dispatch_uid="accounts.staff_groups")
