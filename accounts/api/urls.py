from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.ProfileView.as_view(), name="me"),
    path("tokens/", views.ApiTokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:token_id>/", views.ApiTokenRevokeView.as_view(), name="api-token"),
]
