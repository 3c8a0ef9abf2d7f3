"""Probes, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.test import Client

from lifecycle.ops.logs import JsonFormatter, RequestIdFilter, request_id


def test_readyz_answers_without_login_when_the_database_is_migrated(db: Any) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "migrations": True}}


def test_healthz_fails_naming_the_missing_worker_heartbeat(db: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": True, "broker": True, "workers": False}
    assert body["clusters"] == 0


def test_each_response_carries_a_request_id_and_keeps_a_sane_given_one(db: Any) -> None:
    fresh = Client().get("/readyz")
    assert len(fresh["X-Request-ID"]) == 32
    given = Client().get("/readyz", headers={"X-Request-ID": "lb-1234"})
    assert given["X-Request-ID"] == "lb-1234"
    hostile = Client().get("/readyz", headers={"X-Request-ID": "a b\u00e9" * 40})
    assert hostile["X-Request-ID"] != "a b\u00e9" * 40


def test_a_json_log_line_has_the_request_id_and_extras() -> None:
    record = logging.makeLogRecord(
        {"name": "accounts", "levelname": "INFO", "msg": "pushed %s", "args": (3,), "run": 7}
    )
    token = request_id.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "pushed 3"
    assert line["request_id"] == "req-1"
    assert line["run"] == 7
    assert line["level"] == "INFO" and line["logger"] == "accounts"
