from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import ApiTokenForm, ProfileForm
from accounts.models import User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=user, **{name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "token_form": ApiTokenForm(), "tokens": selectors.api_tokens_of(user=user)},
    )


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the key a name of at most 100 characters.")
        return redirect("accounts:profile")
    try:
        token, key = services.api_token_issue(user=user, name=form.cleaned_data["name"])
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("accounts:profile")
    # The key is shown on this response only; it is never stored or shown again.
    return render(request, "accounts/api_token_created.html", {"token": token, "key": key})


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _user(request)
    token = selectors.api_token_of(user=user, token_id=token_id)
    if token is None:
        raise Http404("No such key.")
    services.api_token_revoke(token=token, acting_user=user)
    messages.success(request, f"The key “{token.name}” is revoked.")
    return redirect("accounts:profile")
