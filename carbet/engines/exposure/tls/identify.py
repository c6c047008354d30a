"""The last try on a port no probe recognised: does it speak TLS, in any version we can craft?

Service fingerprinting opens real handshakes with Python's ``ssl`` (lenient, down to TLS 1.0 at
security level 0). A server that only speaks what this OpenSSL can no longer negotiate (SSLv3,
SSLv2, an odd TLS 1.0 stack) fails that handshake and would stay "unknown": a port whose
encryption was never judged, graded as if nothing were wrong. Here the hand-built ClientHellos
of ``tls.hello`` (one round trip each, no handshake finished) ask in every version at once; a
ServerHello, or a TLS alert, proves the port speaks TLS, and the full TLS scan then runs on it.

A port that stays unidentified is reported, never silent: ``tls.unidentified`` when TLS was
expected there (an HTTPS hint or a well-known TLS port: it caps the grade, see ``scoring``),
``port.unidentified`` otherwise.
"""

from __future__ import annotations

from carbet.engines.exposure.core import ScanContext, ServiceInfo, TargetResult
from carbet.engines.exposure.tls.checks import PORT_UNIDENTIFIED, TLS_UNIDENTIFIED
from carbet.engines.exposure.tls.hello import build_client_hello
from carbet.engines.exposure.tls.probe import _PortScan, gather_or_cancel
from carbet.engines.exposure.tls.suites import (
    DEFAULT_GROUPS,
    PROTOCOL_NAMES,
    SSL3,
    TLS10,
    TLS12,
    suites_for,
)

# Ports where a client expects TLS from the first byte (implicit TLS).
TLS_PORTS = frozenset(
    {443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 4443, 5061, 5986, 6697,
     8443, 9443, 10443}
)  # fmt: skip
TLS_HINTS = frozenset({"https", "tls"})


def expects_tls(service: ServiceInfo) -> bool:
    """Is ``service``'s port one where TLS is expected (by its number or the analyst's hint)?"""
    return service.port in TLS_PORTS or service.extra.get("expected") in TLS_HINTS


async def speaks_tls(
    ctx: ScanContext, target: str, address: str, port: int, server_name: str | None
) -> dict[str, object] | None:
    """What a crafted ClientHello in each of TLS 1.2, TLS 1.0 and SSLv3 (then SSLv2) got back:
    ``{"version": "TLS 1.0"}`` for a ServerHello, ``{"alert": 40}`` for a TLS alert only,
    None when the port never answered as TLS does."""
    scan = _PortScan(ctx, target, address, port, server_name)

    async def hello(version: int) -> tuple[int | None, int | None]:
        wire = build_client_hello(version, suites_for(version), server_name, groups=DEFAULT_GROUPS)
        probe = await scan.probe(wire, want_flight=False)
        negotiated = probe.hello.negotiated_version if probe.hello is not None else None
        return negotiated, probe.alert

    answers = await gather_or_cancel(*(hello(version) for version in (TLS12, TLS10, SSL3)))
    versions = [version for version, _alert in answers if version is not None]
    if versions:
        best = max(versions)
        return {"version": PROTOCOL_NAMES.get(best, f"0x{best:04x}")}
    alerts = [alert for _version, alert in answers if alert is not None]
    if alerts:
        return {"alert": alerts[0]}
    if await scan.probe_sslv2():
        return {"version": "SSLv2"}
    return None


async def identify(
    ctx: ScanContext,
    result: TargetResult,
    address: str,
    service: ServiceInfo,
    server_name: str | None,
) -> bool:
    """Try TLS on an unidentified ``service``; True when it speaks TLS (``service`` updated:
    the TLS scan must follow). Otherwise the port is reported as unidentified."""
    reason = str(service.extra.get("unidentified", ""))
    answer = None
    if reason != "budget":
        answer = await speaks_tls(ctx, result.target, address, service.port, server_name)
    if answer is not None:
        web = service.extra.get("expected") == "https" or service.port in (443, 4443, 8443)
        service.service = "https" if web else "tls"
        service.tls = True
        service.extra.pop("unidentified", None)
        service.extra["identified_by"] = "tls-hello"
        service.extra["tls_hello"] = answer
        _drop_unidentified_error(result, address, service.port)
        return True
    check = TLS_UNIDENTIFIED if expects_tls(service) else PORT_UNIDENTIFIED
    result.observations.append(
        check.observe(
            service.port,
            f"aucune réponse reconnue ({reason[:150]})" if reason else "aucune réponse reconnue",
            {"address": address, "reason": reason[:300], "expected": service.extra.get("expected")},
        )
    )
    return False


def _drop_unidentified_error(result: TargetResult, address: str, port: int) -> None:
    """The discovery's "service non identifié" line no longer holds once TLS answered."""
    endpoint = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    prefix = f"{endpoint} : port ouvert, service non identifié"
    result.errors[:] = [error for error in result.errors if not error.startswith(prefix)]
