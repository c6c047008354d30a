"""Port discovery: a rolling window of TCP connects with timeouts learnt from round trips.

Like ``nmap -sT``: a full TCP connect to each port, reset at once. What makes it fast where
ports are firewalled (the internet's common case, where a SYN simply gets no answer):

- **A rolling window, not groups.** Each address gets as many places as its per-target limit
  allows, held as the scan's global and per-target slots (``ScanContext.slots``) for the
  address's discovery: the scan's bound on sockets in flight across all hosts, and each
  host's, stay what they were. The moment a connect is judged, the next port starts in its
  place, so one silent port holds one place, never a whole group.
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
from collections.abc import Callable
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
    _listeners: set[Callable[[], None]] = field(default_factory=set)

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
        for listener in list(self._listeners):  # connects still waiting: re-time them
            listener()

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` at every sample, until ``forget``."""
        self._listeners.add(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        self._listeners.discard(listener)


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


class _Window:
    """The rolling window of one address, driven by the event loop's callbacks alone.

    ``width`` connects are in flight at once; the moment one is judged (an answer, or the
    deadline), the next port is started from the same callback: no task and no future per
    connect, so a fast network is not slowed down by bookkeeping. ``before_connect`` pays the
    connect from the budget and asks the policy; what it raises stops new connects (those in
    flight finish) and comes back from :meth:`run`.
    """

    def __init__(
        self,
        address: str,
        queue: deque[tuple[int, int]],
        rtt: RoundTrips,
        judged: Callable[[int, int, str], None],
        before_connect: Callable[[], None],
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.address = address
        self.family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.queue = queue
        self.rtt = rtt
        self.judged = judged
        self.before_connect = before_connect
        self.flying: dict[int, _Connect] = {}  # by file descriptor
        self.error: BaseException | None = None
        self.finished: asyncio.Future[None] = self.loop.create_future()

    async def run(self, width: int) -> None:
        try:
            for _ in range(width):
                self._next()
            await self.finished
        finally:
            for connect in list(self.flying.values()):  # cancelled: leave nothing behind
                connect.close()
            self.flying.clear()
        if self.error is not None:
            raise self.error

    def _next(self) -> None:
        """Start connects until one is in flight (a refused or closed port answers at once)."""
        while self.queue and self.error is None:
            port, attempt = self.queue.popleft()
            try:
                self.before_connect()
            except Exception as exc:  # the budget or the policy: stop here
                self.error = exc
                break
            try:
                state = self._launch(port, attempt)
            except (OSError, ValueError, OverflowError) as exc:  # out of sockets, bad port
                self.error = exc
                break
            if state is None:
                return
            self.judged(port, attempt, state)
        if not self.flying and not self.finished.done():
            self.finished.set_result(None)

    def _launch(self, port: int, attempt: int) -> str | None:
        """Connect; the state when known at once, None when the connect is in flight."""
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            started = self.loop.time()
            error = sock.connect_ex((self.address, port))
        except BaseException:
            sock.close()
            raise
        if error not in _IN_PROGRESS:
            _reset(sock)
            return _judge(error, self.rtt, self.loop.time() - started)
        connect = _Connect(self, sock, port, attempt, started)
        self.flying[connect.fd] = connect
        return None

    def settle(self, connect: _Connect, answered: bool) -> None:
        """A connect is over (``answered``, or silent until its deadline): judge, go on."""
        self.flying.pop(connect.fd, None)
        if answered:
            error = connect.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            state = _judge(error, self.rtt, self.loop.time() - connect.started)
        else:
            state = FILTERED
        connect.close()
        self.judged(connect.port, connect.attempt, state)
        self._next()


class _Connect:
    """One connect in flight: its socket, its writability watch and its deadline, which is
    ``2**attempt`` × the address's current timeout, moved whenever the estimate changes."""

    def __init__(
        self, window: _Window, sock: socket.socket, port: int, attempt: int, started: float
    ) -> None:
        self.window = window
        self.loop = window.loop
        self.sock = sock
        self.fd = sock.fileno()
        self.port = port
        self.attempt = attempt
        self.started = started
        self.over = False
        self.loop.add_writer(self.fd, self.answered)
        self.timer = self.loop.call_at(self.deadline(), self.expire)
        window.rtt.listen(self.retime)

    def deadline(self) -> float:
        return self.started + 2.0**self.attempt * self.window.rtt.timeout()

    def answered(self) -> None:
        if not self.over:
            self.window.settle(self, True)

    def expire(self) -> None:
        if self.over:
            return
        if self.loop.time() >= self.deadline():
            self.window.settle(self, False)
        else:  # the estimate grew meanwhile
            self.timer = self.loop.call_at(self.deadline(), self.expire)

    def retime(self) -> None:
        self.timer.cancel()
        self.timer = self.loop.call_at(max(self.loop.time(), self.deadline()), self.expire)

    def close(self) -> None:
        if self.over:
            return
        self.over = True
        self.loop.remove_writer(self.fd)
        self.timer.cancel()
        self.window.rtt.forget(self.retime)
        _reset(self.sock)


def _reset(sock: socket.socket) -> None:
    """Close with a RST (like ``nmap -sT``): no FIN exchange, no TIME_WAIT left here."""
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

    def judged(port: int, attempt: int, state: str) -> None:
        outcome.states[port] = state
        if state == FILTERED and attempt < retries:
            if rtt.samples:
                queue.append((port, attempt + 1))  # once more, at the end of the window
            else:
                unanswered.append(port)

    try:
        await _window(ctx, target, address, queue, rtt, judged, outcome)
        if unanswered and rtt.samples:
            # The address answered later on: what was silent before that deserves its retry,
            # with a timeout from the round trips now known.
            queue.extend((port, retries) for port in unanswered)
            await _window(ctx, target, address, queue, rtt, judged, outcome)
    except BudgetExceeded:
        raise BudgetExceeded(target, outcome.open) from None
    outcome.srtt = rtt.srtt
    return outcome


async def _window(
    ctx: ScanContext,
    target: str,
    address: str,
    queue: deque[tuple[int, int]],
    rtt: RoundTrips,
    judged: Callable[[int, int, str], None],
    outcome: Discovery,
) -> None:
    """Run the window over ``queue`` holding ``width`` scan slots (global and per-target)."""
    if not queue:
        return
    width = min(ctx.batch_size(), len(queue))
    # ``slots`` pays ``width`` connects from the budget up front: the first ``width`` connects
    # use that, every later one pays its own, so the budget counts connects exactly.
    prepaid = width

    def before_connect() -> None:
        nonlocal prepaid
        if prepaid:
            prepaid -= 1
        else:
            ctx.spend(target)
        ctx.guard(address)  # at the moment of connecting, every time
        outcome.attempts += 1

    async with ctx.slots(target, width):
        await _Window(address, queue, rtt, judged, before_connect).run(width)


async def discover(
    ctx: ScanContext, target: str, address: str, ports: tuple[int, ...] | list[int]
) -> list[int]:
    """The open ports of ``address`` among ``ports``, in port order."""
    return (await discover_states(ctx, target, address, ports)).open
