from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("listings/<int:listing_id>/progress/", views.listing_progress, name="listing-progress"),
    path("my-rights/", views.my_rights, name="my-rights"),
    path("my-rights/calendar/<str:token>.ics", views.my_rights_ical, name="my-rights-ical"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
]
