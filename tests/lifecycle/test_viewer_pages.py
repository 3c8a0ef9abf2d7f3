"""A viewer reads everything and changes nothing: no page they can open may
offer them a write (a POST form), which the server would refuse anyway."""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse

from accounts.models import User
from lifecycle.demo import build_all
from tests.lifecycle.test_url_permissions import EXPECTED, Objects, objects

__all__ = ["objects"]  # the URL table's fixture, used here too

pytestmark = pytest.mark.django_db

HREF = re.compile(r"""href=["']([^"'#]+)["']""")
POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']?post\b[^>]*>", re.IGNORECASE)
# Each URL name is opened this many times (with different ids or filters) at most.
PER_NAME = 3
# Not pages: files, the API and its schema, signing out (a viewer may sign out), and
# a person's own notification preferences (a viewer sets their own, like signing out).
SKIP = ("/static/", "/api/", "/logout/", "/admin/", "/notifications/preferences/")


def _crawl(client: Any, start: str) -> tuple[dict[str, list[str]], dict[str, int], set[str]]:
    """Every page reachable by links from `start`: the write forms each shows,
    the pages that refused, and the URL names opened."""
    seen: set[str] = set()
    opened_per_name: dict[str, int] = {}
    writes: dict[str, list[str]] = {}
    refused: dict[str, int] = {}
    queue = deque([start])
    while queue:
        url = queue.popleft()
        path = urlsplit(url).path
        try:
            name = resolve(path).view_name
        except Resolver404:
            continue
        if url in seen or opened_per_name.get(name, 0) >= PER_NAME:
            continue
        seen.add(url)
        opened_per_name[name] = opened_per_name.get(name, 0) + 1
        response = client.get(url)
        if response.status_code in (403, 404):
            refused[url] = response.status_code
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = response.content.decode()
        forms = [f for f in POST_FORM.findall(page) if "/logout/" not in f]
        if forms:
            writes[url] = forms
        for href in HREF.findall(page):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver") or parts.path.startswith(SKIP):
                continue
            if parts.path.endswith((".csv", "/export/")) or "export" in parts.path:
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return writes, refused, set(opened_per_name)


def test_no_page_a_viewer_can_open_offers_a_write(client: Any) -> None:
    build_all(accounts=12, seed=7, reset=False, progress=lambda done, total: None, log=print)
    client.force_login(User.objects.get(username="viewer"))

    writes, refused, names = _crawl(client, "/")

    assert writes == {}
    assert refused == {}, "links a viewer is offered but may not open"
    # The crawl reached the pages the issue named, and the rest of the app.
    assert {
        "alerts:list",
        "alerts:signals",
        "portfolio",
        "account",
        "metrics",
        "success:renewals",
    } <= names, sorted(names)


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        (name, variant)
        for name, rows in EXPECTED.items()
        for variant, _kwargs, expected in rows
        if expected["viewer"] == 200
        and not name.startswith(("api:", "admin:"))
        and name not in ("login", "notifications:preferences")
        and not name.endswith("export")
    ],
)
def test_every_page_in_the_url_table_a_viewer_opens_has_no_write_form(
    client: Any, objects: Objects, viewer: Any, name: str, variant: str
) -> None:
    kwargs = next(k for v, k, _e in EXPECTED[name] if v == variant)(objects)
    client.force_login(viewer)
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    forms = [f for f in POST_FORM.findall(response.content.decode()) if "/logout/" not in f]
    assert forms == []
