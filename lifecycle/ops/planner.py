"""How PostgreSQL prices reading a page at random, on Lifecycle's own connections.

PostgreSQL's default `random_page_cost` (4, against 1 for a page read in sequence)
prices every index probe as a disk seek. Lifecycle's working set (accounts, renewals,
tasks, the pages' indexes) is meant to sit in memory, where a probe costs about what a
page read in sequence does; priced at 4, the renewals page's totals read all 10,000
accounts in sequence (a hash join, 7.5 ms) rather than look up its 298 renewals'
accounts by key (2.6 ms), and the account table, kept at fillfactor 50 for the health
job's in-place updates, makes the scan twice as long. 1.1 is the usual setting for
data in memory or on SSDs (docs/performance.md, "Renewals: the planner's price of a
probe"; docs/operations.md, "Database settings").

Set on each new connection (one statement, once per connection), so it changes
nothing for other clients of the server. DATABASE_RANDOM_PAGE_COST sets another value;
empty leaves the server's own setting."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def connection_tuned(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: the planner's price of a random page read, on PostgreSQL."""
    cost = settings.DATABASE_RANDOM_PAGE_COST
    if connection.vendor != "postgresql" or cost is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('random_page_cost', %s, false)", [str(cost)])
