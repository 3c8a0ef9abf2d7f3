"""AccountHealthSort: the scores PostgreSQL's triggers keep for the portfolio's health
sort (migration 0021) stay what the accounts hold after every kind of account write;
the portfolio's health sort reads them; and, since no index of the account table holds
a column the health job writes, the job's account updates are HOT updates."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, AccountHealthSort
from success.health import services
from success.health.models import HealthMeasure, HealthModel
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db

TABLE = AccountHealthSort._meta.db_table


def _expected() -> dict[int, int | None]:
    return dict(Account.objects.values_list("id", "health_score"))


def _kept() -> dict[int, int | None]:
    return dict(AccountHealthSort.objects.values_list("account_id", "health_score"))


def test_kept_scores_follow_every_kind_of_account_write() -> None:
    assert _kept() == {}
    acme = AccountFactory.create(health_score=40)
    AccountFactory.create(health_score=None, status=Account.Status.ARCHIVED)
    Account.objects.bulk_create([Account(name=f"Bulk {i}", health_score=i * 10) for i in range(3)])
    assert _kept() == _expected()
    assert _kept()[acme.pk] == 40

    acme.health_score = 75
    acme.save()  # every column written, the score changed
    acme.arr += 1
    acme.save()  # the score did not change: the trigger does not fire
    Account.objects.filter(name="Bulk 0").update(health_score=None)
    Account.objects.filter(name__startswith="Bulk").update(health_score=5, health_band="red")
    Account.objects.filter(status=Account.Status.ARCHIVED).update(status=Account.Status.ACTIVE)
    Account.objects.update(name="Same")  # not the sort's column
    assert _kept() == _expected()
    assert _kept()[acme.pk] == 75

    with connection.cursor() as cursor:  # an id rewritten by hand moves its row
        cursor.execute("UPDATE accounts_account SET id = id + 1000 WHERE id = %s", [acme.pk])
    assert _kept() == _expected()
    assert _kept()[acme.pk + 1000] == 75

    Account.objects.filter(pk=acme.pk + 1000).delete()
    Account.objects.filter(health_score=5).delete()
    assert _kept() == _expected()
    assert len(_kept()) == 1


def test_kept_scores_hold_over_random_interleavings_of_writes() -> None:
    """Nothing lost, nothing extra, every score current, whatever the order."""
    rng = random.Random(2111)
    for _ in range(250):
        ids = list(Account.objects.values_list("id", flat=True))
        step = rng.choice(["create", "bulk", "score", "scores", "save", "archive", "delete"])
        score = rng.choice([None, *range(0, 101, 7)])
        if step == "create" or not ids:
            AccountFactory.create(health_score=score)
        elif step == "bulk":
            Account.objects.bulk_create(
                [Account(name="b", health_score=rng.choice([None, 1, 50])) for _ in range(3)]
            )
        elif step == "score":
            Account.objects.filter(pk=rng.choice(ids)).update(health_score=score)
        elif step == "scores":
            Account.objects.filter(pk__in=rng.sample(ids, min(len(ids), 5))).update(
                health_score=score
            )
        elif step == "save":
            account = Account.objects.get(pk=rng.choice(ids))
            account.health_score, account.stage = score, rng.choice(["adopting", "mature"])
            account.save()
        elif step == "archive":
            Account.objects.filter(pk=rng.choice(ids)).update(
                status=rng.choice(list(Account.Status.values))
            )
        else:
            Account.objects.filter(pk=rng.choice(ids)).delete()
        assert _kept() == _expected(), step


@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no deferred check
def test_truncate_empties_the_kept_scores() -> None:
    AccountFactory.create_batch(3, health_score=10)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account CASCADE")
    assert _kept() == {}


def test_the_portfolio_health_sort_reads_the_kept_scores(client: Any, leader: Any) -> None:
    for score in [70, None, 20, 95, 20]:
        AccountFactory.create(health_score=score)
    client.force_login(leader)
    for sort, expected in [("health", [20, 20, 70, 95, None]), ("-health", [None, 95, 70, 20, 20])]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("portfolio"), {"sort": sort, "owner": "all"})
        assert response.status_code == 200
        rows = list(response.context["page"].object_list)
        assert [row.health_score for row in rows] == expected
        ties = [row.pk for row in rows if row.health_score == 20]
        assert ties == sorted(ties, reverse=sort.startswith("-"))  # ties by id
        assert [q for q in queries if TABLE in q["sql"]]


def _indexed_columns() -> dict[str, set[str]]:
    """Each index of the account table, with the columns it holds (keys, included
    columns and those its expressions or predicate read)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, a.attname
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum > 0
            WHERE x.indrelid = 'accounts_account'::regclass
              AND (a.attnum = ANY(x.indkey)
                   OR pg_get_expr(x.indexprs, x.indrelid) LIKE '%' || a.attname || '%'
                   OR pg_get_expr(x.indpred, x.indrelid) LIKE '%' || a.attname || '%')
            """
        )
        found: dict[str, set[str]] = {}
        for index, column in cursor.fetchall():
            found.setdefault(index, set()).add(column)
    return found


def test_no_account_index_holds_a_column_the_health_job_writes() -> None:
    written = {"health_score", "health_band", "updated_at", "field_changed_at"}
    indexes = _indexed_columns()
    assert "accounts_account_pkey" in indexes  # the catalogue query reads them
    assert {name: cols & written for name, cols in indexes.items() if cols & written} == {}
    with connection.cursor() as cursor:  # and room on each page for a row's next version
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'accounts_account'")
        assert cursor.fetchone()[0] == ["fillfactor=50"]


def _activity() -> list[tuple[Any, ...]]:
    """Who else is in this database, and since when their snapshot holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_type, state, backend_xmin, LEFT(query, 60) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def _account_updates() -> tuple[int, int]:
    """Account rows updated, and how many of those were HOT, as this connection has
    counted them since it last reported its counts (at most once a second, between
    transactions)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'accounts_account'"
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)  # each day's run commits, as the job does
def test_the_health_jobs_account_updates_are_hot(default_health_model: Any) -> None:
    """A day's run rewrites every account whose score moved, each on its own page: the
    room migration 0021 leaves there holds a second version of every row, and the
    day before's old versions are reclaimed by then. Rows settle
    in a day: the first run grows each row by the stamps of its first score, and a
    grown row that no longer fits beside its next version moves once, the next time
    it is rewritten."""
    model = HealthModel.objects.get(status="active")
    model.measures.all().delete()  # one measure: every score moves when usage does
    HealthMeasure.objects.create(model=model, input="active_users_ratio", weight=1, low=20, high=80)
    day = date(2026, 11, 23)
    accounts = AccountFactory.create_batch(40)
    for n, shift in enumerate([0, 19, 0, 19]):  # ratios 21-60%, then 40-79%: scores 2-98
        for i, account in enumerate(accounts):
            UsageSnapshotFactory.create(
                account=account,
                date=day + timedelta(days=n - 1),
                active_users=21 + i + shift,
                seats_purchased=100,
            )
        with connection.cursor() as cursor:
            # What autovacuum does between two days' runs (a day's run leaves 20% of
            # the rows dead, its threshold): the day before's versions reclaimed. The
            # run's own pruning of them is not enough here: while a transaction of
            # another database holds the cluster's oldest snapshot (the other test
            # worker's), PostgreSQL skips recomputing what it may prune.
            cursor.execute("VACUUM accounts_account")
        with transaction.atomic():  # counted inside one transaction: nothing flushed
            before = _account_updates()
            run = services.health_scores_compute(today=day + timedelta(days=n))
            updated, hot = (a - b for a, b in zip(_account_updates(), before, strict=True))
        assert run.accounts_written == updated == 40
        if n >= 2:
            assert hot == 40, _activity()
    assert _kept() == _expected()
