from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from listings import following, portfolio, search, selectors, services, similar
from listings.forms import DocumentForm, ListingTermsForm, RightClaimForm
from listings.models import Follow, ImportJob, ListingState


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _attach(form: RightClaimForm | ListingTermsForm, error: services.ListingError) -> bool:
    """Show a service's refusal beside the input it concerns; True if the form had that input."""
    name = error.field
    if name == "title" and isinstance(form, RightClaimForm):
        name = "right_title"
    if name is not None and not name.startswith("number_") and f"number_{name}" in form.fields:
        name = f"number_{name}"
    if name in form.fields:
        form.add_error(name, str(error))
        return True
    return False


@login_required
@require_http_methods(["GET", "POST"])
def listing_new(request: HttpRequest) -> HttpResponse:
    right_form = RightClaimForm(request.POST or None)
    terms_form = ListingTermsForm(request.POST or None)
    if request.method == "POST" and right_form.is_valid() and terms_form.is_valid():
        try:
            with transaction.atomic():
                right = services.right_from_claim(claim=right_form.claim())
                listing = services.listing_create_draft(seller=_user(request), rights=[right], terms=terms_form.terms())
        except services.ListingError as error:
            if not (_attach(right_form, error) or _attach(terms_form, error)):
                messages.error(request, str(error))
        else:
            messages.success(request, "Draft saved. Add documents, then submit it for verification.")
            return redirect("listings:edit", listing_id=listing.pk)
    number_kinds = {
        f"{jurisdiction}:{sub_kind}": [kind.value for kind in kinds]
        for (jurisdiction, sub_kind), kinds in services.NUMBER_KINDS.items()
    }
    return render(
        request,
        "listings/listing_new.html",
        {"right_form": right_form, "terms_form": terms_form, "number_kinds": number_kinds},
    )


