"""Pages of offers and deals: the dashboard, and the actions the listing page posts to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from escrow import margin, payments, payouts, receipts, selectors, services, stripe_gateway
from escrow.models import ConnectedAccount, Deal
from escrow.receipt_pdf import receipt_pdf_render
from escrow.services.common import Refusal
from escrow.services.fees import fee_quote
from listings import selectors as listing_selectors
from listings.models import Listing
from marketplace.money import Money, MoneyError, money_format, money_parse


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _listing(request: HttpRequest, listing_id: int) -> Listing:
    listing = listing_selectors.listing_visible_to(user=request.user, listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing.")
    return listing


@login_required
@require_GET
def deal_dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    deals = list(selectors.deals_of(user=user))
    for deal in deals:
        deal.role = deal.party_of(user.pk)  # type: ignore[attr-defined]
        deal.ledger_lines = list(selectors.deal_ledger_lines_of(user=user, deal=deal))  # type: ignore[attr-defined]
        deal.receipts = receipts.receipts_in(deal.ledger_lines)  # type: ignore[attr-defined]
        deal.fee_lines = selectors.deal_fees_for(deal=deal, party=deal.role)  # type: ignore[attr-defined]
    offers = list(selectors.offers_of(user=user))
    for offer in offers:
        offer.role = "buyer" if offer.buyer_id == user.pk else "seller"  # type: ignore[attr-defined]
        # The exact amounts of an open offer, shown before either side commits to it.
        offer.quote = selectors.offer_quote(offer=offer)  # type: ignore[attr-defined]
    return render(
        request,
        "escrow/dashboard.html",
        {"deals": deals, "offers": offers, "service_choices": selectors.service_choices()},
    )


@login_required
@require_GET
def receipt_download(request: HttpRequest, journal_id: int) -> HttpResponse:
    """A receipt as a PDF, for the party it concerns and finance staff; 404 for anyone else."""
    receipt = receipts.receipt_for(user=request.user, journal_id=journal_id)
    if receipt is None:
        raise Http404("No such receipt of yours.")
    response = HttpResponse(receipt_pdf_render(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def listing_buy(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _listing(request, listing_id)
    try:
        deal = services.deal_buy_now(
            listing=listing,
            buyer=_user(request),
            deal_type=request.POST.get("deal_type"),
            services=request.POST.getlist("services"),
        )
    except services.DealError as error:
        messages.error(request, str(error))
        return redirect("listings:detail", listing_id=listing.pk)
    messages.success(request, f"Deal #{deal.pk} agreed. Pay {deal.total_due} into escrow before the deadline.")
    return redirect("escrow:dashboard")


@login_required
@require_POST
def listing_offer(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _listing(request, listing_id)
    try:
        amount = money_parse(request.POST.get("amount", ""), currency=listing.currency)
        offer = services.offer_make(
            listing=listing,
            buyer=_user(request),
            amount=amount,
            deal_type=request.POST.get("deal_type", ""),
            message=request.POST.get("message", ""),
            services=request.POST.getlist("services"),
        )
    except (services.DealError, MoneyError) as error:
        messages.error(request, str(error))
        return redirect("listings:detail", listing_id=listing.pk)
    quote = fee_quote(price=offer.money, services=offer.services)
    messages.success(
        request,
        f"Your offer is sent to the seller. If it is accepted you pay {money_format(quote.buyer_pays)} into escrow"
        f" ({money_format(quote.buyer_fee)} of it fees).",
    )
    return redirect("escrow:dashboard")


@login_required
@require_POST
def offer_action(request: HttpRequest, offer_id: int, action: str) -> HttpResponse:
    user = _user(request)
    offer = selectors.offer_of(user=user, offer_id=offer_id)
    if offer is None:
        raise Http404("No such offer of yours.")
    try:
        if action == "accept":
            deal = services.offer_accept(offer=offer, acting_user=user)
            messages.success(request, f"Offer accepted: deal #{deal.pk} awaits the buyer's payment.")
        elif action == "reject":
            services.offer_reject(offer=offer, acting_user=user, message=request.POST.get("message", ""))
            messages.success(request, "Offer rejected.")
        elif action == "withdraw":
            services.offer_withdraw(offer=offer, acting_user=user)
            messages.success(request, "Offer withdrawn.")
        elif action == "counter":
            amount = money_parse(request.POST.get("amount", ""), currency=offer.currency)
            # The form names the services it shows; without them the counter keeps the offer's.
            chosen = request.POST.getlist("services") if request.POST.get("services_shown") else None
            services.offer_counter(
                offer=offer,
                acting_user=user,
                amount=amount,
                message=request.POST.get("message", ""),
                services=chosen,
            )
            messages.success(request, "Counter-offer sent.")
        else:
            raise Http404("No such action.")
    except (services.DealError, MoneyError) as error:
        messages.error(request, str(error))
    return redirect("escrow:dashboard")


@login_required
@require_POST
def deal_action(request: HttpRequest, deal_id: int, action: str) -> HttpResponse:
    user = _user(request)
    deal = selectors.deal_of(user=user, deal_id=deal_id)
    if deal is None:
        raise Http404("No such deal of yours.")
    try:
        if action == "cancel":
            services.deal_cancel(deal=deal, acting_user=user, reason=request.POST.get("reason", ""))
            messages.success(request, f"Deal #{deal.pk} cancelled.")
        elif action == "dispute":
            services.deal_dispute_open(deal=deal, acting_user=user, reason=request.POST.get("reason", ""))
            messages.success(request, f"Dispute opened on deal #{deal.pk}: staff will decide.")
        else:
            raise Http404("No such action.")
    except services.DealError as error:
        messages.error(request, str(error))
    return redirect("escrow:dashboard")


# --- Paying: the buyer's escrow payment, the seller's margin deposit, payouts ------------------
# Payment pages create (or find again) the one PaymentIntent of the deal or deposit. Stripe.js
# turns the card typed into a token, which the page posts to the card views; they charge it on
# that intent (escrow.stripe_gateway.payment_intent_card_confirm) and answer the intent's status
# in JSON, and the page finishes a 3-D Secure authentication with Stripe.js. The return views
# re-read the intent from Stripe and apply it through the same path as the webhook
# (escrow.payments.payment_intent_settle).


def _stripe_js_url() -> str:
    from django.conf import settings

    return str(settings.STRIPE_JS_URL)


def _card_context(*, client_secret: str, card_url: str, return_url: str) -> dict[str, str]:
    from django.conf import settings

    return {
        "stripe_js_url": _stripe_js_url(),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "client_secret": client_secret,
        "card_url": card_url,
        "return_url": return_url,
    }


def _card_answer(intent: stripe_gateway.PaymentIntent, *, return_url: str) -> JsonResponse:
    """What the card form needs: where the intent stands, and where to go once it is paid."""
    if intent.status == "canceled":
        return JsonResponse({"error": "This payment was cancelled: it can no longer be paid."}, status=409)
    return JsonResponse({"status": intent.status, "return_url": return_url})


def _card_refusal(error: Exception) -> JsonResponse:
    """A refused card charge as the form shows it; nothing was charged."""
    if isinstance(error, stripe_gateway.CardDeclined):
        return JsonResponse({"error": str(error) or "The card was declined."}, status=402)
    if isinstance(error, stripe_gateway.StripeInvalidRequest):
        return JsonResponse({"error": str(error)}, status=400)
    if isinstance(error, stripe_gateway.StripeGatewayError):
        message = f"The card could not be charged now, try again in a moment ({error.kind})."
        return JsonResponse({"error": message}, status=503)
    forbidden = (isinstance(error, services.DealError) and error.code == Refusal.FORBIDDEN) or (
        isinstance(error, margin.MarginError) and error.forbidden
    )
    return JsonResponse({"error": str(error)}, status=403 if forbidden else 409)


def _buyers_deal(request: HttpRequest, deal_id: int) -> Deal:
    deal = selectors.deal_of(user=_user(request), deal_id=deal_id)
    if deal is None:
        raise Http404("No such deal of yours.")
    if deal.buyer_id != request.user.pk:
        raise PermissionDenied("Only the buyer pays into escrow.")
    return deal


@login_required
@require_GET
def deal_pay(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _buyers_deal(request, deal_id)
    try:
        intent = payments.deal_payment_start(deal=deal, buyer=_user(request))
    except services.DealError as error:
        messages.error(request, str(error))
        return redirect("escrow:dashboard")
    except stripe_gateway.StripeGatewayError as error:
        messages.error(request, f"The payment could not be prepared, try again in a moment ({error.kind}).")
        return redirect("escrow:dashboard")
    return_url = reverse("escrow:deal-pay-return", args=[deal.pk])
    card_url = reverse("escrow:deal-pay-card", args=[deal.pk])
    context = {
        "deal": deal,
        "buyer_fee": Money(deal.buyer_fee, deal.currency),
        "fee_lines": selectors.deal_fees_for(deal=deal, party="buyer"),
        "pay_label": f"Pay {deal.total_due}",
        **_card_context(client_secret=intent.client_secret, card_url=card_url, return_url=return_url),
    }
    return render(request, "escrow/deal_pay.html", context)


@login_required
@require_POST
def deal_pay_card(request: HttpRequest, deal_id: int) -> JsonResponse:
    """The buyer's card, tokenized by Stripe.js, charged on the deal's PaymentIntent (JSON)."""
    deal = _buyers_deal(request, deal_id)
    try:
        intent = payments.deal_payment_card_pay(
            deal=deal, buyer=_user(request), card_token=request.POST.get("card_token", "")
        )
    except (services.DealError, stripe_gateway.StripeGatewayError) as error:
        return _card_refusal(error)
    return _card_answer(intent, return_url=reverse("escrow:deal-pay-return", args=[deal.pk]))


@login_required
@require_GET
def deal_pay_return(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _buyers_deal(request, deal_id)
    payment_intent_id = payments.payment_intent_id_for(key=payments.deal_payment_key(deal.pk))
    if not payment_intent_id:
        messages.error(request, "No payment was started for this deal.")
        return redirect("escrow:dashboard")
    try:
        outcome = payments.payment_intent_settle(payment_intent_id=payment_intent_id)
    except (services.DealError, payments.PaymentError, stripe_gateway.StripeGatewayError) as error:
        messages.error(request, f"The payment could not be applied: {error}")
        return redirect("escrow:dashboard")
    if outcome in ("funded", "already_funded"):
        messages.success(request, f"Payment received: deal #{deal.pk} is funded and held in escrow.")
    else:
        messages.info(request, "The payment is not complete yet; this page updates once Stripe confirms it.")
    return redirect("escrow:dashboard")


def _sellers_listing(request: HttpRequest, listing_id: int) -> Listing:
    listing = _listing(request, listing_id)
    if listing.seller_id != request.user.pk:
        raise PermissionDenied("Only the seller pays the margin deposit.")
    return listing


@login_required
@require_GET
def margin_pay(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _sellers_listing(request, listing_id)
    try:
        deposit, intent = margin.margin_payment_start(listing=listing, seller=_user(request))
    except margin.MarginError as error:
        messages.error(request, str(error))
        return redirect("escrow:dashboard")
    except stripe_gateway.StripeGatewayError as error:
        messages.error(request, f"The payment could not be prepared, try again in a moment ({error.kind}).")
        return redirect("escrow:dashboard")
    return_url = reverse("escrow:margin-pay-return", args=[listing.pk])
    card_url = reverse("escrow:margin-pay-card", args=[listing.pk])
    context = {
        "listing": listing,
        "deposit": deposit,
        "pay_label": f"Pay the margin deposit of {deposit.money}",
        **_card_context(client_secret=intent.client_secret, card_url=card_url, return_url=return_url),
    }
    return render(request, "escrow/margin_pay.html", context)


@login_required
@require_POST
def margin_pay_card(request: HttpRequest, listing_id: int) -> JsonResponse:
    """The seller's card, tokenized by Stripe.js, charged on the deposit's PaymentIntent (JSON)."""
    listing = _sellers_listing(request, listing_id)
    try:
        intent = margin.margin_payment_card_pay(
            listing=listing, seller=_user(request), card_token=request.POST.get("card_token", "")
        )
    except (margin.MarginError, stripe_gateway.StripeGatewayError) as error:
        return _card_refusal(error)
    return _card_answer(intent, return_url=reverse("escrow:margin-pay-return", args=[listing.pk]))


@login_required
@require_GET
def margin_pay_return(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _sellers_listing(request, listing_id)
    payment_intent_id = payments.payment_intent_id_for(key=margin.margin_payment_key(listing.pk))
    if not payment_intent_id:
        messages.error(request, "No margin deposit payment was started for this listing.")
        return redirect("escrow:dashboard")
    try:
        outcome = payments.payment_intent_settle(payment_intent_id=payment_intent_id)
    except (payments.PaymentError, stripe_gateway.StripeGatewayError) as error:
        messages.error(request, f"The payment could not be applied: {error}")
        return redirect("escrow:dashboard")
    if outcome in ("paid", "already_paid"):
        messages.success(request, "Margin deposit received: your listing is live.")
    else:
        messages.info(request, "The payment is not complete yet; this page updates once Stripe confirms it.")
    return redirect("escrow:dashboard")


@login_required
@require_POST
def margin_withdraw(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _sellers_listing(request, listing_id)
    try:
        margin.listing_withdraw_returning_margin(listing=listing, acting_user=_user(request))
    except margin.MarginError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Listing withdrawn; a paid margin deposit goes back to your card.")
    return redirect("escrow:dashboard")


@login_required
@require_GET
def payouts_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "account": ConnectedAccount.objects.filter(user=user).first(),
        "owed": payouts.seller_owed(user=user),
    }
    return render(request, "escrow/payouts.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def payouts_onboard(request: HttpRequest) -> HttpResponse:
    # GET too: Stripe sends the seller back to the refresh URL when a link expired.
    try:
        url = payouts.connected_account_start(
            user=_user(request),
            refresh_url=request.build_absolute_uri(reverse("escrow:payouts-onboard")),
            return_url=request.build_absolute_uri(reverse("escrow:payouts-return")),
        )
    except stripe_gateway.StripeGatewayError as error:
        messages.error(request, f"Stripe could not start the onboarding: {error}")
        return redirect("escrow:payouts")
    return redirect(url)


@login_required
@require_GET
def payouts_return(request: HttpRequest) -> HttpResponse:
    account = ConnectedAccount.objects.filter(user=_user(request)).first()
    if account is None:
        return redirect("escrow:payouts")
    try:
        account = payouts.connected_account_refresh(stripe_account_id=account.stripe_account_id) or account
    except stripe_gateway.StripeGatewayError as error:
        messages.error(request, f"Stripe could not be asked about your account: {error}")
        return redirect("escrow:payouts")
    if account.transfers_active:
        messages.success(request, "Payouts are set up: what you are owed is on its way.")
    else:
        messages.info(request, "Stripe has not finished checking your account; payouts start once it has.")
    return redirect("escrow:payouts")


@login_required
@require_http_methods(["GET", "POST"])
def staff_deal_release(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Staff release a recorded deal's escrow to the seller (the payout follows on commit)."""
    user = _user(request)
    if not user.is_staff:
        raise PermissionDenied("Only staff release escrow.")
    deal = Deal.objects.select_related("listing", "buyer", "seller").filter(pk=deal_id).first()
    if deal is None:
        raise Http404("No such deal.")
    if request.method == "POST":
        try:
            services.deal_release(deal=deal, acting_user=user)
        except services.DealError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Deal #{deal.pk} released: the seller's payout follows.")
        return redirect("escrow:staff-deal-release", deal_id=deal.pk)
    return render(request, "escrow/staff_release.html", {"deal": deal})
