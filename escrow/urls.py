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
    path("<int:deal_id>/<str:action>/", views.deal_action, name="deal-action"),
]
