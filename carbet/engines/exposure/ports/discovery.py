"""Port discovery: a rolling window of TCP connects with timeouts learnt from round trips.

Like ``nmap -sT``: a full TCP connect to each port, reset at once. What makes it fast where
ports are firewalled (the internet's common case, where a SYN simply gets no answer):

- **A rolling window, not groups.** Each address gets as many workers as its per-target limit
  allows; a worker takes the next port as soon as its connect finishes, so one silent port
  holds one place in the window, never a whole group. Each connect holds one global and one
  per-target slot of the scan (``ScanContext.slot``): the scan's bound on sockets in flight
  across all hosts, and each host's, stay what they were.
- **Timeouts from measured round trips.** Every answer (a SYN-ACK: open; a RST: closed) is a
  round-trip sample for its address. The estimator is RFC 6298's (the one nmap uses too):
  ``srtt + 4·rttvar``, clamped to ``[min_timeout, connect_timeout]``. Until an address has
  answered once, a connect waits ``initial_timeout``; a connect already waiting when the
  first sample arrives is woken and judged by the new timeout at once.
- **Silent ports are "filtered" after the adaptive timeout**, then retried once (re-queued at
  the end of the window, with twice the timeout, like a retransmission): a SYN lost once
  does not hide an open port. An ICMP "unreachable" is filtered at once.

Every connect asks the scan's connect policy about the address at the moment of connecting
(``ScanContext.guard``) and spends one connection from the target's budget, retries included.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from carbet.engines.exposure.core import BudgetExceeded, ScanContext

OPEN, CLOSED, FILTERED = "open", "closed", "filtered"
MIN_TIMEOUT = 0.2  # seconds: nmap's -T4 floor is 0.1 s; a little more margin here
INITIAL_TIMEOUT = 1.0  # before an address has answered once (nmap: 1 s by default)
RETRIES = 1  # a silent port is tried once more before it is called filtered

_NO_LINGER = struct.pack("ii", 1, 0)
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY}
# The handshake completed, then the service dropped us: it listens.
_LISTENING = {0, errno.ECONNRESET, errno.ECONNABORTED}
_UNREACHABLE = {
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.ETIMEDOUT,
}  # fmt: skip


@dataclass
class RoundTrips:
    """RFC 6298's smoothed round trip and variation for one address, and waiters to wake."""

    min_timeout: float = MIN_TIMEOUT
    max_timeout: float = 3.0
    initial_timeout: float = INITIAL_TIMEOUT
    srtt: float | None = None
    rttvar: float = 0.0
    samples: int = 0
    _waiters: set[asyncio.Future[None]] = field(default_factory=set)

    def timeout(self) -> float:
        if self.srtt is None:
            return min(self.initial_timeout, self.max_timeout)
        estimate = self.srtt + 4 * self.rttvar
        return max(self.min_timeout, min(self.max_timeout, estimate))

    def sample(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        if self.srtt is None:
            self.srtt, self.rttvar = seconds, seconds / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - seconds)
            self.srtt = 0.875 * self.srtt + 0.125 * seconds
        self.samples += 1
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:  # connects still waiting: judge them by the new timeout
            if not waiter.done():
                waiter.set_result(None)

    def changed(self) -> asyncio.Future[None]:
        """A future resolved at the next sample (``forget`` it when no longer waiting)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        return waiter

    def forget(self, waiter: asyncio.Future[None]) -> None:
        self._waiters.discard(waiter)
        waiter.cancel()


@dataclass
class Discovery:
    """The state of each probed port of one address (``open``, ``closed``, ``filtered``)."""

    address: str
    states: dict[int, str] = field(default_factory=dict)
    srtt: float | None = None  # seconds, once the address answered
    attempts: int = 0

    @property
    def open(self) -> list[int]:
        return sorted(port for port, state in self.states.items() if state == OPEN)

    @property
    def filtered(self) -> list[int]:
        return sorted(port for port, state in self.states.items() if state == FILTERED)

    @property
    def closed(self) -> list[int]:
        return sorted(port for port, state in self.states.items() if state == CLOSED)


async def connect_once(address: str, port: int, rtt: RoundTrips, patience: float = 1.0) -> str:
    """One full TCP connect to ``address:port``, reset at once: open, closed or filtered.

    The wait is ``patience`` × the address's current timeout, re-read whenever the estimator
    learns something, so a connect started before the first answer is not held for the
    initial timeout once the address's round trip is known. The caller asked the policy."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    fd = -1
    try:
        sock.setblocking(False)
        started = loop.time()
        error = sock.connect_ex((address, port))
        if error not in _IN_PROGRESS:
            return _judge(error, rtt, loop.time() - started)
        fd = sock.fileno()
        answered: asyncio.Future[None] = loop.create_future()

        def on_writable() -> None:
            loop.remove_writer(fd)
            if not answered.done():
                answered.set_result(None)

        loop.add_writer(fd, on_writable)
        while not answered.done():
            remaining = started + patience * rtt.timeout() - loop.time()
            if remaining <= 0:
                return FILTERED
            wake = rtt.changed()
            try:
                await asyncio.wait(
                    {answered, wake}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                rtt.forget(wake)
        elapsed = loop.time() - started
        return _judge(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), rtt, elapsed)
    finally:
        if fd >= 0:
            loop.remove_writer(fd)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _NO_LINGER)
        sock.close()


