"""Links to many objects of one kind on one page, without a `reverse` per row."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse


def url_for_ids(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for many ids: reversed once, then filled in
    (reverse costs more than the rest of a row's formatting)."""
    marker = "918273645"
    head, tail = reverse(name, args=[int(marker)]).split(marker)
    return lambda pk: f"{head}{pk}{tail}"
