"""Remote-access portals identified with their version, from real local HTTP(S) servers.

Each portal answers with response shapes written for these tests after the way the vendor's
portal presents itself (redirects, login pages, the resources its own client software
fetches): no vendor file is copied. The scan is the real fingerprinting path
(``scan_address``: discovery, then the HTTPS probe and the appliance's version paths).
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.core import ScanConfig, ScanContext, ServiceInfo, TargetResult
from carbet.engines.exposure.ports.probe import scan_address
from carbet.engines.exposure.web import appliances

from ..engine_tls.servers import LoopbackServers, http_handler, make_ca, make_leaf

BLOCK = os.getpid() % 200
HTML = [("Content-Type", "text/html; charset=utf-8")]

FORTI_LOGIN = b"""<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<title>SSL VPN</title><script src="/remote/fgt_lang?lang=en"></script>
<link href="/sslvpn/css/login.css" rel="stylesheet"></head>
<body class="main-app"><form action="/remote/logincheck" method="post" name="f">
<input id="username" name="username"><input id="credential" name="credential" type="password">
</form></body></html>"""
FORTI_BLOCK = b"""<html><head><title>Web Filter Violation</title></head><body>
<p>The page you have requested has been blocked.</p><p>FortiGate - FortiOS v7.0.12,build0523
</p></body></html>"""
IVANTI_WELCOME = b"""<html><head><title>Ivanti Connect Secure</title>
<script src="/dana-na/css/ds.js"></script></head><body>
<form name="frmLogin" action="login.cgi" method="POST" autocomplete="off">
<input type="hidden" name="tz_offset"><input type="text" name="username"></form></body></html>"""
IVANTI_GINA = b"""<PARAM NAME="ProductName" VALUE="Ivanti Connect Secure">
<PARAM NAME="ProductVersion" VALUE="22.7.2.3191">
<PARAM NAME="DownloadPath" VALUE="/dana-cached/nc/">"""
CITRIX_LOGON = b"""<!DOCTYPE html><html><head><title>NetScaler Gateway</title>
<script type="text/javascript" src="/vpn/js/rdx/core/js/rdx.js"></script></head>
<body><div id="logonbox-container"></div></body></html>"""
CITRIX_PLUGINS = b"""<?xml version="1.0" encoding="UTF-8"?>
<repository>
 <plugin name="Netscaler Gateway EPA Clients" description="Endpoint analysis" os="Windows"
   version="13.1.49.13" path="/epa/scripts/win/nsepa_setup.exe" />
 <plugin name="Citrix Secure Access" description="VPN client" os="Windows"
   version="13.1.49.13" path="/vpns/scripts/vista/nsvpn_setup.exe" />
</repository>"""
GLOBALPROTECT_LOGIN = b"""<html><head><title>GlobalProtect Portal</title>
<link rel="stylesheet" href="/global-protect/portal/css/login.css"></head>
<body><form name="login" action="/global-protect/login.esp" method="post">
<input name="user"><input name="passwd" type="password"></form></body></html>"""
ASA_LOGON = b"""<html><head><title>SSL VPN Service</title>
<script src="/+CSCOE+/win.js"></script></head><body><form action="/+webvpn+/index.html"
method="post" name="unicorn"></form></body></html>"""
ASA_CONFIG_AUTH = b"""<?xml version="1.0" encoding="UTF-8"?>
<config-auth client="vpn" type="complete" aggregate-auth-version="2">
<version who="sg">9.16(4)27</version>
</config-auth>"""
SMA_WELCOME = b"""<html><head><title>Virtual Office</title>
<link href="/css/welcome.css?v=10.2.1.2-24sv" rel="stylesheet">
<script src="/js/welcome.js?v=10.2.1.2-24sv"></script></head><body>
<div class="brand">SonicWall - Virtual Office</div></body></html>"""
OWA_LOGON = b"""<!DOCTYPE html><html><head><title>Outlook</title>
<link rel="shortcut icon" href="/owa/auth/15.2.792/themes/resources/favicon.ico"
type="image/x-icon"><link rel="stylesheet" href="/owa/auth/15.2.792/themes/resources/logon.css">
</head><body><form action="/owa/auth.owa" method="POST" name="logonForm"></form></body></html>"""
OWA_EXPORT_TOOL = b"""<?xml version="1.0" encoding="utf-8"?>
<asmv1:assembly xsi:schemaLocation="urn:schemas-microsoft-com:asm.v1 assembly.adaptive.xsd"
 manifestVersion="1.0" xmlns:asmv1="urn:schemas-microsoft-com:asm.v1">
 <assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application"
   version="15.2.792.10" publicKeyToken="b1d1a6c45aa418ce" language="neutral"
   processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" />
