"""What every app's views share: the request type past login, htmx detection,
putting a service's ValidationError back onto the form that called it, and the
one safe way to follow a `next` parameter."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from .models import User


class AuthedRequest(HttpRequest):
    """A request past LoginRequiredMiddleware: the user is a real User."""

    user: User


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (boosted links want the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]


def form_errors_apply(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's validation errors on the form: under their field when
    the form has it, at the top otherwise."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def redirect_next(request: HttpRequest, default: str, *args: object) -> HttpResponseRedirect:
    """Redirect to the request's `next` (POST, else GET) when it stays on this site,
    else to `default` (a URL name or path, with `args`). Every view that honours
    `next` goes through here, so an attacker's link can never send a signed-in user
    to another site (open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(resolve_url(default, *args))
