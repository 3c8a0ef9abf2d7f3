"""Ctrl-C in `make run` stops the django-q worker cleanly (scripts/lib/processes.sh)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        f"/{s['NAME']}"
    )


def test_ctrl_c_stops_the_worker_with_one_signal_and_no_traceback(tmp_path: Path) -> None:
    script = tmp_path / "worker.sh"
    # What scripts/run does around the worker, with the same process handling.
    script.write_text(
        "set -euo pipefail\n"
        f"cd {ROOT}\n"
        "source scripts/lib/processes.sh\n"
        f"start {sys.executable} manage.py qcluster\n"
        'wait -n "${pids[@]}"\n'
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.local",
        "DATABASE_URL": _database_url(),
    }
    log = tmp_path / "out.log"

    def default_sigint() -> Any:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal's shell leaves it

    with log.open("w") as out:
        run = subprocess.Popen(
            ["bash", str(script)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_sigint,
        )
        deadline = time.monotonic() + 90
        while "running." not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "running." in log.read_text(), log.read_text()
        time.sleep(5)  # the workers settle, as after a while of `make run`
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: the terminal's foreground group
        assert run.wait(timeout=60) == 0
    output = log.read_text()
    assert "has stopped." in output
    assert "Traceback" not in output, output
