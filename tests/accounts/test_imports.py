from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.imports import import_apply, preview_build
from accounts.models import Account, ImportBatch, UsageSnapshot
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ACCOUNTS_CSV = (
    "name,domain,owner_email,segment,arr,currency,contract_start,renewal_date,stage\n"
    "Acme,https://www.acme.com,csm@example.com,enterprise,120000,usd,2026-01-01,2027-01-01,adoption\n"
    "Globex,globex.io,,smb,not-a-number,USD,,,\n"
    "Initech,initech.com,nobody@example.com,smb,5000,USD,,,\n"
)


def _batch(user: Any, kind: str, content: str) -> ImportBatch:
    return ImportBatch.objects.create(kind=kind, filename="f.csv", content=content, created_by=user)


def test_preview_reports_each_bad_row_and_writes_nothing(leader: Any, csm: Any) -> None:
    preview = preview_build(kind="accounts", content=ACCOUNTS_CSV)
    assert [r.line for r in preview.valid] == [2]
    errors = {r.line: r.errors for r in preview.invalid}
    assert errors[3] == ["arr: Enter a number."]
    assert errors[4] == ["owner_email: no user with email nobody@example.com"]
    assert Account.objects.count() == 0


def test_import_refuses_everything_when_a_row_is_invalid(leader: Any, csm: Any) -> None:
    batch = _batch(leader, "accounts", ACCOUNTS_CSV)
    with pytest.raises(ValueError, match="2 row"):
        import_apply(batch=batch, by=leader, valid_only=False)
    assert Account.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEW


def test_import_of_valid_rows_only_writes_them_normalised(leader: Any, csm: Any) -> None:
    batch = _batch(leader, "accounts", ACCOUNTS_CSV)
    assert import_apply(batch=batch, by=leader, valid_only=True) == 1
    acme = Account.objects.get()
    assert (acme.domain, acme.currency, acme.owner, acme.stage) == (
        "acme.com",
        "USD",
        csm,
        "adoption",
    )
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total, batch.rows_written) == ("imported", 3, 1)


def test_import_updates_an_account_whose_domain_exists(leader: Any) -> None:
    existing = AccountFactory.create(domain="acme.com", name="Acme old")
    batch = _batch(leader, "accounts", "name,domain,arr\nAcme new,ACME.com,999\n")
    import_apply(batch=batch, by=leader, valid_only=False)
    existing.refresh_from_db()
    assert (existing.name, str(existing.arr)) == ("Acme new", "999.00")
    assert Account.objects.count() == 1


def test_duplicate_domains_inside_one_file_are_flagged() -> None:
    preview = preview_build(kind="accounts", content="name,domain\nA,a.com\nB,www.a.com\n")
    assert preview.invalid[0].errors == ["domain: a.com appears again on line 2"]


def test_missing_and_unknown_columns_are_file_errors() -> None:
    preview = preview_build(kind="usage", content="acct,date,colour\nx,2026-01-01,red\n")
    assert any("Missing required column(s): account" in e for e in preview.file_errors)
    assert any("Unknown column(s): acct, colour" in e for e in preview.file_errors)


def test_usage_rows_match_accounts_by_id_hubspot_id_or_domain(leader: Any) -> None:
    by_id = AccountFactory.create()
    by_hubspot = AccountFactory.create(hubspot_id="9001")
    by_domain = AccountFactory.create(domain="usage.example")
    content = (
        "account,date,active_users,nps\n"
        f"{by_id.pk},2026-10-01,10,20\n"
        "9001,2026-10-01,11,\n"
        "https://www.usage.example,2026-10-01,12,\n"
        "unknown.example,2026-10-01,1,\n"
        f"{by_id.pk},2026-10-01,99,\n"
        f"{by_id.pk},2026-10-02,5,150\n"
    )
    preview = preview_build(kind="usage", content=content)
    errors = {r.line: r.errors for r in preview.invalid}
    assert errors == {
        5: ["account: no account matches 'unknown.example'"],
        6: ["date: this account already has 2026-10-01 on line 2"],
        7: ["nps: Ensure this value is less than or equal to 100."],
    }
    import_apply(batch=_batch(leader, "usage", content), by=leader, valid_only=True)
    assert dict(UsageSnapshot.objects.values_list("account_id", "active_users")) == {
        by_id.pk: 10,
        by_hubspot.pk: 11,
        by_domain.pk: 12,
    }


def test_upload_preview_confirm_and_skipped_rows_download(client: Any, leader: Any) -> None:
    client.force_login(leader)
    upload = SimpleUploadedFile("accounts.csv", b"name,arr\nGood,10\nBad,-5\n")
    response = client.post(reverse("accounts:import_upload", args=["accounts"]), {"file": upload})
    batch = ImportBatch.objects.get()
    assert response.url == reverse("accounts:import_preview", args=[batch.pk])
    page = client.get(response.url).content.decode()
    assert (
        "1 with errors" in page and "arr: Ensure this value is greater than or equal to 0." in page
    )

    refused = client.post(response.url, {"action": "all"}, follow=True)
    assert "1 row(s) have errors; nothing was imported." in refused.content.decode()
    assert Account.objects.count() == 0

    client.post(response.url, {"action": "valid_only"})
    assert list(Account.objects.values_list("name", flat=True)) == ["Good"]
    skipped = client.get(reverse("accounts:import_skipped", args=[batch.pk]))
    assert skipped.content.decode().splitlines()[1].startswith("Bad,-5,")


def test_upload_rejects_a_file_that_is_not_utf8(client: Any, leader: Any) -> None:
    client.force_login(leader)
    upload = SimpleUploadedFile("a.csv", "name\nCafé\n".encode("utf-16"))
    response = client.post(reverse("accounts:import_upload", args=["accounts"]), {"file": upload})
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("content", [b"name\nAc\x00me\n", b"\xef\xbb\xbfname,arr\nA,1\x00\n"])
def test_upload_with_a_nul_character_is_refused_with_a_form_error(
    client: Any, leader: Any, content: bytes
) -> None:
    client.force_login(leader)
    upload = SimpleUploadedFile("nul.csv", content)
    response = client.post(reverse("accounts:import_upload", args=["accounts"]), {"file": upload})
    assert response.status_code == 200
    assert "The file contains NUL characters" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_skipped_rows_download_answers_get_only(client: Any, leader: Any) -> None:
    batch = _batch(leader, "accounts", "name,arr\nBad,-5\n")
    client.force_login(leader)
    url = reverse("accounts:import_skipped", args=[batch.pk])
    assert client.post(url).status_code == 405
    assert client.get(url).status_code == 200
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEW
