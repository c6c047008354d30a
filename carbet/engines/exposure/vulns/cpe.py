"""From what a banner says ("OpenSSH", "FortiOS", "Microsoft-IIS") to NVD's CPE names.

NVD names products by CPE 2.3 ``cpe:2.3:part:vendor:product:version:update:...``. Banners name
them their own way; :data:`PRODUCT_ALIASES` maps the usual spellings to the (vendor, product)
pairs NVD uses, sometimes several (a product renamed or bought: Pulse Secure → Ivanti).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# normalised banner name -> CPE (vendor, product) pairs NVD files it under
PRODUCT_ALIASES: dict[str, tuple[tuple[str, str], ...]] = {
    "openssh": (("openbsd", "openssh"),),
    "dropbear": (("dropbear_ssh_project", "dropbear_ssh"),),
    "dropbear ssh": (("dropbear_ssh_project", "dropbear_ssh"),),
    "openresty": (("openresty", "openresty"),),
    "jetty": (("eclipse", "jetty"),),
    "sendmail": (("sendmail", "sendmail"),),
    "opensmtpd": (("openbsd", "opensmtpd"),),
    "libssh": (("libssh", "libssh"),),
    "nginx": (("f5", "nginx"), ("nginx", "nginx")),
    "apache": (("apache", "http_server"),),
    "apache httpd": (("apache", "http_server"),),
    "apache http server": (("apache", "http_server"),),
    "apache tomcat": (("apache", "tomcat"),),
    "tomcat": (("apache", "tomcat"),),
    "microsoft iis": (("microsoft", "internet_information_services"),),
    "microsoft-iis": (("microsoft", "internet_information_services"),),
    "iis": (("microsoft", "internet_information_services"),),
    "microsoft exchange": (("microsoft", "exchange_server"),),
    "lighttpd": (("lighttpd", "lighttpd"),),
    "fortios": (("fortinet", "fortios"),),
    "fortinet fortios": (("fortinet", "fortios"),),
    "fortigate": (("fortinet", "fortios"),),
    "pulse connect secure": (("pulsesecure", "pulse_connect_secure"), ("ivanti", "connect_secure")),
    "ivanti connect secure": (
        ("ivanti", "connect_secure"),
        ("pulsesecure", "pulse_connect_secure"),
    ),
    "cisco ios": (("cisco", "ios"),),
    "cisco ios xe": (("cisco", "ios_xe"),),
    "cisco asa": (("cisco", "adaptive_security_appliance_software"),),
    "citrix adc": (
        ("citrix", "netscaler_application_delivery_controller"),
        ("citrix", "application_delivery_controller_firmware"),
    ),
    "netscaler": (("citrix", "netscaler_application_delivery_controller"),),
    "citrix netscaler adc": (
        ("citrix", "netscaler_application_delivery_controller"),
        ("citrix", "application_delivery_controller_firmware"),
    ),
    "citrix netscaler gateway": (
        ("citrix", "netscaler_gateway"),
        ("citrix", "netscaler_application_delivery_controller"),
    ),
    "fortinet fortigate ssl vpn": (("fortinet", "fortios"),),
    "palo alto globalprotect": (("paloaltonetworks", "pan-os"),),
    "cisco asa anyconnect": (("cisco", "adaptive_security_appliance_software"),),
    "pan-os": (("paloaltonetworks", "pan-os"),),
    "palo alto pan-os": (("paloaltonetworks", "pan-os"),),
    "postfix": (("postfix", "postfix"),),
    "exim": (("exim", "exim"),),
    "microsoft esmtp": (("microsoft", "exchange_server"),),
    "vsftpd": (("beasts", "vsftpd"),),
    "proftpd": (("proftpd", "proftpd"),),
    "pure-ftpd": (("pureftpd", "pure-ftpd"),),
    "filezilla server": (("filezilla-project", "filezilla_server"),),
    "mysql": (("oracle", "mysql"), ("mysql", "mysql")),
    "mariadb": (("mariadb", "mariadb"),),
    "postgresql": (("postgresql", "postgresql"),),
    "redis": (("redis", "redis"), ("redislabs", "redis")),
    "mongodb": (("mongodb", "mongodb"),),
    "elasticsearch": (("elastic", "elasticsearch"),),
    "microsoft sql server": (("microsoft", "sql_server"),),
    "oracle database": (("oracle", "database_server"),),
    "openssl": (("openssl", "openssl"),),
    "realvnc": (("realvnc", "realvnc"),),
    "tightvnc": (("tightvnc", "tightvnc"),),
    "dcmtk": (("offis", "dcmtk"),),
    "orthanc": (("orthanc-server", "orthanc"),),
    "microsoft terminal services": (("microsoft", "remote_desktop_services"),),
}

_ESCAPED_COLON = "\x00"


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = "*"
    update: str = "*"

    def full_version(self) -> str:
        """Version plus update when the update carries a release ("9.1" + "r14" → "9.1r14")."""
        if self.update not in ("*", "-", ""):
            return f"{self.version}{self.update}"
        return self.version

    def uri(self) -> str:
        head = f"cpe:2.3:{self.part}:{self.vendor}:{self.product}"
        return f"{head}:{self.version}:{self.update}:*:*:*:*:*:*"


def parse_cpe(criteria: str) -> Cpe | None:
    """Parse a CPE 2.3 formatted string; None when it is not one."""
    if not criteria.startswith("cpe:2.3:"):
        return None
    text = criteria.replace("\\:", _ESCAPED_COLON)
    fields = text.split(":")
    if len(fields) < 6:
        return None
    restore = [f.replace(_ESCAPED_COLON, ":").replace("\\", "") for f in fields]
    part, vendor, product, version = restore[2], restore[3], restore[4], restore[5]
    update = restore[6] if len(restore) > 6 else "*"
    return Cpe(part, vendor.lower(), product.lower(), version, update)


def normalise_product(name: str) -> str:
    return re.sub(r"[\s_/]+", " ", name.strip().lower())


def candidates(product: str, vendor: str = "", cpe: str = "") -> list[tuple[str, str]]:
    """The (vendor, product) pairs to look up for a detected product: the service's own CPE
    first, then every name NVD files the product under (a CPE built from a banner may use an
    older vendor or product name: nginx:nginx for f5:nginx, microsoft:iis for
    microsoft:internet_information_services)."""
    pairs: list[tuple[str, str]] = []
    parsed = parse_cpe(cpe) if cpe else None
    if parsed is not None:
        pairs.append((parsed.vendor, parsed.product))
    key = normalise_product(product)
    aliases = list(PRODUCT_ALIASES.get(key, ()))
    if parsed is not None:
        aliases += PRODUCT_ALIASES.get(normalise_product(parsed.product), ())
    if vendor:
        aliases.sort(key=lambda pair: pair[0] != vendor.lower())
    pairs += aliases
    if not pairs and key:
        pairs.append((vendor.lower(), key.replace(" ", "_")))
    return list(dict.fromkeys(pairs))
