from django.urls import path

from escrow.api import views

urlpatterns = [
    path("listings/<int:listing_id>/buy/", views.ListingBuyView.as_view(), name="listing-buy"),
    path("offers/", views.OfferListView.as_view(), name="offers"),
    path("offers/<int:offer_id>/", views.OfferDetailView.as_view(), name="offer"),
    path("offers/<int:offer_id>/counter/", views.OfferCounterView.as_view(), name="offer-counter"),
    path("offers/<int:offer_id>/accept/", views.OfferAcceptView.as_view(), name="offer-accept"),
    path("offers/<int:offer_id>/reject/", views.OfferRejectView.as_view(), name="offer-reject"),
    path("offers/<int:offer_id>/withdraw/", views.OfferWithdrawView.as_view(), name="offer-withdraw"),
    path("deals/", views.DealListView.as_view(), name="deals"),
    path("deals/<int:deal_id>/", views.DealDetailView.as_view(), name="deal"),
]
