"""Database settings for the reporting reads, scoped to one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# Wide aggregates over 100k rows run in milliseconds but PostgreSQL's JIT
# spends seconds compiling them, and a little more memory keeps the per-account
# hash aggregates off disk. SET LOCAL ends with the transaction.
POSTGRES_SETTINGS = "SET LOCAL jit = off; SET LOCAL work_mem = '32MB'"


@contextmanager
def reporting() -> Iterator[None]:
    """Run the enclosed reads in one transaction tuned for reporting."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(POSTGRES_SETTINGS)
        yield
