"""What every app's views share: the request type past login, htmx detection,
putting a service's ValidationError back onto the form that called it, the two
shapes of a post that calls one service (`form_post`, `action_post`), and the
one safe way to follow a `next` parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
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


# Where a post goes next: whatever `redirect()` takes (a model with
# get_absolute_url, a URL name without arguments, a path), or a function of what
# the service returned that gives one.
Then = Any
# What the user is told on success: a message, or a function of what the service
# returned (evaluated after the service, so it can name the state it left).
Said = str | Callable[[Any], str]


def _then(then: Then, result: object) -> Any:
    return then(result) if callable(then) else then


def _refused(then: Then, refused: Then) -> Any:
    if refused is not None:
        return refused
    if callable(then):
        raise TypeError("Say where a refused post goes (`refused`): `then` needs a result.")
    return then


def _said(said: Said, result: object) -> str:
    return said(result) if callable(said) else said


def form_post(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[], Any],
    *,
    success: Said,
    then: Then,
    also_valid: Iterable[Any] = (),
) -> HttpResponse | None:
    """The post of a page with a form: on a POST whose form (and `also_valid`
    formsets) are valid, call `save` (one service); a ValidationError it raises
    goes onto the form (under its field when the form has one), success says so
    (unless `success` is empty: `save` said it itself) and redirects
    (post/redirect/get). Returns None when the page should show the
    form instead: a GET, invalid input, or a save the service refused."""
    if request.method != "POST" or not form.is_valid():
        return None
    if not all(extra.is_valid() for extra in also_valid):
        return None
    try:
        result = save()
    except ValidationError as exc:
        form_errors_apply(form, exc)
        return None
    if said := _said(success, result):
        messages.success(request, said)
    return redirect(_then(then, result))


def action_post(
    request: HttpRequest,
    save: Callable[[], Any],
    *,
    success: Said,
    then: Then,
    form: forms.BaseForm | None = None,
    invalid: str = "",
    refused: Then = None,
    refused_prefix: str = "",
) -> HttpResponse:
    """The post of a button (no page of its own): call `save` (one service) and
    redirect with what happened as a message. A `form` that does not validate
    says `invalid`; a ValidationError from the service says its messages. Either
    way nothing changed and the user goes to `refused` (default: `then`, which
    must then not depend on the result)."""
    if form is not None and not form.is_valid():
        messages.error(request, invalid)
        return redirect(_refused(then, refused))
    try:
        result = save()
    except ValidationError as exc:
        messages.error(request, refused_prefix + " ".join(exc.messages))
        return redirect(_refused(then, refused))
    messages.success(request, _said(success, result))
    return redirect(_then(then, result))


def redirect_next(request: HttpRequest, default: str, *args: object) -> HttpResponseRedirect:
    """Redirect to the request's `next` (POST, else GET) when it stays on this site,
    else to `default` (a URL name or path, with `args`). Every view that honours
    `next` goes through here, so an attacker's link can never send a signed-in user
    to another site (open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: a bare word ("1e309") is no address, and would be
    # taken for a URL name by `redirect`.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(resolve_url(default, *args))
