"""The zero-set-up path (SQLite) and the production settings, run for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)},
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sqlite_migrate_and_demo_data_work_and_are_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    env = {"DJANGO_SETTINGS_MODULE": "lifecycle.settings.local", "DATABASE_URL": f"sqlite:///{db}"}
    migrate = _manage("migrate", "--noinput", env=env)
    assert migrate.returncode == 0, migrate.stderr
    with sqlite3.connect(db) as conn:  # the shared cache's table comes with migrate
        assert conn.execute("SELECT COUNT(*) FROM lifecycle_cache").fetchone()[0] == 0
    first = _manage("demo_data", "--accounts", "40", env=env)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert "Created 40 demo accounts." in first.stdout
    second = _manage("demo_data", "--accounts", "40", env=env)
    assert second.returncode == 0, second.stderr
    assert "demo data left as is" in second.stdout

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM accounts_account").fetchone()[0] == 40
        users = {row[0] for row in conn.execute("SELECT username FROM accounts_user")}
    assert {"admin", "leader", "viewer", "csm1", "csm5"} <= users

    # The main pages answer on SQLite too: the plain statements the portfolio and the
    # alerts page send on PostgreSQL must also be SQL that SQLite reads.
    pages = _manage("shell", "-c", SQLITE_PAGES, env=env)
    assert pages.returncode == 0, pages.stderr
    answers = dict(
        line.rsplit(" ", 1)
        for line in pages.stdout.splitlines()
        if line.startswith(("leader ", "csm1 "))
    )
    assert len(answers) == len(SQLITE_PATHS) * 2
    refused = {"csm1 /metrics/": "403"}  # the leaders' dashboard
    assert {page: code for page, code in answers.items() if code != "200"} == refused


SQLITE_PATHS = [
    "/accounts/",
    "/accounts/?q=a&owner=all",
    "/accounts/?q=a&owner=all&page=2",
    "/accounts/?sort=-arr&segment=enterprise",
    "/accounts/?sort=owner",
    "/accounts/?renewal_within=90",
    "/alerts/",
    "/alerts/?status=open",
    "/my-work/",
    "/renewals/",
    "/onboarding/",
    "/playbooks/",
    "/accounts/1/",
    "/api/v1/accounts/",
    "/metrics/",
]
SQLITE_PAGES = f"""
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User
setup_test_environment()
for name in ("leader", "csm1"):
    client = Client()
    client.force_login(User.objects.get(username=name))
    for path in {SQLITE_PATHS!r}:
        print(name, path, client.get(path).status_code)
"""


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
        "DJANGO_SECRET_KEY": "x7#Kq9!vR2@mZp4$Lw8^Nc6&Bt1*Hy5(Jd3)Fs0_Gx-Ue+Ao=Ii~Oe[Pq]Rw{Sz}",
        "DJANGO_ALLOWED_HOSTS": "cs.example.com",
        "DATABASE_URL": "postgres://lifecycle@db.example.com:5432/lifecycle",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
        "DJANGO_SECRET_KEY": "",
        "DJANGO_ALLOWED_HOSTS": "cs.example.com",
        "DATABASE_URL": "postgres://lifecycle@db.example.com:5432/lifecycle",
    }
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable." in result.stderr
