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


def _exchange_sus(major: str, first: str, updates: dict[int, int]) -> tuple[tuple[str, str], ...]:
    """Exchange style: every build older than the oldest patched cumulative update is affected
    (``first``: that update's patched build), then each patched cumulative update's build
    ``B`` is affected below its security update ``B.S``."""
    patched = [(f"{major}.{b}", f"{major}.{b}.{su}") for b, su in updates.items()]
    return ((f"{major}.0", first), *patched)


# Each entry says what it was checked against (2026-12, during issue 19): the vendor's advisory
# as its CVE record (the vendor is the CNA), a CERT-FR alert or a national CERT quotes it.
KNOWN_FIXES: dict[str, KnownFix] = {
    fix.cve: fix
    for fix in (
        # Checked: CVE record (Fortinet) = FG-IR-18-384 — 5.4.6–5.4.12, 5.6.3–5.6.7, 6.0.0–6.0.4.
        KnownFix(
            "CVE-2018-13379", "fortios", "FG-IR-18-384",
            (("5.4.6", "5.4.13"), ("5.6.3", "5.6.8"), ("6.0.0", "6.0.5")),
        ),
        # Checked: FG-IR-22-377 as quoted by SK-CERT and Arctic Wolf — 7.0.0–7.0.6, 7.2.0–7.2.1.
        KnownFix(
            "CVE-2022-40684", "fortios", "FG-IR-22-377",
            (("7.0.0", "7.0.7"), ("7.2.0", "7.2.2")),
        ),
        # Corrected: FG-IR-22-398 was updated to list 5.0 to 5.6 (all versions, no fix in those
        # branches: upgrade to a fixed 6.x), as CCB advisory 2022-43 v2 quotes it. Ranges of
        # 6.0–7.2 checked against the CVE record and CERTFR-2022-ALE-012.
        KnownFix(
            "CVE-2022-42475", "fortios", "FG-IR-22-398",
            (("5.0.0", "6.0.16"), ("6.2.0", "6.2.12"), ("6.4.0", "6.4.11"), ("7.0.0", "7.0.9"),
             ("7.2.0", "7.2.3")),
        ),
        # Checked: FG-IR-23-097 as CERTFR-2023-ALE-004 quotes it (6.2.x fixed in 6.2.14).
        KnownFix(
            "CVE-2023-27997", "fortios", "FG-IR-23-097",
            (("6.0.0", "6.0.17"), ("6.2.0", "6.2.14"), ("6.4.0", "6.4.13"), ("7.0.0", "7.0.12"),
             ("7.2.0", "7.2.5")),
        ),
        # Corrected: FG-IR-24-015 gives no 6.0 fix (6.0.0–6.0.17 affected, "migrate to a fixed
        # release"): 6.0 now points at 6.2.16. Other branches checked (CVE record,
        # CERTFR-2024-ALE-004).
        KnownFix(
            "CVE-2024-21762", "fortios", "FG-IR-24-015",
            (("6.0.0", "6.2.16"), ("6.4.0", "6.4.15"), ("7.0.0", "7.0.14"), ("7.2.0", "7.2.7"),
             ("7.4.0", "7.4.3")),
        ),
        # Corrected: the CVE record (SA44101) names 8.2, 8.3 and 9.0 only; the 8.1R15.1 bound
        # belongs to other CVEs of the same advisory (CVE-2019-11538...), not to this one.
        KnownFix(
            "CVE-2019-11510", "ivanti_connect_secure", "SA44101",
            (("8.2R1", "8.2R12.1"), ("8.3R1", "8.3R7.1"), ("9.0R1", "9.0R3.4")),
        ),
        # Checked: CVE record (Ivanti) — Connect Secure 22.7R2 through 22.7R2.4.
        KnownFix(
            "CVE-2025-0282", "ivanti_connect_secure", "Ivanti, janvier 2025",
            (("22.7R2", "22.7R2.5"),),
        ),
        # Branches checked (CVE record: 10.5, 11.1, 12.0, 12.1, 13.0); the fixed builds of
        # CTX267027 could not be checked against a source reachable here.
        KnownFix(
            "CVE-2019-19781", "citrix_netscaler", "CTX267027",
            (("10.5", "10.5-70.12"), ("11.1", "11.1-63.15"), ("12.0", "12.0-63.13"),
             ("12.1", "12.1-55.18"), ("13.0", "13.0-47.24")),
        ),
        # Checked: CVE record (Citrix) — 13.1 before 49.13, 13.0 before 91.13.
        KnownFix(
            "CVE-2023-3519", "citrix_netscaler", "CTX561482",
            (("13.0", "13.0-91.13"), ("13.1", "13.1-49.13")),
        ),
        # Checked: CVE record (Citrix) — 14.1 before 8.50, 13.1 before 49.15, 13.0 before 92.19.
        KnownFix(
            "CVE-2023-4966", "citrix_netscaler", "CTX579459",
            (("13.0", "13.0-92.19"), ("13.1", "13.1-49.15"), ("14.1", "14.1-8.50")),
        ),
        # Checked: CVE record (Citrix) — 14.1 before 43.56, 13.1 before 58.32.
        KnownFix(
            "CVE-2025-5777", "citrix_netscaler", "CTX693420",
            (("13.1", "13.1-58.32"), ("14.1", "14.1-43.56")),
        ),
        # Checked: the advisory's hotfix list as SK-CERT quotes it (CERTFR-2024-ALE-006).
        KnownFix(
            "CVE-2024-3400", "panos", "PAN-SA CVE-2024-3400",
            _hotfixes("10.2", {"0": 3, "1": 2, "2": 5, "3": 13, "4": 16, "5": 6, "6": 3,
                               "7": 8, "8": 3, "9": 1})
            + _hotfixes("11.0", {"0": 3, "1": 4, "2": 4, "3": 10, "4": 1})
            + _hotfixes("11.1", {"0": 3, "1": 1, "2": 3}),
        ),
        # Checked: SNWLID-2021-0026 as JustisCERT quotes it (before 10.2.0.9-41sv, 10.2.1.3-27sv).
        KnownFix(
            "CVE-2021-20038", "sonicwall_sma", "SNWLID-2021-0026",
            (("10.2.0.0", "10.2.0.9-41sv"), ("10.2.1.0", "10.2.1.3-27sv")),
        ),
        # Corrected: March 2021 security updates exist for older cumulative updates too (a
        # patched 2016 CU13, 15.1.1779.8, was reported affected). Builds from the CVE records of
        # the same release (CVE-2021-26858, CVE-2021-27078: KB5000871 and its older-CU updates).
        KnownFix(
            "CVE-2021-26855", "exchange", "KB5000871",
            _exchange_sus("15.0", "15.0.1395.12", {1395: 12, 1473: 6, 1497: 12})
            + _exchange_sus("15.1", "15.1.1415.10", {
                1415: 10, 1466: 16, 1531: 12, 1591: 18, 1713: 10, 1779: 8, 1847: 12, 1913: 12,
                1979: 8, 2044: 13, 2106: 13, 2176: 9})
            + _exchange_sus("15.2", "15.2.221.18", {
                221: 18, 397: 11, 464: 15, 529: 13, 595: 8, 659: 12, 721: 13, 792: 10})
            + (("15.2.330", "15.2.397.11"),),  # 2019 CU1: no update of its own found
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
