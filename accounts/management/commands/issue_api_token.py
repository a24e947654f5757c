from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Issue an API key for an account and print it (once) for a script or partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The account's email address.")
        parser.add_argument("--name", default="Issued from the command line", help="What the key is for.")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {email!r}.")
        if not user.is_active:
            raise CommandError(f"The account {user.email} is deactivated.")
        try:
            _, key = services.api_token_issue(user=user, name=name)
        except services.AccountError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(key)
