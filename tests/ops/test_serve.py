"""``carbet serve`` for real: first start on an empty data directory, web server, worker
supervision, cookie security choice, JSON request logs and a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import urllib.request
from pathlib import Path

import pytest

from carbet.ops.management.commands.serve import bind_address, is_loopback
from tests.ops.realservers import (
    carbet_env,
    free_port,
    run_carbet,
    start_carbet,
    stop_process,
    wait_until,
)


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return response.status, dict(response.headers.items()), response.read()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _child_pids(text: str) -> dict[str, int]:
    match = re.search(r"Carbet est prêt \(web pid (\d+), worker pid (\d+)\)", text)
    assert match, text[-3000:]
    return {"web": int(match.group(1)), "worker": int(match.group(2))}


@pytest.mark.realserver
def test_serve_from_an_empty_data_directory(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = carbet_env(tmp_path / "data")
    server = start_carbet(env, "serve", "--port", str(port), "--workers", "1", log=log)
    text = lambda: log.read_text(errors="replace")  # noqa: E731
    try:
        wait_until(lambda: "Carbet est prêt" in text(), 240, "serve to be ready")
        output = text()
        assert "Base de données à jour" in output  # the empty directory was migrated
        assert "Fichiers statiques prêts" in output
        assert f"Connexion : http://127.0.0.1:{port}/compte/connexion/" in output
        assert "CARBET_INSECURE_HTTP=1" in output  # the local-HTTP warning
        pids = _child_pids(output)

        status, _headers, body = _get(f"http://127.0.0.1:{port}/sante/")
        assert status == 200 and json.loads(body)["database"] == "ok"
        status, headers, _body = _get(f"http://127.0.0.1:{port}/static/carbet/carbet.css")
        assert status == 200 and "text/css" in headers["Content-Type"]
        status, headers, body = _get(f"http://127.0.0.1:{port}/compte/connexion/")
        assert status == 200
        # Plain HTTP on loopback: the cookies must not be Secure, or the browser drops them.
        cookie = headers.get("Set-Cookie", "")
        assert "csrftoken" in cookie and "Secure" not in cookie

        # Gunicorn's access log is off; our middleware logs each request as one JSON line.
        request_lines = [
            json.loads(line)
            for line in text().splitlines()
            if line.startswith("{") and '"carbet.request"' in line
        ]
        health = next(entry for entry in request_lines if entry["path"] == "/sante/")
        assert health["method"] == "GET" and health["status"] == 200
        assert isinstance(health["duration_ms"], float | int)

        # The supervised worker runs jobs...
        result = run_carbet(env, "tasks", "selftest", "--wait", "120")
        assert result.returncode == 0, result.stderr + text()[-3000:]
        # ...and is restarted when it dies.
        os.kill(pids["worker"], signal.SIGKILL)
        wait_until(lambda: "relancé" in text(), 60, "the worker to be restarted")
        result = run_carbet(env, "tasks", "selftest", "--wait", "120")
        assert result.returncode == 0, result.stderr + text()[-3000:]
        new_worker = int(re.search(r"« worker » relancé \(pid (\d+)\)", text()).group(1))
    finally:
        code = stop_process(server, signal.SIGTERM, timeout=90)
    assert code == 0, text()[-3000:]
    assert "Arrêt demandé (SIGTERM)" in text()
    for pid in (pids["web"], new_worker):
        wait_until(lambda pid=pid: not _pid_alive(pid), 30, f"child {pid} to be gone")


@pytest.mark.realserver
def test_serve_respects_an_explicit_secure_cookie_choice(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = carbet_env(tmp_path / "data", CARBET_INSECURE_HTTP="0")
    server = start_carbet(
        env, "serve", "--port", str(port), "--workers", "1", "--no-worker", log=log
    )
    try:
        wait_until(lambda: "Carbet est prêt" in log.read_text(errors="replace"), 240, "serve")
        output = log.read_text(errors="replace")
        assert "worker pid" not in output and "--no-worker" in output
        assert "CARBET_INSECURE_HTTP=1" not in output
        _status, headers, _body = _get(f"http://127.0.0.1:{port}/compte/connexion/")
        assert "Secure" in headers.get("Set-Cookie", "")
    finally:
        assert stop_process(server, signal.SIGTERM, timeout=90) == 0


def test_serve_refuses_a_busy_port(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = carbet_env(tmp_path / "data")
        result = run_carbet(env, "serve", "--port", str(port), "--no-worker", timeout=300)
    assert result.returncode == 1
    assert "n'a pas démarré" in result.stderr


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("carbet.example", False),
    ],
)
def test_loopback_detection(host, expected):
    assert is_loopback(host) is expected


def test_bind_address_brackets_ipv6():
    assert bind_address("::1", 8000) == "[::1]:8000"
    assert bind_address("127.0.0.1", 8000) == "127.0.0.1:8000"
