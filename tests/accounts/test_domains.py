"""A domain a person types (account form, CSV import, API filter) goes through the
normaliser sync matches HubSpot's companies with, and junk is refused in words."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.forms import AccountCreateForm
from accounts.imports import preview_build
from accounts.models import Account, domain_clean

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/about?x=1#y", "acme.com"),
        ("acme.com.", "acme.com"),
        ("http://user@Acme.co.uk:8080/", "acme.co.uk"),
        ("//www.acme.io", "acme.io"),
        ("www.io", "www.io"),
        ("bücher.de", "bücher.de"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("", ""),
    ],
)
def test_domain_clean_keeps_hosts_as_hubspot_matches_them(raw: str, expected: str) -> None:
    assert domain_clean(raw) == expected


@pytest.mark.parametrize("junk", ["acme", "not a domain", "1.2.3.4", "-acme.com", "a..com", "@@"])
def test_domain_clean_refuses_what_is_not_a_domain(junk: str) -> None:
    with pytest.raises(ValidationError) as caught:
        domain_clean(junk)
    assert caught.value.messages == [
        f"{junk!r} is not a domain: type one such as acme.com "
        "(a web address such as https://www.acme.com/ is fine too)."
    ]


def test_the_account_form_refuses_a_junk_domain_and_saves_nothing() -> None:
    form = AccountCreateForm(
        data={
            "name": "Acme",
            "domain": "acme dot com",
            "segment": "smb",
            "arr": "0",
            "currency": "USD",
            "status": "active",
            "stage": "onboarding",
        }
    )
    assert not form.is_valid()
    assert "is not a domain" in form.errors["domain"][0]
    assert not Account.objects.exists()


def test_a_csv_row_with_a_junk_domain_is_invalid_with_the_reason() -> None:
    preview = preview_build(kind="accounts", content="name,domain\nA,https://www.a.com/x\nB,bad\n")
    assert [row.errors for row in preview.invalid] == [
        [
            "domain: 'bad' is not a domain: type one such as acme.com "
            "(a web address such as https://www.acme.com/ is fine too)."
        ]
    ]
