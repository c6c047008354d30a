"""Port discovery's rolling window and adaptive timeouts (issue 19, item 7), on real sockets.

The lab: open listeners, closed ports (bound, never listening) and *silent* ports — a
listener with backlog 0 whose accept queue is already full (filled with connections nobody
accepts), so the kernel drops every further SYN: what a firewall does (this kernel has no
netem). The reference is a plain blocking ``connect`` with a generous timeout, one port at a
time. No test asserts a time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import (
    BudgetExceeded,
    ScanConfig,
    ScanContext,
    TargetResult,
)
from carbet.engines.exposure.ports import discovery
from carbet.engines.exposure.ports.probe import scan_address
from carbet.engines.netpolicy import ConnectPolicy, ScopeRefused

BLOCK = os.getpid() % 200  # this session's own 127.58.BLOCK.x addresses


def ip(host: int) -> str:
    return f"127.58.{BLOCK}.{host}"


@dataclass
class Lab:
    address: str
    open: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        return sorted(self.open + self.closed + self.silent)

    def pending(self, port: int) -> int:
        """Connections completed on an open listener and not accepted yet (then dropped)."""
        listener = next(s for s in self.sockets if s.getsockname()[1] == port)
        listener.setblocking(False)
        count = 0
        while True:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1


def build(address: str, opened: int, closed: int, silent: int, backlog: int = 512) -> Lab:
    lab = Lab(address)
    for _ in range(opened):
        listener = socket.socket()
        listener.bind((address, 0))
        listener.listen(backlog)
        lab.sockets.append(listener)
        lab.open.append(listener.getsockname()[1])
    for _ in range(closed):
        # Bound and kept (so no other socket of the lab gets its number), never listening:
        # the kernel answers a SYN there with a RST.
        probe = socket.socket()
        probe.bind((address, 0))
        lab.sockets.append(probe)
        lab.closed.append(probe.getsockname()[1])
    for _ in range(silent):
        listener = socket.socket()
        listener.bind((address, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        lab.sockets.append(listener)
        for _ in range(3):  # more than the queue holds: it stays full, further SYNs dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((address, port))
            lab.sockets.append(filler)
        lab.silent.append(port)
    return lab


def close(lab: Lab) -> None:
    for sock in lab.sockets:
        sock.close()


@pytest.fixture
def mixed() -> Iterator[Lab]:
    lab = build(ip(1), opened=6, closed=10, silent=3)
    yield lab
    close(lab)


def reference_open(lab: Lab) -> list[int]:
    """One blocking connect at a time, 2 s each: slow, but nobody doubts it."""
    found = []
    for port in lab.ports:
        if port in lab.silent:
            continue  # a blocking connect would only confirm the silence, slowly
        try:
            with socket.create_connection((lab.address, port), timeout=2.0):
                found.append(port)
        except OSError:
            pass
    return sorted(found)


def run(coroutine):
    return asyncio.run(coroutine)


def test_same_open_set_as_the_reference_and_silent_ports_are_filtered(mixed):
    ctx = ScanContext(ScanConfig(connect_timeout=3.0))
    outcome = run(discovery.discover_states(ctx, "t", mixed.address, mixed.ports))
    assert outcome.open == reference_open(mixed) == sorted(mixed.open)
    assert outcome.filtered == sorted(mixed.silent)
    assert outcome.closed == sorted(mixed.closed)
    assert outcome.srtt is not None  # the address answered: its round trip was measured
    # Every connect is paid from the budget, the silent ports' retries included.
    assert ctx.spent("t") == outcome.attempts == len(mixed.ports) + len(mixed.silent)


@pytest.mark.skipif(shutil.which("nmap") is None, reason="nmap is not installed")
def test_same_open_and_filtered_sets_as_nmap(mixed):
    """nmap's connect scan as the reference: the same open set, the same filtered ports."""
    output = subprocess.run(
        ["nmap", "-sT", "-Pn", "-n", "-p", ",".join(map(str, mixed.ports)), "-oX", "-",
         mixed.address],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    states: dict[str, set[int]] = {}
    for port in ET.fromstring(output).iter("port"):
        state = port.find("state")
        if state is not None:
            states.setdefault(state.get("state", ""), set()).add(int(port.get("portid", "0")))
    ctx = ScanContext(ScanConfig())
    outcome = run(discovery.discover_states(ctx, "t", mixed.address, mixed.ports))
    assert set(outcome.open) == states.get("open", set()) == set(mixed.open)
    assert set(outcome.filtered) == states.get("filtered", set()) == set(mixed.silent)


def test_a_scan_through_the_runner_keeps_the_filtered_ports(mixed):
    config = ScanConfig(ports=tuple(mixed.ports), read_timeout=0.3, tls_full=False,
                        web_paths=False, mail_dns=False)  # fmt: skip
    (result,) = runner.scan([mixed.address], config)
    assert result.evidence["filtered_ports"] == {mixed.address: sorted(mixed.silent)}
    assert result.evidence["open_ports"] == {mixed.address: sorted(mixed.open)}


def test_scan_address_reports_the_filtered_ports(mixed):
    ctx = ScanContext(ScanConfig(ports=tuple(mixed.ports), read_timeout=0.3))
    result = TargetResult(mixed.address, kind="ip", addresses=[mixed.address])
    run(scan_address(ctx, result, mixed.address))
    assert result.evidence["open_ports"][mixed.address] == sorted(mixed.open)
    assert result.evidence["filtered_ports"][mixed.address] == sorted(mixed.silent)
    assert sorted(service.port for service in result.services) == sorted(mixed.open)


def test_no_port_is_missed_under_a_full_window():
    """Many addresses at once, far more ports than the window: each connect waits for its
    slot (the clock starts at the connect, not in the queue), none is lost."""
    labs = [build(ip(10 + index), opened=30, closed=40, silent=2) for index in range(4)]
    try:
        config = ScanConfig(global_concurrency=12, per_target_concurrency=8, per_target_budget=500)
        ctx = ScanContext(config)

        async def everything() -> list[discovery.Discovery]:
            return await asyncio.gather(
                *(
                    discovery.discover_states(ctx, lab.address, lab.address, lab.ports)
                    for lab in labs
                )
            )

        for lab, outcome in zip(labs, run(everything()), strict=True):
            assert outcome.open == sorted(lab.open), lab.address
            assert outcome.filtered == sorted(lab.silent)
            assert outcome.closed == sorted(lab.closed)
    finally:
        for lab in labs:
            close(lab)


def test_a_host_that_never_answers_is_all_filtered_without_retries():
    lab = build(ip(30), opened=0, closed=0, silent=3)
    try:
        ctx = ScanContext(ScanConfig(connect_timeout=0.3))
        outcome = run(discovery.discover_states(ctx, "t", lab.address, lab.ports))
        assert outcome.filtered == sorted(lab.silent) and outcome.open == []
        assert outcome.srtt is None and outcome.attempts == 3  # nothing learnt: no retry
    finally:
        close(lab)


def test_the_policy_is_asked_before_every_connect_and_refusal_connects_nothing(mixed):
    ctx = ScanContext(ScanConfig(policy=ConnectPolicy(allow_loopback=False)))
    result = TargetResult(mixed.address)
    from carbet.engines.exposure.core import recording

    with recording(result), pytest.raises(ScopeRefused):
        run(discovery.discover_states(ctx, "t", mixed.address, mixed.ports))
    assert all(mixed.pending(port) == 0 for port in mixed.open)
    assert [record["reason"] for record in result.refused] == ["loopback"]


def test_a_policy_that_changes_mid_scan_stops_the_next_connects(mixed):
    """The policy is consulted per connect, not once per address: a refusal that appears
    during discovery (a registry reload) stops every later connect."""
    calls = {"n": 0}

    class Flipping(ConnectPolicy):
        def address_refusal(self, address: str) -> str | None:
            calls["n"] += 1
            return "other_structure" if calls["n"] > 4 else None

    config = ScanConfig(per_target_concurrency=1, policy=Flipping(allow_loopback=True))
    ctx = ScanContext(config)
    with pytest.raises(ScopeRefused):
        run(discovery.discover_states(ctx, "t", mixed.address, mixed.ports))
    assert ctx.spent("t") == 5  # four connects made, the fifth refused before connecting


def test_the_budget_stops_discovery_and_keeps_what_was_found(mixed):
    ctx = ScanContext(ScanConfig(per_target_budget=5, per_target_concurrency=1))
    with pytest.raises(BudgetExceeded) as caught:
        run(discovery.discover_states(ctx, "t", mixed.address, mixed.ports))
    found = caught.value.args[1]
    assert set(found) <= set(mixed.open)
    assert sum(mixed.pending(port) for port in mixed.open) <= 5


# --- the round-trip estimator -------------------------------------------------------------------


def test_rfc6298_first_and_following_samples():
    rtt = discovery.RoundTrips(min_timeout=0.0, max_timeout=10.0, initial_timeout=1.0)
    assert rtt.timeout() == 1.0  # nothing measured yet
    rtt.sample(0.100)
    assert rtt.srtt == pytest.approx(0.100) and rtt.rttvar == pytest.approx(0.050)
    assert rtt.timeout() == pytest.approx(0.300)
    rtt.sample(0.200)
    assert rtt.rttvar == pytest.approx(0.75 * 0.050 + 0.25 * 0.100)
    assert rtt.srtt == pytest.approx(0.875 * 0.100 + 0.125 * 0.200)


def test_waiting_connects_are_re_timed_by_a_new_sample_until_they_leave():
    rtt = discovery.RoundTrips()
    calls: list[float] = []

    def listener() -> None:
        calls.append(rtt.timeout())

    rtt.listen(listener)
    rtt.sample(0.01)
    rtt.forget(listener)
    rtt.sample(0.01)
    assert calls == [rtt.min_timeout]  # told once, with the new timeout, then no more


@given(
    st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=50),
    st.floats(min_value=0.01, max_value=1.0),
    st.floats(min_value=1.0, max_value=30.0),
)
def test_the_timeout_always_stays_within_its_bounds(samples, low, high):
    rtt = discovery.RoundTrips(min_timeout=low, max_timeout=high, initial_timeout=1.0)
    for value in samples:
        rtt.sample(value)
        assert low <= rtt.timeout() <= high
