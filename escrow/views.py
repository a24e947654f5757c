"""Pages of offers and deals: the dashboard, and the actions the listing page posts to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from escrow import selectors, services
from listings import selectors as listing_selectors
from listings.models import Listing
from marketplace.money import MoneyError, money_parse


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
    offers = list(selectors.offers_of(user=user))
    for offer in offers:
        offer.role = "buyer" if offer.buyer_id == user.pk else "seller"  # type: ignore[attr-defined]
    return render(request, "escrow/dashboard.html", {"deals": deals, "offers": offers})


@login_required
@require_POST
def listing_buy(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _listing(request, listing_id)
    try:
        deal = services.deal_buy_now(listing=listing, buyer=_user(request), deal_type=request.POST.get("deal_type"))
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
        services.offer_make(
            listing=listing,
            buyer=_user(request),
            amount=amount,
            deal_type=request.POST.get("deal_type", ""),
            message=request.POST.get("message", ""),
        )
    except (services.DealError, MoneyError) as error:
        messages.error(request, str(error))
        return redirect("listings:detail", listing_id=listing.pk)
    messages.success(request, "Your offer is sent to the seller.")
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
            services.offer_counter(
                offer=offer, acting_user=user, amount=amount, message=request.POST.get("message", "")
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
