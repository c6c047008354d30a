"""A "directory" that is not one: garbage bytes, silence, a closed door — the collector ends with
CollectError within its timeouts, never hangs, never another exception."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from carbet.engines.directory import collector, collector_connect
from carbet.engines.netpolicy import ConnectPolicy

OPEN = ConnectPolicy.open()  # the hostile peer is on loopback: the lab tool's policy


class Peer:
    """A TCP server on a loopback port that answers each connection with ``behaviour``."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            if self.behaviour == "garbage":
                conn.sendall(b"\x30\x84\xff\xff\xff\xff" + bytes(range(256)) * 40)
            elif self.behaviour == "close":
                conn.close()
            # "silent": keep the connection open and say nothing

    def stop(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(collector_connect, "CONNECT_TIMEOUT", 2)
    monkeypatch.setattr(collector_connect, "RECEIVE_TIMEOUT", 2)


@pytest.mark.parametrize("behaviour", ["garbage", "close", "silent"])
@pytest.mark.parametrize("starttls", [False, True])
def test_hostile_peer_gives_a_clear_error_in_time(behaviour, starttls, short_timeouts):
    peer = Peer(behaviour)
    started = time.monotonic()
    try:
        with pytest.raises(collector.CollectError):
            collector.collect(
                "127.0.0.1", peer.port, "u@x", "p", starttls=starttls, insecure=True,
                sysvol=False, policy=OPEN,
            )  # fmt: skip
    finally:
        peer.stop()
    assert time.monotonic() - started < 30
