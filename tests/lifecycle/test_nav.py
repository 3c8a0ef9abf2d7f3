"""The page frame's links (lifecycle/context_processors.py): the addresses `reverse`
gives, reversed once per script prefix, and the current page marked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse, set_script_prefix

from lifecycle.context_processors import _LINKS, _links, nav

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def _main_nav(client: Client, path: str) -> list[tuple[str, bool, str]]:
    response = client.get(path)
    assert response.status_code == 200
    found = NAV.search(response.content.decode())
    assert found
    return [(href, bool(current), label) for href, current, label in LINK.findall(found.group(0))]


@pytest.mark.parametrize(
    ("path_name", "label"),
    [
        ("portfolio", "Portfolio"),
        ("success:my_work", "My work"),
        ("success:renewals", "Renewals"),
        ("onboarding:my", "Onboarding"),
        ("alerts:list", "Alerts"),
        ("playbooks:runs", "Playbooks"),
        ("metrics", "Metrics"),
        ("settings", "Settings"),
    ],
)
def test_the_page_shown_is_the_one_link_marked_current(
    client: Client, admin_user: Any, path_name: str, label: str
) -> None:
    client.force_login(admin_user)
    links = _main_nav(client, reverse(path_name))
    assert [lbl for _, current, lbl in links if current] == [label]
    # Every address is what reverse() gives for its name.
    assert {href for href, _, _ in links} <= {
        reverse(name, args=args) for name, args in _LINKS.values()
    }


def test_a_page_outside_the_nav_marks_none(client: Client, leader: Any) -> None:
    client.force_login(leader)
    links = _main_nav(client, reverse("notifications:preferences"))
    assert links and not any(current for _, current, _ in links)


def test_each_role_sees_its_links(client: Client, csm: Any, leader: Any) -> None:
    client.force_login(csm)
    csm_labels = [label for _, _, label in _main_nav(client, reverse("portfolio"))]
    client.force_login(leader)
    leader_labels = [label for _, _, label in _main_nav(client, reverse("portfolio"))]
    assert "Settings" not in csm_labels and "Import" not in csm_labels
    assert "Import" in leader_labels and "Settings" not in leader_labels


def test_addresses_follow_the_script_prefix(rf: Any) -> None:
    """Mounted under a prefix (SCRIPT_NAME), the frame's links carry it: the cache
    is per prefix, so one process never serves another prefix's addresses."""
    request = rf.get("/accounts/")
    try:
        set_script_prefix("/cs/")
        prefixed = nav(request)["nav"]
    finally:
        set_script_prefix("/")
    plain = nav(request)["nav"]
    assert prefixed["portfolio"] == "/cs" + plain["portfolio"]
    assert plain["portfolio"] == reverse("portfolio")
    assert _links.cache_info().currsize >= 2