</asmv1:assembly>"""
RDWEB_LOGIN = b"""<html><head><title>RD Web Access</title></head><body>
<form id="FrmLogin" name="FrmLogin"
action="login.aspx?ReturnUrl=%2FRDWeb%2FPages%2Fen-US%2FDefault.aspx" method="post">
<div>Work Resources</div></form></body></html>"""


def redirect(location: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return 302, [("Location", location)], b""


PORTALS = {
    "forti_plain": {
        "/": redirect("/remote/login?lang=en"),
        "/remote/login?lang=en": (200, HTML, FORTI_LOGIN),
    },
    "forti_build": {
        "/": redirect("/remote/login?lang=en"),
        "/remote/login?lang=en": (200, HTML, FORTI_LOGIN + FORTI_BLOCK),
    },
    "ivanti": {
        "/": redirect("/dana-na/auth/url_default/welcome.cgi"),
        "/dana-na/auth/url_default/welcome.cgi": (200, HTML, IVANTI_WELCOME),
        "/dana-na/nc/nc_gina_ver.txt": (200, [("Content-Type", "text/plain")], IVANTI_GINA),
    },
    "citrix": {
        "/": redirect("/logon/LogonPoint/index.html"),
        "/logon/LogonPoint/index.html": (200, HTML, CITRIX_LOGON),
        "/vpn/pluginlist.xml": (200, [("Content-Type", "text/xml")], CITRIX_PLUGINS),
    },
    "globalprotect": {
        "/": redirect("/global-protect/login.esp"),
        "/global-protect/login.esp": (200, HTML, GLOBALPROTECT_LOGIN),
    },
    "asa": {
        "/": redirect("/+CSCOE+/logon.html"),
        "/+CSCOE+/logon.html": (200, HTML, ASA_LOGON),
        "/CSCOSSLC/config-auth": (200, [("Content-Type", "text/xml")], ASA_CONFIG_AUTH),
    },
    "sma": {
        "/": redirect("/cgi-bin/welcome"),
        "/cgi-bin/welcome": (200, HTML, SMA_WELCOME),
    },
    "owa": {
        "/": redirect("https://mail.ch-test.example/owa/auth/logon.aspx?url=%2fowa%2f"),
        "/owa/auth/logon.aspx": (200, HTML, OWA_LOGON),
        "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application": (
            200,
            [("Content-Type", "application/x-ms-application")],
            OWA_EXPORT_TOOL,
        ),
    },
    "owa_paths_only": {
        "/": (200, HTML, OWA_LOGON),
    },
    "rdweb": {
        "/": redirect("/RDWeb/"),
        "/RDWeb/": redirect("/RDWeb/Pages/en-US/login.aspx"),
        "/RDWeb/Pages/en-US/login.aspx": (200, HTML, RDWEB_LOGIN),
    },
}
SERVER_HEADERS = {"owa": "Microsoft-IIS/10.0", "owa_paths_only": "Microsoft-IIS/10.0",
                  "rdweb": "Microsoft-IIS/10.0", "forti_plain": "xxxxxxxx-xxxxx"}  # fmt: skip


@pytest.fixture(scope="module")
def portals():
    servers = LoopbackServers()
    ca = make_ca()
    spots = {}
    for index, (name, routes) in enumerate(PORTALS.items(), start=1):
        server = SERVER_HEADERS.get(name)
        shaped = {
            path: (status, [*headers, ("Server", server)] if server else headers, body)
            for path, (status, headers, body) in routes.items()
        }
        context = servers.tls_context(make_leaf(ca, [f"{name}.example.test"]))
        endpoint = servers.add(name, f"127.59.{BLOCK}.{index}", http_handler(shaped), context)
        spots[name] = endpoint
    yield spots
    servers.close()


def fingerprint(endpoint) -> ServiceInfo:  # type: ignore[no-untyped-def]
    config = ScanConfig(
        ports=(endpoint.port,), port_hints=((endpoint.port, "https"),), read_timeout=3.0
    )
    result = TargetResult(endpoint.address, kind="ip", addresses=[endpoint.address])
    asyncio.run(scan_address(ScanContext(config), result, endpoint.address))
    (service,) = result.services
    return service


@pytest.mark.parametrize(
    ("name", "product", "version", "source"),
    [
        ("forti_plain", "Fortinet FortiGate SSL VPN", "", ""),
        ("forti_build", "Fortinet FortiOS", "7.0.12 build 0523", "/remote/login?lang=en"),
        ("ivanti", "Ivanti Connect Secure", "22.7R2 build 3191", "/dana-na/nc/nc_gina_ver.txt"),
        ("citrix", "Citrix NetScaler ADC", "13.1-49.13", "/vpn/pluginlist.xml"),
        ("globalprotect", "Palo Alto GlobalProtect", "", ""),
        ("asa", "Cisco ASA", "9.16(4)27", "/CSCOSSLC/config-auth"),
        ("sma", "SonicWall SMA", "10.2.1.2-24sv", "/cgi-bin/welcome"),
        (
            "owa",
            "Microsoft Exchange",
            "15.2.792.10",
            "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application",
        ),
        ("owa_paths_only", "Microsoft Exchange", "15.2.792", "/"),
        ("rdweb", "Microsoft Remote Desktop Web Access", "", ""),
    ],
)
def test_portal_identified_with_its_version(portals, name, product, version, source):
    service = fingerprint(portals[name])
    assert service.product == product
    assert service.version == version
    assert service.extra.get("version_source", "") == source
    assert service.tls and service.service == "https"


def test_what_a_version_rests_on_is_kept(portals):
    ivanti = fingerprint(portals["ivanti"])
    assert ivanti.extra["version_partial"] is True and "R" in ivanti.extra["version_note"]
    assert ivanti.extra["appliance"] == "vpn"
    assert ivanti.extra["appliance_family"] == "ivanti_connect_secure"
    partial = fingerprint(portals["owa_paths_only"])
    assert partial.extra["version_partial"] is True and partial.extra["iis"] == "10.0"
    full = fingerprint(portals["owa"])
    assert "version_partial" not in full.extra and full.extra["appliance"] == "mail"
    globalprotect = fingerprint(portals["globalprotect"])
    # the version path, then static files for a build date (none served here: no date)
    assert globalprotect.extra["paths_tried"][0] == "/global-protect/login.esp"
    assert "/global-protect/portal/css/login.css" in globalprotect.extra["paths_tried"]
    assert "build_date" not in globalprotect.extra
    rdweb = fingerprint(portals["rdweb"])
    assert rdweb.extra["appliance"] == "rds" and rdweb.extra["iis"] == "10.0"


def test_an_ordinary_site_is_no_appliance():
    response = {
        "status": 200,
        "headers": {"server": "nginx"},
        "cookies": [],
        "body": b"<html>Centre hospitalier : prenez rendez-vous, webmail Outlook</html>",
    }
    assert appliances.identify(response) is None


def _response(body: bytes, headers: dict[str, str] | None = None) -> dict[str, object]:
    return {"status": 200, "headers": headers or {}, "cookies": [], "body": body}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.dictionaries(st.text(max_size=20), st.text(max_size=60)))
def test_version_parsers_never_raise_on_anything(body, headers):
    for appliance in appliances.APPLIANCES:
        found = appliance.parse("/x", _response(body, headers))
        assert found is None or (found.version and len(found.version) < 40)
    appliances.identify(_response(body, headers))


@given(
    st.integers(10, 99), st.integers(0, 9), st.integers(0, 999), st.integers(0, 999),
    st.binary(max_size=200), st.binary(max_size=200),
)  # fmt: skip
def test_citrix_plugin_versions_are_read_wherever_they_sit(major, minor, build, patch, a, b):
    body = a + f'<plugin version="{major}.{minor}.{build}.{patch}" />'.encode() + b
    found = appliances.parse_citrix("/vpn/pluginlist.xml", _response(body))
    assert found is not None
    assert found.version == f"{major}.{minor}-{build}.{patch}"


@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 999), st.integers(0, 99999))
def test_ivanti_client_versions_become_releases(major, minor, release, build):
    body = f'<PARAM NAME="ProductVersion" VALUE="{major}.{minor}.{release}.{build}">'.encode()
    found = appliances.parse_ivanti("/dana-na/nc/nc_gina_ver.txt", _response(body))
    assert found is not None and found.partial
    assert found.version == f"{major}.{minor}R{release} build {build}"


@given(st.integers(1, 99), st.integers(0, 99), st.integers(0, 999), st.integers(0, 9999))
def test_asa_versions_from_the_configuration_exchange(major, minor, train, interim):
    body = f'<version who="sg">{major}.{minor}({train}){interim}</version>'.encode()
    found = appliances.parse_asa("/CSCOSSLC/config-auth", _response(body))
    assert found is not None and found.version == f"{major}.{minor}({train}){interim}"
