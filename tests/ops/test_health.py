"""Health endpoint and structured request logs."""

from __future__ import annotations

import json
import logging

from carbet.logs import JsonFormatter


def test_health_answers_json_with_database_ok(client, db):
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert payload["status"] == "ok" and payload["database"] == "ok"
    assert payload["version"] and payload["tasks"]
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_request_log_line_is_valid_json(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="carbet.request"):
        response = client.get("/sante/", HTTP_X_REQUEST_ID="abc123")
    records = [r for r in caplog.records if r.name == "carbet.request"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "GET" and entry["path"] == "/sante/"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float | int) and entry["duration_ms"] >= 0
    assert entry["request_id"] == "abc123" == response["X-Request-Id"]
    assert entry["user_id"] is None  # anonymous: JSON null, not the string "None"
    assert entry["level"] == "INFO" and entry["logger"] == "carbet.request"


def test_exceptions_are_logged_as_one_json_line():
    logger = logging.getLogger("carbet.test")
    try:
        raise ValueError("boum")
    except ValueError:
        record = logger.makeRecord(
            "carbet.test", logging.ERROR, __file__, 1, "échec", (), __import__("sys").exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "échec" and "ValueError: boum" in entry["exception"]
