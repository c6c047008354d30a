"""Start and stop the demo lab: one thread, one event loop, every listener of ``hosts.plan()``.

    with Lab().running() as lab:   # in-process (the demo's tests)
        ...
    carbet demo lab                # beside ``carbet serve`` (scripts/run-demo), until Ctrl-C

Every address is checked to be inside 127.97.0.0/16 before binding: the lab never listens
anywhere else. Certificates are generated at start (self-signed, in a private temporary
directory removed at stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from carbet.demo.lab import dns as labdns
from carbet.demo.lab import hosts, listeners

log = logging.getLogger("carbet.demo.lab")


def can_bind_privileged() -> bool:
    """Whether this process may listen below port 1024 (root or CAP_NET_BIND_SERVICE)."""
    with socket.socket() as probe:
        try:
            probe.bind((hosts.DNS_ADDRESS, 1))
        except OSError:
            return False
    return True


class Lab:
    """The lab's listeners; ``start()`` returns once every one of them is bound."""

    def __init__(self, privileged: bool | None = None) -> None:
        self.privileged = can_bind_privileged() if privileged is None else privileged
        self.ports = hosts.LabPorts.choose(self.privileged)
        self.labs = hosts.plan()
        self.nameserver = hosts.NAMESERVER
        self.listening: list[tuple[str, int, str]] = []
        self._closers: list = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._certs = Path(tempfile.mkdtemp(prefix="carbet-lab-"))

    # --- the listeners ---------------------------------------------------------------------

    async def _listen(self, address: str, port: int | None, what: str, handler, tls=None):
        if port is None:
            return
        if not hosts.in_lab(address):
            raise ValueError(f"{address} is outside the demo lab")

        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # A scanner hangs up early and sends oddities: that is its job, not an error here.
            with contextlib.suppress(Exception):
                await handler(reader, writer)
            with contextlib.suppress(Exception):
                writer.close()

        server = await asyncio.start_server(guarded, address, port, ssl=tls, backlog=128)
        self._closers.append(server)
        self.listening.append((address, port, what))

    def _context(self, web: hosts.WebHost) -> ssl.SSLContext:
        not_after = dt.datetime.now(dt.UTC) + dt.timedelta(days=web.cert_days)
        label = web.address.replace(".", "-")
        cert, key = listeners.certificate(self._certs, label, [web.name], not_after=not_after)
        return listeners.tls_context(cert, key, old_protocols=web.old_tls)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        zones = [labdns.zone_from_text(o, t) for o, t in hosts.zone_texts(self.labs).items()]
        self._closers += await labdns.serve(
            labdns.ZoneSet(zones), hosts.DNS_ADDRESS, hosts.DNS_PORT
        )
        self.listening.append((hosts.DNS_ADDRESS, hosts.DNS_PORT, "dns"))
        ports = self.ports
        for lab in self.labs:
            for web in lab.web:
                site = listeners.Site(title=web.name, sound=web.sound, admin_page=web.admin_page)
                if web.https:
                    https_site = listeners.Site(
                        title=web.name, sound=web.sound, admin_page=web.admin_page
                    )
                    await self._listen(
                        web.address, ports.https, "https", listeners.http(https_site),
                        tls=self._context(web),
                    )  # fmt: skip
                    if web.sound:
                        suffix = "" if ports.https == 443 else f":{ports.https}"
                        site.redirect_to_https = f"https://{web.name}{suffix}"
                await self._listen(web.address, ports.http, "http", listeners.http(site))
            smtp = listeners.smtp(f"mx.{lab.zone}", starttls=False)
            await self._listen(lab.mx, ports.smtp, "smtp (sans STARTTLS)", smtp)
            if lab.rdp:
                await self._listen(lab.rdp, ports.rdp, "rdp", listeners.rdp)
            if lab.smb:
                await self._listen(lab.smb, ports.smb, "smb", listeners.smb)
            if lab.ftp:
                banner = b"220 (vsFTPd 3.0.3)\r\n"
                await self._listen(lab.ftp, ports.ftp, "ftp", listeners.greeting(banner))
            if lab.dicom:
                await self._listen(lab.dicom, ports.dicom, "dicom", listeners.dicom)
        self._ready.set()
        await self._stop.wait()
        for closer in self._closers:
            closer.close()

    # --- life cycle --------------------------------------------------------------------------

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # handed to start(), which raises it in the caller
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def start(self) -> Lab:
        self._thread = threading.Thread(target=self._run, name="carbet-demo-lab", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            self.stop()
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        shutil.rmtree(self._certs, ignore_errors=True)

    @contextlib.contextmanager
    def running(self) -> Iterator[Lab]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def wait(self) -> None:
        """Block until the thread ends (Ctrl-C in the caller stops it)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(1)
