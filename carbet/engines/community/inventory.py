"""A structure's software inventory, normalised to CPE 2.3 so it can be matched with the feeds.

People type products their own way ("Fortinet FortiGate", "FortiOS 7.0.12", "Microsoft
Windows Server 2012 R2"), scanners report banners ("OpenSSH", "Apache httpd"). :func:`to_cpe`
turns either into NVD's ``cpe:2.3:part:vendor:product:version:*:*:*:*:*:*:*`` through the
exposure scanner's aliases (:data:`carbet.engines.exposure.vulns.cpe.PRODUCT_ALIASES`) plus
:data:`EXTRA_ALIASES` (operating systems, health and business software NVD knows), and
:func:`parse_version` pulls a clean version out of free text ("v7.0.12 build 0523").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carbet.engines.exposure.vulns.cpe import PRODUCT_ALIASES, normalise_product, parse_cpe


@dataclass(frozen=True)
class ProductLine:
    """One product a structure runs. ``key`` is the caller's opaque row id."""

    key: int
    structure: int
    vendor: str
    product: str
    version: str
    cpe: str = ""


@dataclass(frozen=True)
class Alias:
    """How NVD files a product: its CPE part, vendor, product names and, for products whose
    NVD name carries the release (Windows Server 2012 "r2"), the fixed CPE version."""

    part: str
    pairs: tuple[tuple[str, str], ...]
    version: str = ""


def _alias(part: str, vendor: str, *products: str, version: str = "") -> Alias:
    return Alias(part, tuple((vendor, product) for product in products), version)


# Normalised "vendor product" or "product" text -> how NVD files it (beyond cpe.PRODUCT_ALIASES).
EXTRA_ALIASES: dict[str, Alias] = {
    "windows server 2008": _alias("o", "microsoft", "windows_server_2008"),
    "windows server 2008 r2": _alias("o", "microsoft", "windows_server_2008", version="r2"),
    "windows server 2012": _alias("o", "microsoft", "windows_server_2012"),
    "windows server 2012 r2": _alias(
        "o", "microsoft", "windows_server_2012", "windows_server_2012_r2", version="r2"
    ),
    "windows server 2016": _alias("o", "microsoft", "windows_server_2016"),
    "windows server 2019": _alias("o", "microsoft", "windows_server_2019"),
    "windows server 2022": _alias("o", "microsoft", "windows_server_2022"),
    "windows server 2025": _alias("o", "microsoft", "windows_server_2025"),
    "windows 7": _alias("o", "microsoft", "windows_7"),
    "windows 8.1": _alias("o", "microsoft", "windows_8.1"),
    "windows 10": _alias("o", "microsoft", "windows_10"),
    "windows 11": _alias("o", "microsoft", "windows_11"),
    "fortigate": _alias("o", "fortinet", "fortios"),
    "fortios": _alias("o", "fortinet", "fortios"),
    "fortinet fortigate": _alias("o", "fortinet", "fortios"),
    "fortimanager": _alias("a", "fortinet", "fortimanager"),
    "fortiweb": _alias("a", "fortinet", "fortiweb"),
    "forticlient ems": _alias("a", "fortinet", "forticlient_enterprise_management_server"),
    "pan-os": _alias("o", "paloaltonetworks", "pan-os"),
    "sonicwall sonicos": _alias("o", "sonicwall", "sonicos"),
    "sophos firewall": _alias("o", "sophos", "sfos"),
    "cisco ios": _alias("o", "cisco", "ios"),
    "cisco ios xe": _alias("o", "cisco", "ios_xe"),
    "netscaler adc": _alias(
        "a",
        "citrix",
        "netscaler_application_delivery_controller",
        "application_delivery_controller_firmware",
    ),
    "citrix netscaler": _alias(
        "a",
        "citrix",
        "netscaler_application_delivery_controller",
        "application_delivery_controller_firmware",
    ),
    "citrix gateway": _alias("a", "citrix", "netscaler_gateway"),
    "connect secure": _alias("a", "ivanti", "connect_secure", "pulse_connect_secure"),
    "ivanti endpoint manager mobile": _alias("a", "ivanti", "endpoint_manager_mobile"),
    "vmware esxi": _alias("o", "vmware", "esxi"),
    "vmware vcenter server": _alias("a", "vmware", "vcenter_server"),
    "vmware vcenter": _alias("a", "vmware", "vcenter_server"),
    "veeam backup & replication": _alias("a", "veeam", "veeam_backup_&_replication"),
    "veeam backup and replication": _alias("a", "veeam", "veeam_backup_&_replication"),
    "moveit transfer": _alias("a", "progress", "moveit_transfer"),
    "atlassian confluence": _alias("a", "atlassian", "confluence_server", "confluence_data_center"),
    "confluence": _alias("a", "atlassian", "confluence_server", "confluence_data_center"),
    "gitlab": _alias("a", "gitlab", "gitlab"),
    "zimbra": _alias("a", "zimbra", "collaboration"),
    "zimbra collaboration": _alias("a", "zimbra", "collaboration"),
    "microsoft exchange server": _alias("a", "microsoft", "exchange_server"),
    "microsoft sharepoint server": _alias("a", "microsoft", "sharepoint_server"),
    "sharepoint": _alias("a", "microsoft", "sharepoint_server"),
    "mirth connect": _alias("a", "nextgen", "mirth_connect"),
    "nextgen mirth connect": _alias("a", "nextgen", "mirth_connect"),
    "openemr": _alias("a", "open-emr", "openemr"),
    "gnu health": _alias("a", "gnu", "health"),
    "orthanc": _alias("a", "orthanc-server", "orthanc"),
    "dcmtk": _alias("a", "offis", "dcmtk"),
    "glpi": _alias("a", "glpi-project", "glpi"),
    "nextcloud server": _alias("a", "nextcloud", "nextcloud_server"),
    "nextcloud": _alias("a", "nextcloud", "nextcloud_server"),
    "keepass": _alias("a", "keepass", "keepass"),
    "teamviewer": _alias("a", "teamviewer", "teamviewer"),
    "anydesk": _alias("a", "anydesk", "anydesk"),
    "ubuntu": _alias("o", "canonical", "ubuntu_linux"),
    "debian": _alias("o", "debian", "debian_linux"),
    "red hat enterprise linux": _alias("o", "redhat", "enterprise_linux"),
}