def _judge(error: int, rtt: RoundTrips, elapsed: float) -> str:
    if error in _LISTENING:
        rtt.sample(elapsed)
        return OPEN
    if error == errno.ECONNREFUSED:
        rtt.sample(elapsed)
        return CLOSED
    if error in _UNREACHABLE:
        return FILTERED
    return CLOSED  # anything else: no service reachable there


async def discover_states(
    ctx: ScanContext,
    target: str,
    address: str,
    ports: tuple[int, ...] | list[int],
    *,
    min_timeout: float = MIN_TIMEOUT,
    retries: int = RETRIES,
) -> Discovery:
    """Every port of ``ports`` on ``address`` judged open, closed or filtered.

    Raises ``BudgetExceeded(target, open ports so far)`` when the target's budget runs out,
    and the policy's ``ScopeRefused`` if ``address`` may not be reached (nothing connected).
    """
    unique = list(dict.fromkeys(ports))
    outcome = Discovery(address)
    maximum = max(ctx.config.connect_timeout, min_timeout)
    rtt = RoundTrips(
        min_timeout=min_timeout,
        max_timeout=maximum,
        initial_timeout=min(INITIAL_TIMEOUT, maximum),
    )
    queue: deque[tuple[int, int]] = deque((port, 0) for port in unique)
    unanswered: list[int] = []  # silent before the address ever answered: retried after

    async def worker() -> None:
        while queue:
            port, attempt = queue.popleft()
            async with ctx.slot(target):
                ctx.guard(address)  # at the moment of connecting, every time
                outcome.attempts += 1
                state = await connect_once(address, port, rtt, patience=2.0**attempt)
            outcome.states[port] = state
            if state == FILTERED and attempt < retries:
                if rtt.samples:
                    queue.append((port, attempt + 1))  # once more, at the end of the window
                else:
                    unanswered.append(port)

    await _run_workers(worker, min(ctx.batch_size(), len(unique)), target, outcome)
    if unanswered and rtt.samples:
        # The address answered later on: what was silent before that deserves its retry
        # with a timeout from the round trips now known.
        queue.extend((port, retries) for port in unanswered)
        await _run_workers(worker, min(ctx.batch_size(), len(unanswered)), target, outcome)
    outcome.srtt = rtt.srtt
    return outcome


async def _run_workers(
    worker: Callable[[], Awaitable[None]], count: int, target: str, outcome: Discovery
) -> None:
    results = await asyncio.gather(*(worker() for _ in range(count)), return_exceptions=True)
    for failure in results:
        if isinstance(failure, BudgetExceeded):
            raise BudgetExceeded(target, outcome.open) from None
    for failure in results:
        if isinstance(failure, BaseException):
            raise failure


async def discover(
    ctx: ScanContext, target: str, address: str, ports: tuple[int, ...] | list[int]
) -> list[int]:
    """The open ports of ``address`` among ``ports``, in port order."""
    return (await discover_states(ctx, target, address, ports)).open
