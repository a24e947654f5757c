from django.apps import AppConfig


class EscrowConfig(AppConfig):
    name = "escrow"
    verbose_name = "Escrow"

    def ready(self) -> None:
        # The Stripe events escrow acts on. Importing these modules also registers their Celery
        # tasks (payouts, refunds, margin returns) in the worker.
        from escrow import margin, payments, payouts  # noqa: F401 - margin: its tasks
        from escrow.webhooks import register_handler

        register_handler("payment_intent.succeeded", payments.payment_intent_succeeded_handle)
        register_handler("payment_intent.payment_failed", payments.payment_intent_failed_handle)
        register_handler("account.updated", payouts.account_updated_handle)

        # Verification (below us) announces a committed suspension; escrow tells the buyers
        # with open offers or active deals on the listing.
        from escrow.services.suspensions import listing_suspended_receive
        from verification.signals import listing_suspended

        listing_suspended.connect(listing_suspended_receive, dispatch_uid="escrow.listing_suspended")

        # A reviewer approved a verification run: a release that waited for it goes on.
        from escrow.services.release_review import run_approved_receive
        from verification.services.review import run_approved

        run_approved.connect(run_approved_receive, dispatch_uid="escrow.run_approved")