# CPE products that are operating systems or firmware ("o" part) among the scanner's aliases.
OS_PRODUCTS = frozenset(
    {
        "fortios", "pan-os", "ios", "ios_xe", "sonicos", "sfos", "esxi",
        "application_delivery_controller_firmware",
    }
)  # fmt: skip

_VERSION_START = re.compile(r"(?<![A-Za-z0-9])v?([0-9][A-Za-z0-9.()_+\-]*)", re.ASCII)
_BUILD = re.compile(r"build\s*[-_:#]?\s*([0-9]{1,12})", re.ASCII | re.IGNORECASE)
_QUALIFIER = re.compile(r"\s+(r[0-9]{1,3}|sp[0-9]{1,3})(?![A-Za-z0-9])", re.ASCII | re.IGNORECASE)
_TRAILING = ".-_+("
_WINDOWS_CLIENT = re.compile(
    r"^windows (10|11)(?: version)?(?: ([0-9]{2}h[0-9]|[0-9]{4}))?$", re.IGNORECASE
)


# Edition words Active Directory and people add to a Windows name ("Windows Server 2019
# Datacenter", "Windows 10 Professionnel"): NVD files every edition under the same product.
_WINDOWS_EDITIONS = frozenset(
    "standard datacenter essentials foundation web storage enterprise entreprise pro "
    "professional professionnel home famille education éducation ltsc ltsb n kn evaluation "
    "édition edition for workstations iot multi session".split()
)
# The build an AD ``operatingSystemVersion`` gives ("10.0 (19045)") names the client release
# NVD files Windows 10 and 11 under (windows_10_22h2...).
_WINDOWS_RELEASES = {
    "10": {
        "10240": "1507", "14393": "1607", "17763": "1809", "19041": "2004", "19042": "20h2",
        "19043": "21h1", "19044": "21h2", "19045": "22h2",
    },
    "11": {"22000": "21h2", "22621": "22h2", "22631": "23h2", "26100": "24h2", "26200": "25h2"},
}  # fmt: skip
_AD_VERSION = re.compile(r"^\s*([0-9]+\.[0-9]+)\s*\(([0-9]{4,6})\)\s*$")


def _without_edition(product: str) -> str:
    if not product.startswith("windows"):
        return product
    words = product.split(" ")
    while len(words) > 2 and words[-1] in _WINDOWS_EDITIONS:
        words.pop()
    return " ".join(words)


def _windows_release(alias: Alias, version: str) -> tuple[Alias, str] | None:
    """Windows with an AD version "10.0 (19045)": the version as NVD writes it ("10.0.19045")
    and, for Windows 10 and 11, the release's product (windows_10_22h2); None when the version
    is not AD's or the product not Windows."""
    found = _AD_VERSION.match(version)
    vendor, product = alias.pairs[0]
    if not found or vendor != "microsoft" or not product.startswith("windows_"):
        return None
    nvd_version = ".".join(found.groups())
    client = product.removeprefix("windows_")
    release = _WINDOWS_RELEASES.get(client, {}).get(found.group(2))
    if release is None:
        return (alias, alias.version) if alias.version else (alias, nvd_version)
    return Alias("o", (("microsoft", f"windows_{client}_{release}"),)), nvd_version


