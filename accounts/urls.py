from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.api_token_create, name="api-token-create"),
    path("profile/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
