"""The ingestion benchmark command pushes through the API and leaves no trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts.models import Account, ApiToken, UsageSnapshot


@pytest.mark.django_db
def test_bench_reports_a_rate_and_rolls_back(tmp_path: Path, capsys: Any) -> None:
    output = tmp_path / "usage_ingest.json"
    call_command(
        "bench_usage_ingest",
        "--accounts=7",
        "--days=3",
        "--rows-per-request=10",
        f"--output={output}",
    )
    result = json.loads(output.read_text())
    assert (result["snapshots"], result["requests"]) == (21, 3)
    assert result["insert_snapshots_per_s"] > 0 and result["update_snapshots_per_s"] > 0
    assert "snapshots/s" in capsys.readouterr().out
    assert not Account.objects.exists()
    assert not UsageSnapshot.objects.exists()
    assert not ApiToken.objects.exists()
