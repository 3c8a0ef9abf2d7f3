"""accounts.plain_sql: statements read ahead in one round trip, and statements whose
plan PostgreSQL keeps on the connection. Both are optimisations only: whatever is
listed, fetched, prepared or failed, each read answers what running it alone would."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from accounts.plain_sql import Statement, execute_prepared, fetch, read_ahead
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

_BY_NAME = "SELECT id, name, arr FROM accounts_account WHERE name LIKE %s ORDER BY id"
_ARR = (None, None, Account._meta.get_field("arr"))
_NO_PARAMS = "SELECT COUNT(*) FROM accounts_account WHERE name LIKE 'pct%'"


@pytest.fixture
def accounts() -> list[Account]:
    return [
        AccountFactory.create(name=name, arr=Decimal(arr))
        for name, arr in [("pct one", "10.50"), ("pct two", "7"), ("other", "3")]
    ]


def test_read_ahead_sends_every_statement_in_one_round_trip(accounts: list[Account]) -> None:
    alone = [fetch(_BY_NAME, ["pct%"], _ARR), fetch(_NO_PARAMS, [], (None,))]
    listed = [Statement(_BY_NAME, ("pct%",)), Statement(_NO_PARAMS, ())]
    with CaptureQueriesContext(connection) as sent, read_ahead(listed):
        ahead = [fetch(_BY_NAME, ["pct%"], _ARR), fetch(_NO_PARAMS, [], (None,))]
    assert ahead == alone  # converted as alone: the ARR a Decimal, the literal % kept
    assert ahead[0][0][2] == Decimal("10.50") and ahead[1] == [(2,)]
    assert len(sent) == 1


def test_a_fetch_not_read_ahead_runs_on_its_own(accounts: list[Account]) -> None:
    listed = [Statement(_BY_NAME, ("pct%",)), Statement(_NO_PARAMS, ())]
    with read_ahead(listed), CaptureQueriesContext(connection) as sent:
        other = fetch(_BY_NAME, ["other"], _ARR)  # other parameters: not read ahead
        first = fetch(_BY_NAME, ["pct%"], _ARR)
        again = fetch(_BY_NAME, ["pct%"], _ARR)  # read ahead once: answers once
    assert [row[1] for row in other] == ["other"]
    assert first == again and len(first) == 2
    assert len(sent) == 2
    with CaptureQueriesContext(connection) as after:
        fetch(_NO_PARAMS, [], (None,))  # outside the block nothing is kept
    assert len(after) == 1


def test_read_ahead_answers_each_listed_statement_in_any_order(accounts: list[Account]) -> None:
    """Random lists (repeats included), fetched in random orders, some left unread:
    every fetch answers what it answers alone, and none is sent again."""
    rng = random.Random(22)
    choices = [
        (_BY_NAME, ("pct%",), _ARR),
        (_BY_NAME, ("other",), _ARR),
        (_BY_NAME, ("%o%",), _ARR),
        (_NO_PARAMS, (), (None,)),
    ]
    alone = {(sql, params): fetch(sql, params, fields) for sql, params, fields in choices}
    for _ in range(25):
        listed = [rng.choice(choices) for _ in range(rng.randint(1, 7))]
        fetched = rng.sample(listed, rng.randint(0, len(listed)))
        ahead = [Statement(sql, params) for sql, params, _f in listed]
        with read_ahead(ahead), CaptureQueriesContext(connection) as sent:
            for sql, params, fields in fetched:
                assert fetch(sql, list(params), fields) == alone[(sql, params)]
        assert len(sent) == 0


def test_a_failing_statement_fails_the_read_ahead_and_leaves_nothing_behind(
    accounts: list[Account],
) -> None:
    statements = [Statement(_BY_NAME, ("pct%",)), Statement("SELECT 1 / %s", (0,))]
    with (
        pytest.raises(DatabaseError, match="division by zero"),
        transaction.atomic(),
        read_ahead(statements),
    ):
        pass
    assert len(fetch(_BY_NAME, ["pct%"], _ARR)) == 2


_PREPARABLE = (
    "SELECT id, name FROM accounts_account WHERE name LIKE %(pattern)s "
    "AND arr >= %(least)s AND name <> 'x%%' ORDER BY id"
)


def _prepared(pattern: str, least: Decimal) -> list[Any]:
    with connection.cursor() as cursor:
        execute_prepared(cursor, _PREPARABLE, {"pattern": pattern, "least": least})
        return list(cursor.fetchall())


def _plain(pattern: str, least: Decimal) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(_PREPARABLE, {"pattern": pattern, "least": least})
        return list(cursor.fetchall())


def _prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE 'lifecycle%%' ORDER BY 1"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)  # closes its connection
def test_a_prepared_statement_answers_as_the_plain_one_in_one_round_trip_each(
    accounts: list[Account],
) -> None:
    connection.close()  # a new connection: nothing prepared on it yet
    asked = [("pct%", Decimal(0)), ("pct%", Decimal(8)), ("%", Decimal(0)), ("none", Decimal(0))]
    with CaptureQueriesContext(connection) as sent:
        answers = [_prepared(*args) for args in asked * 3]  # past the fifth: a generic plan
    assert answers == [_plain(*args) for args in asked * 3]
    assert [len(a) for a in answers[:4]] == [2, 1, 3, 0]
    assert sent[0]["sql"].startswith("PREPARE lifecycle_")
    assert all(q["sql"].startswith("EXECUTE lifecycle_") for q in sent.captured_queries[1:])
    assert len(sent) == len(asked) * 3 and len(_prepared_here()) == 1


@pytest.mark.django_db(transaction=True)  # closes its connection
def test_a_new_connection_prepares_again(accounts: list[Account]) -> None:
    _prepared("pct%", Decimal(0))
    connection.close()
    with CaptureQueriesContext(connection) as sent:
        assert len(_prepared("pct%", Decimal(0))) == 2
    assert sent[0]["sql"].startswith("PREPARE")


@pytest.mark.django_db(transaction=True)  # closes its connection
def test_a_failed_first_run_leaves_the_next_one_working(accounts: list[Account]) -> None:
    """The EXECUTE sent with the PREPARE fails (here: a statement timeout); PREPARE
    stays done, so the next try prepares under another name instead of failing on
    "already exists"."""
    connection.close()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        execute_prepared(cursor, "SELECT pg_sleep(0.05), %(n)s::int", {"n": 1})
    with connection.cursor() as cursor:
        execute_prepared(cursor, "SELECT pg_sleep(0.05), %(n)s::int", {"n": 2})
        assert [n for _slept, n in cursor.fetchall()] == [2]
        execute_prepared(cursor, "SELECT pg_sleep(0.05), %(n)s::int", {"n": 3})
        assert [n for _slept, n in cursor.fetchall()] == [3]
    assert len(_prepared_here()) == 2  # the failed try's, and the one in use


@pytest.mark.django_db(transaction=True)  # closes its connection
def test_prepared_statements_can_be_turned_off(accounts: list[Account], settings: Any) -> None:
    settings.PREPARED_STATEMENTS = False
    connection.close()
    with CaptureQueriesContext(connection) as sent:
        assert _prepared("pct%", Decimal(0)) == _plain("pct%", Decimal(0))
    assert not sent[0]["sql"].startswith(("PREPARE", "EXECUTE"))
    assert _prepared_here() == []
