"""lifecycle/wsgi.py: a web worker's loaded project is out of the cyclic collector's
sight (gc.freeze), so its full collections walk only what requests make."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings


def test_a_worker_freezes_what_it_loaded_and_still_serves() -> None:
    script = (
        "import gc, json\n"
        "import lifecycle.wsgi as w\n"
        "from django.test import Client\n"
        "frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())\n"
        "status = Client().get('/login/').status_code\n"
        "print(json.dumps([frozen, tracked, status]))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lifecycle.settings.test"}
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, tracked, status = json.loads(run.stdout.strip().splitlines()[-1])
    # Django, the apps, their views and URL patterns: well over 50,000 objects, against
    # the few the import of the test client made after the freeze.
    assert frozen > 50_000
    assert tracked < frozen / 5
    assert status == 200
