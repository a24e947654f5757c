from django.urls import path

from escrow import views

app_name = "escrow"

urlpatterns = [
    path("", views.deal_dashboard, name="dashboard"),
    path("listings/<int:listing_id>/buy/", views.listing_buy, name="listing-buy"),
    path("listings/<int:listing_id>/offer/", views.listing_offer, name="listing-offer"),
    path(
        "offers/<int:offer_id>/<str:action>/",
        views.offer_action,
        name="offer-action",
    ),
    # Paying and payouts (before the catch-all deal action below, which would take "pay").
    path("<int:deal_id>/pay/", views.deal_pay, name="deal-pay"),
    path("<int:deal_id>/pay/card/", views.deal_pay_card, name="deal-pay-card"),
    path("<int:deal_id>/pay/return/", views.deal_pay_return, name="deal-pay-return"),
    path("margin/<int:listing_id>/", views.margin_pay, name="margin-pay"),
    path("margin/<int:listing_id>/card/", views.margin_pay_card, name="margin-pay-card"),
    path("margin/<int:listing_id>/return/", views.margin_pay_return, name="margin-pay-return"),
    path("margin/<int:listing_id>/withdraw/", views.margin_withdraw, name="margin-withdraw"),
    path("payouts/", views.payouts_page, name="payouts"),
    path("payouts/onboard/", views.payouts_onboard, name="payouts-onboard"),
    path("payouts/return/", views.payouts_return, name="payouts-return"),
    path("staff/<int:deal_id>/release/", views.staff_deal_release, name="staff-deal-release"),
    path("receipts/<int:journal_id>.pdf", views.receipt_download, name="receipt"),
    path("<int:deal_id>/<str:action>/", views.deal_action, name="deal-action"),
]
