"""IPv6 parity of a web host: when a name announces both an IPv4 and an IPv6 address, every
web port open over IPv4 must be open over IPv6 and answer the same: the same HTTP status and
redirect target for ``/``, and (HTTPS) the same certificate.

Runs after port discovery has looked at every address of the target (so "open over IPv6"
is what discovery saw, nothing is probed twice), only on addresses the scope policy let the
scan reach; each request goes through the web client (``ScanContext.open_connection``).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from typing import Any

from carbet.engines.exposure.core import (
    BudgetExceeded,
    Observation,
    ScanContext,
    ServiceInfo,
    TargetResult,
    close_quietly,
)
from carbet.engines.exposure.ports.verdicts import is_http
from carbet.engines.exposure.web.checks_ipv6 import WEB_IPV6_DIFFERS, WEB_IPV6_UNREACHABLE
from carbet.engines.exposure.web.client import HttpError, fetch

COMPARED = ("status", "location", "cert_sha256")


def is_v6(address: str) -> bool:
    return ":" in address


def _address(service: ServiceInfo) -> str:
    return str(service.extra.get("address", ""))


async def certificate_sha256(
    ctx: ScanContext, target: str, address: str, port: int, host: str
) -> str:
    """SHA-256 of the certificate the server presents (not verified: only compared)."""
    try:
        async with ctx.slot(target):
            _reader, writer = await ctx.open_connection(
                target,
                address,
                port,
                ssl=ctx.insecure_ssl_context(),
                server_hostname=host,
                ssl_handshake_timeout=ctx.config.read_timeout,
                timeout=ctx.config.connect_timeout + ctx.config.read_timeout,
            )
            try:
                ssl_object = writer.get_extra_info("ssl_object")
                der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
            finally:
                await close_quietly(writer)
    except (TimeoutError, OSError, ssl.SSLError):
        return ""
    return hashlib.sha256(der).hexdigest() if der else ""


async def _view(
    ctx: ScanContext, target: str, address: str, service: ServiceInfo, host: str
) -> dict[str, Any]:
    port, tls = service.port, service.tls
    default = 443 if tls else 80
    host_header = host if port == default else f"{host}:{port}"
    view: dict[str, Any] = {"address": address}
    try:
        response = await fetch(ctx, target, address, port, tls, host_header, "/", body_cap=4096)
    except (HttpError, TimeoutError, OSError, ssl.SSLError) as exc:
        view["error"] = f"{type(exc).__name__}: {exc}"[:160]
        return view
    view["status"] = response.status
    view["location"] = response.header("location") or ""
    if tls:
        view["cert_sha256"] = await certificate_sha256(ctx, target, address, port, host)
    return view


async def _port(
    ctx: ScanContext, result: TargetResult, host: str, port: int, v4: ServiceInfo,
    v6_services: list[ServiceInfo],
) -> dict[str, Any]:  # fmt: skip
    entry: dict[str, Any] = {"port": port, "v4": _address(v4)}
    if not v6_services:
        entry["v6_open"] = False
        return entry
    entry["v6_open"] = True
    v6 = v6_services[0]
    first, second = await asyncio.gather(
        _view(ctx, result.target, _address(v4), v4, host),
        _view(ctx, result.target, _address(v6), v4, host),  # the IPv4 side's protocol
    )
    entry["over_v4"], entry["over_v6"] = first, second
    if "error" in first or "error" in second:
        entry["compared"] = False  # one side could not be read: nothing concluded
        return entry
    entry["compared"] = True
    entry["differs"] = [k for k in COMPARED if first.get(k) != second.get(k)]
    return entry


async def web_ipv6_parity(
    ctx: ScanContext, result: TargetResult, host: str, addresses: list[str]
) -> None:
    """Compare the web ports over both families (``addresses``: those the policy allowed)."""
    v6_addresses = [a for a in addresses if is_v6(a)]
    if not v6_addresses or len(v6_addresses) == len(addresses):
        return  # no IPv6 announced (or allowed), or nothing over IPv4 to compare with
    by_port: dict[int, dict[str, list[ServiceInfo]]] = {}
    for service in result.services:
        family = "v6" if is_v6(_address(service)) else "v4"
        by_port.setdefault(service.port, {"v4": [], "v6": []})[family].append(service)
    web_ports = sorted(
        port for port, found in by_port.items() if any(is_http(s) for s in found["v4"])
    )
    if not web_ports:
        return
    try:
        entries = await asyncio.gather(
            *(
                _port(
                    ctx, result, host, port,
                    next(s for s in by_port[port]["v4"] if is_http(s)), by_port[port]["v6"],
                )
                for port in web_ports
            )
        )  # fmt: skip
    except BudgetExceeded:
        result.complete = False
        return
    result.evidence["ipv6_web"] = {"v6_addresses": v6_addresses, "ports": list(entries)}
    result.observations.extend(_observations(entries, v6_addresses))


def _observations(entries: list[dict[str, Any]], v6_addresses: list[str]) -> list[Observation]:
    found: list[Observation] = []
    for entry in entries:
        port = entry["port"]
        if not entry["v6_open"]:
            found.append(
                WEB_IPV6_UNREACHABLE.observe(
                    port,
                    f"port {port} closed over IPv6 ({', '.join(v6_addresses)})",
                    {"addresses": v6_addresses},
                )
            )
        elif entry.get("differs"):
            shown = "; ".join(
                f"{key}: {entry['over_v4'].get(key) or '-'} (IPv4) / "
                f"{entry['over_v6'].get(key) or '-'} (IPv6)"
                for key in entry["differs"]
            )
            found.append(WEB_IPV6_DIFFERS.observe(port, shown[:300], {"differs": entry["differs"]}))
    return found