def _trim(core: str) -> str:
    while core and (
        core[-1] in _TRAILING or (core[-1] == ")" and core.count(")") > core.count("("))
    ):
        core = core[:-1]
    return core


def parse_version(text: str) -> str:
    """A clean version from free text, "" when there is none.

    ``"v7.0.12 build 0523"`` and ``"7.0.12,build0523 (GA)"`` → ``"7.0.12 build 0523"``;
    ``"2012 R2"`` → ``"2012R2"``; ``"8.9p1 Ubuntu-3ubuntu0.6"`` → ``"8.9p1"``; ``"15.2(4)M3"``
    and ``"9.1R14.3"`` are kept. Never raises; idempotent on its own output."""
    found = _VERSION_START.search(text)
    if not found:
        return ""
    core = found.group(1)
    rest = text[found.end() :]
    inner = re.search(r"build", core, re.IGNORECASE)
    if inner:  # "7.0.12build0523": the build belongs after
        rest = core[inner.start() :] + rest
        core = core[: inner.start()]
    core = _trim(core)
    if not core:
        return ""
    qualifier = _QUALIFIER.match(rest)
    if qualifier:
        core = _trim(core + qualifier.group(1))
        rest = rest[qualifier.end() :]
    build = _BUILD.search(rest)
    return f"{core} build {build.group(1)}" if build else core


def _cpe_field(value: str) -> str:
    """A CPE 2.3 formatted-string field: lower case, spaces as "_", specials escaped."""
    text = re.sub(r"\s+", "_", value.strip().lower())
    return re.sub(r"([^A-Za-z0-9._\-])", r"\\\1", text)


def _product_name(vendor: str, product: str) -> tuple[str, str, str]:
    """(normalised vendor, normalised product without the vendor's name, version found in
    the product text)."""
    vendor_text = normalise_product(vendor)
    product_text = normalise_product(product)
    if vendor_text and product_text.startswith(vendor_text + " "):
        product_text = product_text[len(vendor_text) + 1 :]
    product_text = _without_edition(product_text)
    words = product_text.split(" ")
    tail = ""
    if len(words) > 1 and parse_version(words[-1]) == words[-1]:
        if not lookup(vendor_text, product_text):  # "FortiOS 7.0.12", not "Windows 10"
            tail = words.pop()
    return vendor_text, " ".join(words), tail


def lookup(vendor: str, product: str) -> Alias | None:
    """How NVD files a (normalised) vendor and product, None when no alias knows it."""
    keys = [f"{vendor} {product}".strip(), product] if vendor else [product]
    for key in keys:
        if key in EXTRA_ALIASES:
            return EXTRA_ALIASES[key]
        pairs = PRODUCT_ALIASES.get(key)
        if pairs:
            part = "o" if pairs[0][1] in OS_PRODUCTS else "a"
            return Alias(part, pairs)
    client = _WINDOWS_CLIENT.match(product)
    if client and vendor in ("", "microsoft"):
        release = (client.group(2) or "").lower()
        name = f"windows_{client.group(1)}" + (f"_{release}" if release else "")
        return Alias("o", (("microsoft", name),))
    return None


def resolve(vendor: str, product: str, version: str = "") -> tuple[Alias | None, str]:
    """The alias of a typed or detected product and the version to compare ("" unknown)."""
    vendor_text, product_text, tail = _product_name(vendor, product)
    alias = lookup(vendor_text, product_text)
    if alias is not None:
        release = _windows_release(alias, version)
        if release is not None:
            return release
    clean = parse_version(version) or tail
    if alias is not None and alias.version:
        return alias, alias.version
    return alias, clean


def to_cpe(vendor: str, product: str, version: str = "") -> str:
    """CPE 2.3 of a product as typed or detected, "" when no alias knows the product.

    The version is cleaned (:func:`parse_version`), "*" when unknown. A product already given
    as a CPE keeps its names."""
    parsed = parse_cpe(product.strip()) if product.strip().startswith("cpe:2.3:") else None
    if parsed is not None:
        clean = parse_version(version) or (parsed.version if parsed.version != "-" else "")
        return _format(parsed.part, parsed.vendor, parsed.product, clean)
    alias, clean = resolve(vendor, product, version)
    if alias is None:
        return ""
    cpe_vendor, cpe_product = alias.pairs[0]
    return _format(alias.part, cpe_vendor, cpe_product, clean)


def _format(part: str, vendor: str, product: str, version: str) -> str:
    field = _cpe_field(version.split(" build ")[0]) if version else "*"
    return f"cpe:2.3:{part}:{_cpe_field(vendor)}:{_cpe_field(product)}:{field}:*:*:*:*:*:*:*"
