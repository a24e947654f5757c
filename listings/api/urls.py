from django.urls import path

from listings.api import views

urlpatterns = [
    path("listings/", views.ListingListView.as_view(), name="listings"),
    path("listings/<int:listing_id>/", views.ListingDetailView.as_view(), name="listing"),
    path("listings/<int:listing_id>/submit/", views.ListingSubmitView.as_view(), name="listing-submit"),
]
