"""What every app's views share: the request type past login, htmx detection,
and putting a service's ValidationError back onto the form that called it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

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
