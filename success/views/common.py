"""The success pages that are one form render the one form-page layout
(templates/form_page.html) through here: crumbs and Cancel lead back to the account."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthedRequest
from accounts.models import Account


def form_page(
    request: AuthedRequest,
    *,
    form: forms.BaseForm,
    account: Account,
    title: str,
    submit: str,
    intro: str = "",
    back: str = "",
) -> HttpResponse:
    return render(
        request,
        "form_page.html",
        {
            "form": form,
            "account": account,
            "title": title,
            "submit": submit,
            "intro": intro,
            "back": back or account.get_absolute_url(),
        },
    )
