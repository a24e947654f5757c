from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from accounts.models import User
from listings import services
from listings.models import Encumbrance, Listing, ListingDocument, ListingEvent, ListingRight, OwnerOfRecord, Right


class OwnerOfRecordInline(admin.TabularInline[OwnerOfRecord, Right]):
    model = OwnerOfRecord
    extra = 0


class EncumbranceInline(admin.TabularInline[Encumbrance, Right]):
    model = Encumbrance
    extra = 0


@admin.register(Right)
class RightAdmin(admin.ModelAdmin[Right]):
    list_display = ("number_display", "title", "kind", "jurisdiction", "status", "expiry_date", "facts_source")
    list_filter = ("kind", "sub_kind", "jurisdiction", "status")
    search_fields = ("title", "application_number", "registration_number", "publication_number", "owners__name")
    inlines = [OwnerOfRecordInline, EncumbranceInline]
    readonly_fields = ("created_at", "updated_at")


class ListingRightInline(admin.TabularInline[ListingRight, Listing]):
    model = ListingRight
    extra = 0
    raw_id_fields = ("right",)


class ListingDocumentInline(admin.TabularInline[ListingDocument, Listing]):
    model = ListingDocument
    extra = 0
    fields = ("original_name", "file", "content_type", "size", "visibility", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Listing | None = None) -> bool:
        return False


class ListingEventInline(admin.TabularInline[ListingEvent, Listing]):
    model = ListingEvent
    extra = 0
    fields = ("at", "from_state", "to_state", "actor", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Listing | None = None) -> bool:
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="The seller reads this.")


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin[Listing]):
    list_display = ("title", "seller", "state", "price_mode", "asking_price", "currency", "submitted_at")
    list_filter = ("state", "price_mode", "currency")
    search_fields = ("title", "seller__email", "seller__legal_name", "rights__title")
    ordering = ("-submitted_at", "-created_at")
    raw_id_fields = ("seller",)
    # The state changes only through the transitions below, never by editing the field.
    readonly_fields = ("state", "review_note", "created_at", "updated_at", "submitted_at", "published_at")
    inlines = [ListingRightInline, ListingDocumentInline, ListingEventInline]
    actions = ["approve_selected"]
    change_form_template = "admin/listings/listing/change_form.html"

    def get_urls(self) -> list[Any]:
        return [
            path("<int:listing_id>/approve/", self.admin_site.admin_view(self.approve_view), name="listings_approve"),
            path("<int:listing_id>/reject/", self.admin_site.admin_view(self.reject_view), name="listings_reject"),
            *super().get_urls(),
        ]

    def _staff(self, request: HttpRequest) -> User:
        assert isinstance(request.user, User)
        return request.user

    def _change_url(self, listing: Listing) -> str:
        return reverse("admin:listings_listing_change", args=[listing.pk])

    def approve_view(self, request: HttpRequest, listing_id: int) -> HttpResponse:
        listing = get_object_or_404(Listing, pk=listing_id)
        if request.method != "POST" or not self.has_change_permission(request, listing):
            return HttpResponseRedirect(self._change_url(listing))
        try:
            listing = services.listing_approve(listing=listing, acting_user=self._staff(request))
        except services.ListingError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"Approved: the listing is now {listing.get_state_display().lower()}.")
        return HttpResponseRedirect(self._change_url(listing))

    def reject_view(self, request: HttpRequest, listing_id: int) -> HttpResponse:
        listing = get_object_or_404(Listing, pk=listing_id)
        if not self.has_change_permission(request, listing):
            return HttpResponseRedirect(self._change_url(listing))
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.listing_reject(
                    listing=listing, acting_user=self._staff(request), reason=form.cleaned_data["reason"]
                )
            except services.ListingError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, "Rejected; the seller sees your reason.")
            return HttpResponseRedirect(self._change_url(listing))
        context = {**self.admin_site.each_context(request), "listing": listing, "form": form, "opts": self.opts}
        return render(request, "admin/listings/listing/reject.html", context)

    @admin.action(description="Approve the selected listings (after reviewing their ownership)")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        approved, refused = 0, []
        for listing in queryset:
            try:
                services.listing_approve(listing=listing, acting_user=self._staff(request))
                approved += 1
            except services.ListingError as error:
                refused.append(f"{listing.title}: {error}")
        if approved:
            self.message_user(request, f"Approved {approved} listing(s).")
        for line in refused:
            self.message_user(request, line, messages.WARNING)
