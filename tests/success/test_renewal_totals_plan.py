"""accounts.plain_sql.probes_priced_for_memory, on the renewals page's totals: a few
open renewals among many accounts are joined by primary-key probes, not by reading
every account; the setting holds for the statement only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from accounts.plain_sql import probes_priced_for_memory
from success.models import Renewal
from success.selectors.renewals import renewals_pipeline, renewals_totals
from tests.factories import AccountFactory, RenewalFactory

# As a request runs them: autocommit, no transaction around (inside one, SET LOCAL
# would last to its end), and the accounts committed for ANALYZE to count.
pytestmark = pytest.mark.django_db(transaction=True)


def _cost() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        return str(cursor.fetchone()[0])


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_setting_holds_for_each_statement_and_ends_with_it() -> None:
    outside = _cost()
    with probes_priced_for_memory(), CaptureQueriesContext(connection) as sent:
        inside = [_cost(), _cost()]
    assert inside == ["1.1", "1.1"] and _cost() == outside == "4"
    assert len(sent) == 2  # no statement of its own


def test_renewal_totals_read_their_accounts_by_key() -> None:
    accounts = Account.objects.bulk_create(AccountFactory.build_batch(5000), batch_size=1000)
    for account in accounts[::34]:  # spread over the table, as renewals are
        RenewalFactory.create(account=account, status=Renewal.Status.OPEN)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_account")
        cursor.execute("ANALYZE success_renewal")
    query = renewals_pipeline()
    with CaptureQueriesContext(connection) as sent:
        totals = renewals_totals(renewals=query)
    assert sum(p.count for p in totals) == 148
    assert len(sent) == 1
    sql = sent[0]["sql"]
    assert sql.startswith("SET LOCAL random_page_cost = 1.1;")
    statement = sql.split(";\n", 1)[1]
    # At PostgreSQL's default price this join reads every account (checked: a hash
    # join over a sequential scan); priced for memory it probes them by key.
    assert "Seq Scan on accounts_account" in _plan(statement, None)
    with probes_priced_for_memory():
        probed = _plan(statement, None)
    assert "Seq Scan on accounts_account" not in probed, probed
    assert "accounts_account_pkey" in probed, probed
