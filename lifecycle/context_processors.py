"""The page frame's links: the main navigation and the user menu on every page.

`base.html` used to reverse thirteen URL names with `{% url %}` on every page,
about a third of the frame's cost (docs/performance.md). The addresses never
change while the process runs, so they are reversed once per script prefix
(the only input `reverse` takes from the request) and shared."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

# Each link's key in the template, and the URL name (with arguments) it reverses.
_LINKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": ("home", ()),
    "portfolio": ("portfolio", ()),
    "my_work": ("success:my_work", ()),
    "renewals": ("success:renewals", ()),
    "onboarding": ("onboarding:my", ()),
    "alerts": ("alerts:list", ()),
    "playbooks": ("playbooks:runs", ()),
    "metrics": ("metrics", ()),
    "import": ("accounts:import_upload", ("accounts",)),
    "settings": ("settings", ()),
    "inbox": ("notifications:inbox", ()),
    "bell": ("notifications:bell", ()),
    "preferences": ("notifications:preferences", ()),
    "logout": ("logout", ()),
}


@lru_cache(maxsize=8)
def _links(prefix: str, urlconf: str | None) -> dict[str, str]:
    return {key: reverse(name, args=args) for key, (name, args) in _LINKS.items()}


def nav(request: HttpRequest) -> dict[str, Any]:
    """`nav`: each frame link's address; `nav_current`: the key of the link whose
    address is this page's (for `aria-current`), or ""."""
    links = _links(get_script_prefix(), get_urlconf())
    path = request.path
    current = next((key for key, url in links.items() if url == path), "")
    return {"nav": links, "nav_current": current}
