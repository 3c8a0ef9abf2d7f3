"""The HubSpot integration is a plug-in: Lifecycle without the app checks, migrates a
fresh database and serves its pages, with no link to HubSpot pages left on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs inside `manage.py shell` with the app removed: one account created and edited
# through the services (so ACCOUNT_CHANGED_HOOKS fire), then the pages that used to
# link to HubSpot rendered for an admin who owns the account.
PAGES_SCRIPT = """
import json
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from accounts.models import Account, User
from accounts.roles import Role
from accounts.services import account_create, account_update

admin = User.objects.create_user("admin", password="x")
admin.groups.add(Group.objects.get_or_create(name=Role.ADMIN)[0])
account = account_create(by=admin, name="Acme", domain="acme.example", owner=admin,
                         hubspot_id="123")
account_update(account=account, by=admin, data={"name": "Acme Inc"})
client = Client()
client.force_login(admin)
pages = {}
for url in ["/settings/", f"/accounts/{account.pk}/", "/my-work/", "/", "/hubspot/"]:
    response = client.get(url)
    pages[url] = [response.status_code, response.content.decode()]
print(json.dumps({"installed": apps.is_installed("accounts.hubspot"), "pages": pages}))
"""


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lifecycle_checks_migrates_and_serves_pages_without_the_hubspot_app(
    tmp_path: Path,
) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.without_hubspot",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    check = _manage("check", "--fail-level", "WARNING", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    migrate = _manage("migrate", "--noinput", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "hubspot." not in migrate.stdout  # no migration of the app ran
    assert "Applying accounts.0012_hubspot_models_move_to_hubspot_app... OK" in migrate.stdout
    unmigrated = _manage("makemigrations", "--check", "--dry-run", env=env)
    assert unmigrated.returncode == 0, unmigrated.stdout + unmigrated.stderr

    shell = _manage("shell", "-c", PAGES_SCRIPT, env=env)
    assert shell.returncode == 0, shell.stderr
    result = json.loads(shell.stdout.strip().splitlines()[-1])
    assert result["installed"] is False
    pages = result["pages"]
    for url in ["/settings/", "/accounts/1/", "/my-work/", "/"]:
        status, html = pages[url]
        assert status == 200, url
        assert "/hubspot/" not in html, url
    assert "Health model" in pages["/settings/"][1]
    assert "Acme Inc" in pages["/accounts/1/"][1]
    assert "123" in pages["/accounts/1/"][1]  # the HubSpot id is the account's own field
    assert pages["/hubspot/"][0] == 404
