from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "Verification"

    def ready(self) -> None:
        # Listings sits below us and cannot call us: it announces a committed submission with a
        # signal, and the verification task starts from here.
        from listings.signals import listing_submitted
        from verification.tasks import listing_submitted_receiver

        listing_submitted.connect(listing_submitted_receiver, dispatch_uid="verification.listing_submitted")
