"""bench_digests runs end to end on a small portfolio and reports queries that
do not grow with the number of people (the timing itself is the benchmark's)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from accounts.models import Account
from tests.factories import AccountFactory


def test_bench_digests_spreads_the_portfolio_and_reports_constant_queries(
    db: Any, tmp_path: Path
) -> None:
    AccountFactory.create_batch(12)
    out = io.StringIO()
    output = tmp_path / "digests.json"
    call_command("bench_digests", "--csms", "8", "--output", str(output), stdout=out)
    results = json.loads(output.read_text())
    assert results["accounts"] == 12 and results["queries_constant"] is True
    assert results["small"]["people"] == 3 and results["full"]["people"] == 9
    assert Account.objects.filter(owner__username__startswith="bench-csm-").count() == 12
    assert "queries independent of people: True" in out.getvalue()