@login_required
@require_GET
def my_listings(request: HttpRequest) -> HttpResponse:
    listings = selectors.listings_of_seller(seller=_user(request))
    return render(request, "listings/my_listings.html", {"listings": listings})


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_for_seller(seller=_user(request), listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing of yours.")
    initial = {
        "title": listing.title,
        "description": listing.description,
        "deal_types": listing.deal_types,
        "price_mode": listing.price_mode,
        "currency": listing.currency,
        "asking_price": _major(listing.asking_price, listing.currency),
        "minimum_price": _major(listing.minimum_price, listing.currency),
    }
    terms_form = ListingTermsForm(request.POST or None, initial=initial)
    if request.method == "POST" and terms_form.is_valid():
        try:
            services.listing_update_draft(listing=listing, acting_user=_user(request), terms=terms_form.terms())
        except services.ListingError as error:
            if not _attach(terms_form, error):
                messages.error(request, str(error))
        else:
            messages.success(request, "Draft saved.")
            return redirect("listings:edit", listing_id=listing.pk)
    return render(
        request,
        "listings/listing_edit.html",
        {
            "listing": listing,
            "terms_form": terms_form,
            "document_form": DocumentForm(),
            "documents": listing.documents.all(),
            "events": selectors.listing_events(listing=listing),
            "is_draft": listing.state == ListingState.DRAFT,
        },
    )


def _major(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    from marketplace.money import Money, money_format

    return money_format(Money(amount, currency), with_currency=False)


@login_required
@require_POST
def listing_document_add(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_for_seller(seller=_user(request), listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing of yours.")
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("listings:edit", listing_id=listing.pk)
    upload = form.cleaned_data["file"]
    try:
        services.listing_document_add(
            listing=listing,
            acting_user=_user(request),
            upload=upload,
            original_name=upload.name,
            visibility=form.cleaned_data["visibility"],
        )
    except services.ListingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{upload.name}” is added.")
    return redirect("listings:edit", listing_id=listing.pk)


@login_required
@require_POST
def listing_submit(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_for_seller(seller=_user(request), listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing of yours.")
    try:
        services.listing_submit(listing=listing, acting_user=_user(request))
    except services.ListingError as error:
        messages.error(request, str(error))
        return redirect("listings:edit", listing_id=listing.pk)
    messages.success(request, "Submitted. We check the rights against the registers before it goes public.")
    return redirect("listings:mine")


@login_required
@require_POST
def listing_withdraw(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_for_seller(seller=_user(request), listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing of yours.")
    try:
        services.listing_withdraw(listing=listing, acting_user=_user(request))
    except services.ListingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{listing.title}” is withdrawn.")
    return redirect("listings:mine")


@require_GET
def listing_detail(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_visible_to(user=request.user, listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing.")
    return render(
        request,
        "listings/listing_detail.html",
        {
            "listing": listing,
            "rights": [link.right for link in listing.listing_rights.all()],
            "documents": selectors.documents_visible_to(user=request.user, listing=listing),
            "is_seller": request.user.is_authenticated and listing.seller_id == request.user.pk,
            "is_watched": selectors.is_watched(user=request.user, listing=listing),
            # Only a public listing is in the search index, which similar listings come from.
            "similar": selectors.listing_cards(listing_ids=similar.similar_listing_ids(listing_id=listing.pk))
            if listing.is_public
            else [],
        },
    )


@require_GET
def listing_document(request: HttpRequest, listing_id: int, document_id: int) -> FileResponse:
    listing = selectors.listing_visible_to(user=request.user, listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing.")
    document = selectors.documents_visible_to(user=request.user, listing=listing).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValidationError) as error:
        raise Http404("The file is missing.") from error
    return FileResponse(handle, content_type=document.content_type, filename=document.original_name)


@require_GET
def listing_search(request: HttpRequest) -> HttpResponse:
    params = search.params_parse(request.GET)
    if params.q and params.page == 1:
        listing_id = search.exact_number_match(params.q)
        if listing_id is not None:
            return redirect("listings:detail", listing_id=listing_id)
    results = search.search_run(params)
    return render(
        request,
        "listings/search.html",
        {
            "results": results,
            "listings": selectors.listing_cards(listing_ids=results.listing_ids),
            "params": params,
            "sorts": search.SORTS,
            # (name, title, values) of each facet with values, in the order search_run gives them.
            "facet_groups": [
                (name, FACET_TITLES.get(name, name), values) for name, values in results.facets.items() if values
            ],
            # The filters in force, counted on the button that opens them on a phone.
            "active_filters": sum(len(getattr(params, name)) for name in search.SearchParams.FACETS) + params.verified,
            "query_string": _query_without(request, "page"),
            "canonical_query": search.params_query_string(params),
        },
    )


FACET_TITLES = {
    "kind": "Kind",
    "jurisdiction": "Office",
    "status": "Status",
    "deal_type": "Deal type",
    "price": "Price",
    "term": "Remaining term",
    "cpc_section": "CPC section",
    "cpc_class": "CPC class",
    "nice": "Nice class",
}


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_POST
def listing_watch(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = selectors.listing_visible_to(user=request.user, listing_id=listing_id)
    if listing is None:
        raise Http404("No such listing.")
    try:
        watched = following.watch_toggle(user=_user(request), listing=listing)
    except services.ListingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Added to your watchlist." if watched else "Removed from your watchlist.")
    return redirect("listings:detail", listing_id=listing.pk)


@login_required
@require_GET
def watching(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "listings/watching.html",
        {
            "watched": selectors.watched_listings(user=user),
            "saved_searches": user.saved_searches.all(),
            "follows": user.follows.all(),
            "follow_subjects": Follow.Subject.choices,
        },
    )


@login_required
@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    try:
        following.saved_search_create(
            user=_user(request),
            name=request.POST.get("name", ""),
            query_string=request.POST.get("query_string", ""),
        )
    except services.ListingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Search saved: we email you when new listings match it.")
    return redirect("listings:watching")


@login_required
@require_POST
def saved_search_delete(request: HttpRequest, saved_search_id: int) -> HttpResponse:
    try:
        following.saved_search_delete(user=_user(request), saved_search_id=saved_search_id)
    except services.ListingError as error:
        raise Http404(str(error)) from error
    messages.success(request, "Saved search deleted.")
    return redirect("listings:watching")


@login_required
@require_POST
def follow_create(request: HttpRequest) -> HttpResponse:
    try:
        follow = following.follow_create(
            user=_user(request), subject=request.POST.get("subject", ""), value=request.POST.get("value", "")
        )
    except services.ListingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"You follow {follow.get_subject_display().lower()} {follow.value}.")
    return redirect(_local(request.POST.get("next", "")) or "listings:watching")


@login_required
@require_POST
def follow_delete(request: HttpRequest, follow_id: int) -> HttpResponse:
    try:
        following.follow_delete(user=_user(request), follow_id=follow_id)
    except services.ListingError as error:
        raise Http404(str(error)) from error
    messages.success(request, "Stopped following.")
    return redirect("listings:watching")


def _local(url: str) -> str:
    """`url` if it is a path on this site, else empty: a form's "next" must not lead elsewhere."""
    from django.utils.http import url_has_allowed_host_and_scheme

    return url if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None) else ""


# --- Portfolio import ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_import(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV file to upload."
        else:
            try:
                job = portfolio.portfolio_import_start(
                    seller=_user(request), upload=upload, original_name=upload.name or "upload.csv"
                )
            except services.ListingError as refusal:
                error = str(refusal)
            else:
                messages.success(request, f"“{job.original_name}” is queued: {job.total_rows:,} rows to import.")
                return redirect("listings:import-job", job_id=job.pk)
    return render(
        request,
        "listings/import.html",
        {
            "error": error,
            "template_columns": portfolio.TEMPLATE,
            "nasa_columns": portfolio.NASA_COLUMNS,
            "patentsview_columns": portfolio.PATENTSVIEW_COLUMNS,
            "google_columns": portfolio.GOOGLE_COLUMNS,
            "max_rows": portfolio.import_max_rows(),
            "max_megabytes": portfolio.import_max_bytes() // (1024 * 1024),
            "jobs": portfolio.import_jobs_of(seller=_user(request)),
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def portfolio_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="portfolio-template.csv"'
    csv.writer(response).writerow(portfolio.TEMPLATE_COLUMNS)
    return response


def _import_job(request: HttpRequest, job_id: int) -> ImportJob:
    job = portfolio.import_job_of(seller=_user(request), job_id=job_id)
    if job is None:
        raise Http404("No such import of yours.")
    return job


@login_required
@require_GET
def portfolio_import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _import_job(request, job_id)
    return render(request, "listings/import_job.html", {"job": job, "progress": portfolio.import_job_progress(job=job)})


@login_required
@require_GET
def portfolio_import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    response = JsonResponse(portfolio.import_job_progress(job=_import_job(request, job_id)))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def portfolio_import_rejected(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = _import_job(request, job_id)
    response = StreamingHttpResponse(portfolio.import_rejections_csv(job=job), content_type="text/csv; charset=utf-8")
    stem = job.original_name.rsplit(".", 1)[0][:80] or "import"
    response["Content-Disposition"] = f'attachment; filename="{_ascii_name(stem)}-rejected.csv"'
    return response


def _ascii_name(stem: str) -> str:
    return "".join(char if char.isascii() and (char.isalnum() or char in "-_.") else "_" for char in stem)
