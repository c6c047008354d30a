"""Remote-access portals: which appliance answers, and which version it runs.

VPN gateways and remote-access portals are how most ransomware gets into hospitals, and an
appliance without a version never meets its KEV entry. Each :class:`Appliance` says how its
login portal gives itself away (markers in the home page, its redirect, cookies or headers)
and where a version can be read without logging in: a static resource or an unauthenticated
endpoint the vendor's own client software fetches, or a build string in a page or header.

Only anonymous GETs of those few paths, on the port already found open; every parser takes
untrusted bytes, never raises, and returns a version only when the text carries one:

- FortiGate (FortiOS): an explicit ``FortiOS vX.Y.Z build N`` on the portal or its block pages;
- Ivanti Connect Secure / Pulse Secure: the client package's ``ProductVersion`` (``9.1.14.18105``
  is release 9.1R14, build 18105: the patch level after "R14" is not shown);
- Citrix NetScaler ADC/Gateway: the plug-in list the gateway hands its clients
  (``/vpn/pluginlist.xml``, plug-in version ``13.1.49.15`` = firmware 13.1-49.15);
- Palo Alto GlobalProtect (PAN-OS): an explicit ``PAN-OS X.Y.Z[-hN]`` when a page states it;
- FortiGate and GlobalProtect without a version shown: the firmware's build date, from their
  static files' ``ETag``/``Last-Modified`` (:mod:`.builddate`; judged by ``vulns.builds``);
- Cisco ASA: the AnyConnect configuration exchange's ``<version who="sg">9.16(4)27</version>``;
- SonicWall SMA 100 (``10.2.1.3-27sv`` in the portal's resource URLs) and SonicOS;
- Exchange/OWA: the ``X-OWA-Version`` header, the eDiscovery export tool's manifest (the full
  build) or, short of the security update's number, the build in ``/owa/auth/15.2.1118/…``;
- RDS Web Access: identified (the page carries no version; the IIS version is kept).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from carbet.engines.exposure.web import builddate

Response = dict[str, Any]  # as ports.parsers.parse_http_response returns it
Fetch = Callable[[str], Awaitable[Response | None]]
SAMPLE = 65536  # bytes of a body searched for markers and build strings


@dataclass(frozen=True)
class Found:
    version: str
    source: str  # the path (or header) it was read from
    note: str = ""
    partial: bool = False  # the patch level is not shown (see vulns.appliances.assess)


@dataclass(frozen=True)
class Appliance:
    family: str  # a key of vulns.appliances.KEV_PRODUCTS
    name: str  # what the portal is called once identified
    product: str  # the product name its version belongs to (matches vulns.cpe aliases)
    vendor: str  # CPE vendor
    kind: str  # "vpn", "mail" or "rds"
    markers: tuple[str, ...]  # lower-case, searched in body, redirect, cookies and headers
    paths: tuple[str, ...]  # fetched in order until one gives a version
    parse: Callable[[str, Response], Found | None]


def _text(response: Response) -> str:
    body = response.get("body", b"")[:SAMPLE]
    return body.decode("latin-1") if isinstance(body, bytes) else str(body)[:SAMPLE]


def _headers(response: Response) -> dict[str, str]:
    headers = response.get("headers") or {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


_FORTIOS = re.compile(
    r"FortiOS\s*v?(\d{1,2}\.\d{1,2}\.\d{1,3})(?:\s*,?\s*build\s*(\d{1,5}))?", re.I
)
_PRODUCT_VERSION = re.compile(
    r"NAME\s*=\s*\"?ProductVersion\"?\s+VALUE\s*=\s*\"(\d{1,2})\.(\d{1,2})\.(\d{1,3})\.(\d{1,6})\"",
    re.I,
)
_PLUGIN_VERSION = re.compile(r"\bversion\s*=\s*\"(\d{2})\.(\d{1,2})\.(\d{1,3})\.(\d{1,3})\"", re.I)
_PANOS = re.compile(r"PAN-OS\s+(?:version\s+)?(\d{1,2}\.\d{1,2}\.\d{1,3}(?:-h\d{1,3})?)", re.I)
_ASA = re.compile(
    r"<version\s+who\s*=\s*\"sg\"\s*>\s*(\d{1,2}\.\d{1,2}\(\d{1,3}\)\d{0,4})\s*<", re.I
)
_SMA = re.compile(r"\b(\d{1,2}\.\d{1,2}\.\d{1,3}\.\d{1,3}-\d{1,4}sv)\b", re.I)
_SONICOS = re.compile(
    r"SonicOS\s+(?:Enhanced\s+)?(\d{1,2}\.\d{1,2}\.\d{1,3}(?:\.\d{1,3})?-\d{1,5}[a-z]?)", re.I
)
_OWA_PATH = re.compile(r"/owa/auth/(\d{2}\.\d{1,2}\.\d{1,5}(?:\.\d{1,5})?)/", re.I)
_OWA_HEADER = re.compile(r"^\s*(\d{2}\.\d{1,2}\.\d{1,5}(?:\.\d{1,5})?)\s*$")
_EXPORT_TOOL = re.compile(
    r"<assemblyIdentity\b[^>]*\bversion\s*=\s*\"(15\.\d{1,2}\.\d{1,5}\.\d{1,5})\"", re.I
)
_IIS = re.compile(r"Microsoft-IIS/(\d{1,2}\.\d)", re.I)


def parse_fortios(path: str, response: Response) -> Found | None:
    match = _FORTIOS.search(_text(response))
    if not match:
        return None
    version = match.group(1) + (f" build {match.group(2)}" if match.group(2) else "")
    return Found(version, path)


def parse_ivanti(path: str, response: Response) -> Found | None:
    match = _PRODUCT_VERSION.search(_text(response))
    if not match:
        return None
    major, minor, release, build = match.groups()
    return Found(
        f"{major}.{minor}R{release} build {build}",
        path,
        "version du paquet client : le niveau de correctif après « R » n'y figure pas",
        partial=True,
    )


def parse_citrix(path: str, response: Response) -> Found | None:
    match = _PLUGIN_VERSION.search(_text(response))
    if not match:
        return None
    major, minor, build, patch = match.groups()
    return Found(f"{major}.{minor}-{build}.{patch}", path, "version des greffons de la passerelle")


def parse_panos(path: str, response: Response) -> Found | None:
    match = _PANOS.search(_text(response))
    return Found(match.group(1), path) if match else None


def parse_asa(path: str, response: Response) -> Found | None:
    match = _ASA.search(_text(response))
    return Found(match.group(1), path) if match else None


def parse_sonicwall(path: str, response: Response) -> Found | None:
    text = _text(response)
    match = _SMA.search(text) or _SONICOS.search(text)
    return Found(match.group(1), path) if match else None


def parse_exchange(path: str, response: Response) -> Found | None:
    header = _OWA_HEADER.match(_headers(response).get("x-owa-version", ""))
    if header:
        return Found(header.group(1), "X-OWA-Version", partial=header.group(1).count(".") < 3)
    text = _text(response)
    full = _EXPORT_TOOL.search(text)
    if full:
        return Found(full.group(1), path)
    match = _OWA_PATH.search(text)
    if not match:
        return None
    partial = match.group(1).count(".") < 3
    note = "build lu dans les chemins d'OWA, sans le numéro de mise à jour de sécurité"
    return Found(match.group(1), path, note if partial else "", partial=partial)


def parse_rdweb(path: str, response: Response) -> Found | None:
    return None  # the portal carries no version of its own (the IIS one is kept as evidence)


APPLIANCES: tuple[Appliance, ...] = (
    Appliance(
        "fortios", "Fortinet FortiGate SSL VPN", "Fortinet FortiOS", "fortinet", "vpn",
        ("/remote/login", "fgt_lang", "/remote/logincheck", "svpncookie"),
        ("/remote/login?lang=en",), parse_fortios,
    ),
    Appliance(
        "ivanti_connect_secure", "Ivanti Connect Secure", "Ivanti Connect Secure", "ivanti",
        "vpn", ("/dana-na/", "dssignin", "/dana-cached/"),
        ("/dana-na/nc/nc_gina_ver.txt", "/dana-cached/hc/HostCheckerInstaller.osx"),
        parse_ivanti,
    ),
    Appliance(
        "citrix_netscaler", "Citrix NetScaler Gateway", "Citrix NetScaler ADC", "citrix", "vpn",
        ("/vpn/index.html", "nsc_", "/logon/logonpoint/", "citrix gateway", "netscaler gateway"),
        ("/vpn/pluginlist.xml",), parse_citrix,
    ),
    Appliance(
        "panos", "Palo Alto GlobalProtect", "Palo Alto PAN-OS", "paloaltonetworks", "vpn",
        ("global-protect", "globalprotect"),
        ("/global-protect/login.esp",), parse_panos,
    ),
    Appliance(
        "cisco_asa", "Cisco ASA AnyConnect", "Cisco ASA", "cisco", "vpn",
        ("/+cscoe+/", "webvpnlogin", "webvpn="),
        ("/CSCOSSLC/config-auth",), parse_asa,
    ),
    Appliance(
        "sonicwall_sma", "SonicWall SSL VPN", "SonicWall SMA", "sonicwall", "vpn",
        ("sonicwall", "/cgi-bin/welcome"),
        ("/cgi-bin/welcome",), parse_sonicwall,
    ),
    Appliance(
        "exchange", "Microsoft Exchange (OWA)", "Microsoft Exchange", "microsoft", "mail",
        ("/owa/auth/", "x-owa-version", "outlook web app"),
        ("/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application",
         "/owa/auth/logon.aspx"),
        parse_exchange,
    ),
    Appliance(
        "", "Microsoft Remote Desktop Web Access", "Microsoft Remote Desktop Web Access",
        "microsoft", "rds", ("/rdweb/", "remote desktop web access", "tswebaccess"),
        (), parse_rdweb,
    ),
)  # fmt: skip


def identify(response: Response) -> Appliance | None:
    """The appliance a portal's answer gives away (body, redirect, cookies, header names)."""
    headers = _headers(response)
    haystack = " ".join(
        (
            _text(response)[:16384],
            headers.get("location", ""),
            " ".join(str(c) for c in response.get("cookies") or []),
            " ".join(headers),
            headers.get("server", ""),
        )
    ).lower()
    for appliance in APPLIANCES:
        if any(marker in haystack for marker in appliance.markers):
            return appliance
    return None


