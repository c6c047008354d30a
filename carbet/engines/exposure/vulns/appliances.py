"""Remote-access appliances and KEV: what to match when NVD has not (yet) described a CVE.

CISA's KEV catalogue names each exploited CVE's ``vendorProject`` and ``product`` but says
nothing of versions, and NVD often describes a freshly exploited appliance CVE weeks later, or
never. So, for the appliances behind most ransomware entries into hospitals, this module holds:

- :data:`KEV_PRODUCTS`: how each appliance appears in KEV (vendor names, product words), to
  find the KEV entries that concern it;
- :data:`KNOWN_FIXES`: for the most exploited of those CVEs, the affected version ranges and
  their fixed versions as the vendor's own advisory states them (the advisory id is kept).
  Ranges are ``(introduced, fixed)``: a version ``v`` is affected when ``introduced <= v <
  fixed`` in the vendor's version order (:mod:`.versions`).

NVD, when it describes a CVE, always wins (``match`` uses this only for KEV CVEs without any
NVD product data). A KEV CVE of the product that neither source can place is still reported,
as a KEV entry to check by hand against the detected version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carbet.engines.exposure.vulns.versions import canonical, compare, tokens


@dataclass(frozen=True)
class KevProduct:
    """How KEV names one appliance family: any of ``vendors`` (lower case), and a product
    string containing one of ``words`` (lower case)."""

    key: str
    vendors: tuple[str, ...]
    words: tuple[str, ...]
    version_vendor: str  # the rules of :func:`versions.compare` to use
    # False when NVD files the product under names, not the versions a scan reads (Exchange:
    # "2019" + "cumulative_update_8", never a build): NVD then cannot decide for a build.
    nvd_versions: bool = True


KEV_PRODUCTS: dict[str, KevProduct] = {
    product.key: product
    for product in (
        KevProduct("fortios", ("fortinet",), ("fortios",), "fortinet"),
        KevProduct(
            "ivanti_connect_secure",
            ("ivanti", "pulse secure"),
            ("connect secure", "pulse connect secure"),
            "ivanti",
        ),
        KevProduct(
            "citrix_netscaler",
            ("citrix", "netscaler"),
            ("application delivery controller", "netscaler", "adc", "gateway"),
            "citrix",
        ),
        KevProduct("panos", ("palo alto networks",), ("pan-os",), "paloaltonetworks"),
        KevProduct("cisco_asa", ("cisco",), ("adaptive security appliance", "asa"), "cisco"),
        KevProduct("sonicwall_sma", ("sonicwall",), ("sma", "secure mobile access"), "sonicwall"),
        KevProduct("sonicwall_sonicos", ("sonicwall",), ("sonicos",), "sonicwall"),
        KevProduct(
            "exchange", ("microsoft",), ("exchange server",), "microsoft", nvd_versions=False
        ),
    )
}

# Detected product names (lower case) → appliance family keys of KEV_PRODUCTS.
PRODUCT_FAMILIES: dict[str, str] = {
    "fortinet fortios": "fortios",
    "fortinet fortigate ssl vpn": "fortios",
    "ivanti connect secure": "ivanti_connect_secure",
    "pulse connect secure": "ivanti_connect_secure",
    "citrix netscaler gateway": "citrix_netscaler",
    "citrix netscaler adc": "citrix_netscaler",
    "palo alto pan-os": "panos",
    "palo alto globalprotect": "panos",
    "cisco asa": "cisco_asa",
    "cisco asa anyconnect": "cisco_asa",
    "sonicwall sma": "sonicwall_sma",
    "sonicwall ssl vpn": "sonicwall_sma",
    "sonicwall sonicos": "sonicwall_sonicos",
    "microsoft exchange": "exchange",
}


AFFECTED, CLEAR, UNSURE = "affected", "clear", "unsure"


def _continues(shown: str, bound: str) -> bool:
    """Does ``bound`` go on where the partial version ``shown`` stops (``9.0R3`` → ``9.0R3.4``)?"""
    head, tail = tokens(shown), tokens(bound)
    return len(tail) > len(head) and tail[: len(head)] == head


@dataclass(frozen=True)
class KnownFix:
    """A KEV CVE's affected ranges and fixes, from the vendor's advisory."""

    cve: str
    family: str
    advisory: str
    ranges: tuple[tuple[str, str], ...]  # (introduced, fixed)

    def fixed_for(self, version: str) -> str | None:
        """The fixed version of the range ``version`` falls in, None when not affected."""
        state, fixed = self.assess(version)
        return fixed if state == AFFECTED else None

    def assess(self, version: str, partial: bool = False) -> tuple[str, str]:
        """``(AFFECTED, fixed)``, ``(CLEAR, "")`` or ``(UNSURE, fixed)``.

        ``partial``: the version shown stops short of the patch level (``9.0R3`` may be any
        ``9.0R3.x``, an OWA path's ``15.2.792`` any ``15.2.792.x``); a range whose bound
        continues it (``9.0R3.4``) cannot be decided, one beyond it can."""
        vendor = KEV_PRODUCTS[self.family].version_vendor
        value = canonical(version, vendor)
        unsure = ""
        for introduced, fixed in self.ranges:
            if partial and (_continues(value, introduced) or _continues(value, fixed)):
                unsure = unsure or fixed
                continue
            if compare(value, introduced, vendor) >= 0 and compare(value, fixed, vendor) < 0:
                return AFFECTED, fixed
        return (UNSURE, unsure) if unsure else (CLEAR, "")


def _hotfixes(branch: str, fixes: dict[str, int]) -> tuple[tuple[str, str], ...]:
    """PAN-OS style: each maintenance release ``M`` of ``branch`` fixed by hotfix ``M-hN``."""
    return tuple((f"{branch}.{m}", f"{branch}.{m}-h{h}") for m, h in fixes.items())


KNOWN_FIXES: dict[str, KnownFix] = {
    fix.cve: fix
    for fix in (
        KnownFix(
            "CVE-2018-13379", "fortios", "FG-IR-18-384",
            (("5.4.6", "5.4.13"), ("5.6.3", "5.6.8"), ("6.0.0", "6.0.5")),
        ),
        KnownFix(
            "CVE-2022-40684", "fortios", "FG-IR-22-377",
            (("7.0.0", "7.0.7"), ("7.2.0", "7.2.2")),
        ),
        KnownFix(
            "CVE-2022-42475", "fortios", "FG-IR-22-398",
            (("6.0.0", "6.0.16"), ("6.2.0", "6.2.12"), ("6.4.0", "6.4.11"), ("7.0.0", "7.0.9"),
             ("7.2.0", "7.2.3")),
        ),
        KnownFix(
            "CVE-2023-27997", "fortios", "FG-IR-23-097",
            (("6.0.0", "6.0.17"), ("6.2.0", "6.2.14"), ("6.4.0", "6.4.13"), ("7.0.0", "7.0.12"),
             ("7.2.0", "7.2.5")),
        ),
        KnownFix(
            "CVE-2024-21762", "fortios", "FG-IR-24-015",
            (("6.0.0", "6.0.18"), ("6.2.0", "6.2.16"), ("6.4.0", "6.4.15"), ("7.0.0", "7.0.14"),
             ("7.2.0", "7.2.7"), ("7.4.0", "7.4.3")),
        ),
        KnownFix(
            "CVE-2019-11510", "ivanti_connect_secure", "SA44101",
            (("8.1R1", "8.1R15.1"), ("8.2R1", "8.2R12.1"), ("8.3R1", "8.3R7.1"),
             ("9.0R1", "9.0R3.4")),
        ),
        KnownFix(
            "CVE-2025-0282", "ivanti_connect_secure", "Ivanti, janvier 2025",
            (("22.7R2", "22.7R2.5"),),
        ),
        KnownFix(
            "CVE-2019-19781", "citrix_netscaler", "CTX267027",
            (("10.5", "10.5-70.12"), ("11.1", "11.1-63.15"), ("12.0", "12.0-63.13"),
             ("12.1", "12.1-55.18"), ("13.0", "13.0-47.24")),
        ),
        KnownFix(
            "CVE-2023-3519", "citrix_netscaler", "CTX561482",
            (("13.0", "13.0-91.13"), ("13.1", "13.1-49.13")),
        ),
        KnownFix(
            "CVE-2023-4966", "citrix_netscaler", "CTX579459",
            (("13.0", "13.0-92.19"), ("13.1", "13.1-49.15"), ("14.1", "14.1-8.50")),
        ),
        KnownFix(
            "CVE-2025-5777", "citrix_netscaler", "CTX693420",
            (("13.1", "13.1-58.32"), ("14.1", "14.1-43.56")),
        ),
        KnownFix(
            "CVE-2024-3400", "panos", "PAN-SA CVE-2024-3400",
            _hotfixes("10.2", {"0": 3, "1": 2, "2": 5, "3": 13, "4": 16, "5": 6, "6": 3,
                               "7": 8, "8": 3, "9": 1})
            + _hotfixes("11.0", {"0": 3, "1": 4, "2": 4, "3": 10, "4": 1})
            + _hotfixes("11.1", {"0": 3, "1": 1, "2": 3}),
        ),
        KnownFix(
            "CVE-2021-20038", "sonicwall_sma", "SNWLID-2021-0026",
            (("10.2.0.0", "10.2.0.9-41sv"), ("10.2.1.0", "10.2.1.3-27sv")),
        ),
        KnownFix(
            "CVE-2021-26855", "exchange", "KB5000871",
            (("15.0.0", "15.0.1497.12"), ("15.1.0", "15.1.2106"), ("15.1.2106", "15.1.2106.13"),
             ("15.1.2176", "15.1.2176.9"), ("15.2.0", "15.2.721"), ("15.2.721", "15.2.721.13"),
             ("15.2.792", "15.2.792.10")),
        ),
    )
}  # fmt: skip


def family_of(product: str) -> str | None:
    """The appliance family of a detected product name, if it is one."""
    return PRODUCT_FAMILIES.get(" ".join(product.lower().split()))


def kev_concerns(family: str, vendor: str, product: str) -> bool:
    """Does a KEV entry (its ``vendorProject`` and ``product``) concern this family?"""
    known = KEV_PRODUCTS.get(family)
    if known is None:
        return False
    vendor_text = " ".join(vendor.lower().split())
    product_text = " ".join(product.lower().split())
    if not any(name in vendor_text for name in known.vendors):
        return False
    # Words match at a word's start: "ASA" and "SMA100", never "business" for "asa".
    return any(re.search(r"\b" + re.escape(word), product_text) for word in known.words)
