"""The Stripe webhook endpoint, for the project's URLconf: `path("", include("escrow.webhook_urls"))`."""

from django.urls import path

from escrow.webhooks import stripe_webhook

urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