def from_response(appliance: Appliance, path: str, response: Response) -> Found | None:
    """The version one answer carries, if any (never raises on what a peer sends)."""
    if not 200 <= int(response.get("status", 0)) < 300:
        return None
    return appliance.parse(path, response)


async def find_version(
    appliance: Appliance, first: Response, fetch: Fetch
) -> tuple[Found | None, dict[str, Any]]:
    """The version: from the portal's first answer, else from the appliance's own paths.

    Returns ``(found, facts)``; ``facts`` are what a reader checks the claim against."""
    facts: dict[str, Any] = {}
    iis = _IIS.search(_headers(first).get("server", ""))
    if iis:
        facts["iis"] = iis.group(1)
    found = appliance.parse("/", first)
    tried: list[str] = []
    seen = [first]
    for path in appliance.paths:
        if found and not found.partial:
            break
        tried.append(path)
        response = await fetch(path)
        if response is not None:
            seen.append(response)
        better = from_response(appliance, path, response) if response is not None else None
        if better and (found is None or not better.partial):
            found = better
    if found is None and appliance.family in builddate.STATIC_PATHS:
        # No version shown (FortiGate, GlobalProtect): the firmware's build date bounds it.
        built, asked = await builddate.find_build(appliance.family, seen, fetch)
        tried += asked
        if built is not None:
            facts.update(build_date=built.day, build_source=f"{built.source} de {built.path}")
    if tried:
        facts["paths_tried"] = tried
    return found, facts
