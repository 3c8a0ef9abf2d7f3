"""Large imports: the file is checked once and stored; the import runs in the
worker (inline in tests: Q_CLUSTER sync) in set-based chunks, with progress."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.imports import import_apply, import_batch_check, import_run
from accounts.imports import services as import_services
from accounts.models import Account, Event, ImportBatch, StageChange
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = "name,domain,owner_email,segment,arr,currency,contract_start,renewal_date,stage\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(
        f"Bulk {i},bulk{i}.example,csm@example.com,enterprise,{1000 + i}.50,usd,"
        "2026-01-01,2027-01-01,adoption\n"
        for i in range(start, start + n)
    )


def _checked(user: Any, content: str) -> ImportBatch:
    batch = ImportBatch.objects.create(
        kind="accounts", filename="f.csv", content=content, created_by=user
    )
    import_batch_check(batch=batch)
    return batch


@pytest.mark.parametrize("rows", [10, 600])
def test_import_costs_the_same_queries_for_10_or_600_rows(
    leader: Any, csm: Any, rows: int, django_assert_num_queries: Any
) -> None:
    AccountFactory.create(domain="bulk1.example", name="Old name")  # one row updates
    batch = _checked(leader, HEADER + _rows(rows))
    # Queue (4 with savepoints): lock + save the batch. Run, inline (Q_CLUSTER sync):
    # read the batch and its uploader; one chunk (11): lock the batch, read existing
    # domains, insert accounts, update the changed ones, insert stage changes, insert
    # events, save progress; a last round (4) marks it imported; django-q2 stores the
    # task (5).
    with django_assert_num_queries(26):
        import_apply(batch=batch, by=leader, valid_only=False)
    assert Account.objects.count() == rows
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.rows_written) == ("imported", rows, rows)


def test_bulk_import_keeps_the_history_one_by_one_writes_kept(leader: Any, csm: Any) -> None:
    old = AccountFactory.create(domain="bulk1.example", name="Old name", stage="renewal")
    batch = _checked(leader, HEADER + _rows(2))
    import_apply(batch=batch, by=leader, valid_only=False)

    new = Account.objects.get(domain="bulk0.example")
    assert (new.name, new.owner, new.stage, str(new.arr), new.currency) == (
        "Bulk 0",
        csm,
        "adoption",
        "1000.50",
        "USD",
    )
    assert new.last_activity_at is not None
    assert list(StageChange.objects.filter(account=new).values_list("to_stage", "reason")) == [
        ("adoption", "Created")
    ]
    created = Event.objects.get(account=new)
    assert (created.kind, created.summary, created.actor) == (
        "account_created",
        "Account created in stage Adoption",
        leader,
    )
    old.refresh_from_db()
    assert old.name == "Bulk 1" and old.stage == "renewal"  # the stage is not imported
    assert {"name", "arr", "segment"} <= set(old.field_changed_at)
    updated = Event.objects.get(account=old, kind="account_updated")
    assert updated.data["changes"]["name"] == ["Old name", "Bulk 1"]
    assert updated.actor == leader


def test_a_retried_import_resumes_after_the_last_committed_chunk(
    leader: Any, csm: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(import_services, "CHUNK", 2)
    batch = _checked(leader, HEADER + _rows(5))
    # As if a worker committed the first chunk (rows 0-1) and was killed.
    ImportBatch.objects.filter(pk=batch.pk).update(status="importing", rows_done=2)
    AccountFactory.create(domain="bulk0.example", name="Bulk 0")
    AccountFactory.create(domain="bulk1.example", name="Bulk 1")
    import_run(batch_id=batch.pk)
    assert sorted(Account.objects.values_list("name", flat=True)) == [f"Bulk {i}" for i in range(5)]
    assert Event.objects.filter(kind="account_created").count() == 3
    batch.refresh_from_db()
    assert (batch.status, batch.rows_written) == ("imported", 5)


def test_the_file_is_checked_once_at_upload_and_the_pages_read_the_stored_rows(
    client: Any, leader: Any, django_assert_num_queries: Any
) -> None:
    client.force_login(leader)
    upload = SimpleUploadedFile("a.csv", (HEADER + "Good,good.example,,,10,,,,\n").encode())
    client.post(reverse("accounts:import_upload", args=["accounts"]), {"file": upload})
    batch = ImportBatch.objects.get()
    assert batch.preview is not None and (batch.rows_total, batch.rows_valid) == (1, 1)
    # Were the page to parse the file again, it would now show this instead.
    ImportBatch.objects.filter(pk=batch.pk).update(content="name\nOther,-1\n")
    url = reverse("accounts:import_preview", args=[batch.pk])
    # session, user with their groups (role), then the batch with its uploader
    with django_assert_num_queries(3):
        page = client.get(url).content.decode()
    assert "good.example" in page and "Other" not in page
    client.post(url, {"action": "all"})
    assert list(Account.objects.values_list("name", flat=True)) == ["Good"]


def test_progress_bar_while_importing_polls_with_htmx_and_refreshes_without(
    client: Any, leader: Any, csm: Any, django_assert_num_queries: Any
) -> None:
    batch = _checked(leader, HEADER + _rows(5))
    ImportBatch.objects.filter(pk=batch.pk).update(status="importing", rows_done=2)
    client.force_login(leader)
    url = reverse("accounts:import_preview", args=[batch.pk])
    page = client.get(url).content.decode()
    assert '<progress max="5" value="2"' in page and "2 of 5 rows written" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    # session, user with their groups, the batch's counters (never its stored rows or file)
    with django_assert_num_queries(3) as polled:
        fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '"preview",' not in polled.captured_queries[-1]["sql"]  # only IS NOT NULL
    assert fragment.lstrip().startswith('<section class="panel" id="import-progress"')
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment

    import_run(batch_id=batch.pk)
    done = client.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    page = client.get(url).content.decode()
    assert "5 rows written." in page and "<progress" not in page and "refresh" not in page


def test_a_confirmed_import_cannot_be_confirmed_again(leader: Any, csm: Any) -> None:
    batch = _checked(leader, HEADER + _rows(1))
    import_apply(batch=batch, by=leader, valid_only=False)
    with pytest.raises(ValueError, match="already been confirmed"):
        import_apply(batch=batch, by=leader, valid_only=False)
    assert Account.objects.count() == 1
