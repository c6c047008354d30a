"""What the demo lab serves: the demo zones and, per structure, the hosts and services the
demo's findings tell about, on the structure's loopback network ``127.97.<n>.0/28``.

Derived, never written twice: the addresses come from the demo registry's asset plan
(``carbet.demo.services.asset_plan``) and the weaknesses from the demo's findings history as it
stands on the load day (``carbet.demo.findings_data.PROFILES``, what no scan has stopped seeing
yet). A structure whose history has no web, mail or port weakness gets sound services, so a
scan of it finds little: the difference is the point.

Ports: the lab serves the ports the default scan profile probes. Ports below 1024 (25 SMTP,
21 FTP, 80 HTTP, 104 DICOM, 443 HTTPS, 445 SMB) need root; without it the lab uses the
unprivileged ports of the same profile (8080 HTTP, 8443 HTTPS, 11112 DICOM) and leaves out
SMTP, FTP and SMB, which have none (``LabPorts``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

from carbet.demo import findings_data, region

LAB_PREFIX = "127.97"
DNS_ADDRESS = f"{LAB_PREFIX}.0.53"
DNS_PORT = 1053  # unprivileged, away from mDNS's 5353
NAMESERVER = f"{DNS_ADDRESS}:{DNS_PORT}"
# Host numbers inside a structure's /28 (the gateway's .10 and the range come from asset_plan).
SITE, WEBMAIL, MX, PACS, VPN, GATEWAY = 2, 3, 4, 5, 6, 10


@dataclass(frozen=True)
class LabPorts:
    http: int
    https: int
    dicom: int
    smtp: int | None
    ftp: int | None
    smb: int | None
    rdp: int = 3389

    @classmethod
    def choose(cls, privileged: bool) -> LabPorts:
        if privileged:
            return cls(http=80, https=443, dicom=104, smtp=25, ftp=21, smb=445)
        return cls(http=8080, https=8443, dicom=11112, smtp=None, ftp=None, smb=None)


@dataclass
class WebHost:
    name: str
    address: str
    https: bool = True
    sound: bool = True
    old_tls: bool = False
    cert_days: int = 365  # days of validity left (negative: expired)
    admin_page: bool = False


@dataclass
class StructureLab:
    key: str
    network: str  # e.g. 127.97.3
    zone: str  # the structure's .test zone
    hospital_zone: str = ""  # its .example zone (VPN, directory) when it has one
    web: list[WebHost] = field(default_factory=list)
    mx: str = ""
    dmarc: bool = True
    spf: str = "v=spf1 mx -all"
    rdp: str = ""  # address answering RDP
    smb: str = ""
    ftp: str = ""
    dicom: str = ""

    def address(self, host: int) -> str:
        return f"{self.network}.{host}"


def current_weaknesses(key: str) -> dict[str, str]:
    """Weakness → asset role, for the exposure weaknesses still open on the load day."""
    found = {}
    for seen in findings_data.PROFILES.get(key, ()):
        if seen.until is None and not seen.via and seen.source == findings_data.E:
            found[seen.weakness] = seen.asset
    return found


def plan() -> list[StructureLab]:
    from carbet.demo.services import HOSPITAL_CATEGORIES

    labs = []
    for index, (_org, spec) in enumerate(region.all_structures()):
        weak = current_weaknesses(spec.key)
        lab = StructureLab(
            key=spec.key,
            network=f"{LAB_PREFIX}.{index + 1}",
            zone=f"{spec.key}.test",
            hospital_zone=f"{spec.key}.example" if spec.category in HOSPITAL_CATEGORIES else "",
        )
        hosts = {
            "site": WebHost(lab.zone, lab.address(SITE)),
            "webmail": WebHost(f"webmail.{lab.zone}", lab.address(WEBMAIL)),
            "gateway": WebHost(lab.address(GATEWAY), lab.address(GATEWAY)),
        }
        for weakness, role in weak.items():
            host = hosts.get(role)
            if host is None:
                continue
            if weakness == "tls10":
                host.old_tls = True
            elif weakness == "cert":
                host.cert_days = 20
            elif weakness == "cert_expired":
                host.cert_days = -3
            elif weakness == "https_missing":
                host.https, host.sound = False, False
            elif weakness == "hsts":
                host.sound = False
            elif weakness == "admin_page":
                host.admin_page = True
        lab.web = list(hosts.values())
        lab.mx = lab.address(MX)
        lab.dmarc = "dmarc" not in weak
        if "spf" in weak:
            lab.spf = "v=spf1 +all"
        lab.rdp = lab.address(GATEWAY) if "rdp" in weak else ""
        lab.smb = lab.address(GATEWAY) if "smb" in weak else ""
        lab.ftp = lab.address(GATEWAY) if "ftp" in weak else ""
        lab.dicom = lab.address(PACS) if "dicom" in weak else ""
        labs.append(lab)
    return labs


def zone_texts(labs: list[StructureLab]) -> dict[str, str]:
    """Zone file text by origin; every zone is unsigned (DNSSEC is missing everywhere, as the
    demo's findings say for most structures)."""
    serial = dt.date.today().strftime("%Y%m%d01")
    soa = f"@ 3600 IN SOA ns.lab-demo.test. hostmaster.lab-demo.test. {serial} 3600 600 86400 300"
    zones = {}
    for lab in labs:
        records = [
            soa,
            "@ 3600 IN NS ns.lab-demo.test.",
            f"@ 300 IN A {lab.address(SITE)}",
            "www 300 IN CNAME @",
            f"webmail 300 IN A {lab.address(WEBMAIL)}",
            f"mx 300 IN A {lab.mx}",
            "@ 300 IN MX 10 mx",
            f'@ 300 IN TXT "{lab.spf}"',
        ]
        if lab.dmarc:
            records.append(
                '_dmarc 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@' + lab.zone + '"'
            )
        zones[lab.zone] = "\n".join(records) + "\n"
        if lab.hospital_zone:
            zones[lab.hospital_zone] = (
                "\n".join(
                    [
                        soa,
                        "@ 3600 IN NS ns.lab-demo.test.",
                        f"vpn 300 IN A {lab.address(VPN)}",
                        f"pacs 300 IN A {lab.address(PACS)}",
                    ]
                )
                + "\n"
            )
    zones["lab-demo.test"] = (
        "\n".join([soa, "@ 3600 IN NS ns", f"ns 300 IN A {DNS_ADDRESS}"]) + "\n"
    )
    return zones


def in_lab(address: str) -> bool:
    """Whether ``address`` is one of the lab's (a guard: the lab binds nothing else)."""
    return ipaddress.ip_address(address) in ipaddress.ip_network(f"{LAB_PREFIX}.0.0/16")
