from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.listing_search, name="search"),
    path("new/", views.listing_new, name="new"),
    path("mine/", views.my_listings, name="mine"),
    path("<int:listing_id>/", views.listing_detail, name="detail"),
    path("<int:listing_id>/edit/", views.listing_edit, name="edit"),
    path("<int:listing_id>/documents/", views.listing_document_add, name="document-add"),
    path("<int:listing_id>/documents/<int:document_id>/", views.listing_document, name="document"),
    path("<int:listing_id>/submit/", views.listing_submit, name="submit"),
    path("<int:listing_id>/withdraw/", views.listing_withdraw, name="withdraw"),
    path("<int:listing_id>/watch/", views.listing_watch, name="watch"),
    path("watching/", views.watching, name="watching"),
    path("saved-searches/", views.saved_search_create, name="saved-search-create"),
    path("saved-searches/<int:saved_search_id>/delete/", views.saved_search_delete, name="saved-search-delete"),
    path("follows/", views.follow_create, name="follow-create"),
    path("follows/<int:follow_id>/delete/", views.follow_delete, name="follow-delete"),
    path("import/", views.portfolio_import, name="import"),
    path("import/template.csv", views.portfolio_import_template, name="import-template"),
    path("import/<int:job_id>/", views.portfolio_import_job, name="import-job"),
    path("import/<int:job_id>/progress/", views.portfolio_import_progress, name="import-progress"),
    path("import/<int:job_id>/rejected.csv", views.portfolio_import_rejected, name="import-rejected"),
]
