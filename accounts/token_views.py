"""The API tokens page: admins issue tokens for a user and revoke them."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .http import AuthedRequest, action_post
from .models import ApiToken, User
from .roles import admin_required


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “Usage pipeline”.")
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        help_text="The token acts as this user: their role decides what it may do.",
    )


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def api_tokens(request: AuthedRequest) -> HttpResponse:
    """List tokens and issue a new one. The secret is shown on the response to
    the POST only (no redirect), so it never lands in a session or a log."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = services.api_token_create(
            user=form.cleaned_data["user"], name=form.cleaned_data["name"], by=request.user
        )
        form = ApiTokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": selectors.api_tokens(), "secret": secret},
    )


@require_POST
@admin_required
def api_token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    return action_post(
        request,
        lambda: services.api_token_revoke(token=token, by=request.user),
        success=f"Revoked {token}. It no longer authenticates.",
        then="accounts:api_tokens",
    )
