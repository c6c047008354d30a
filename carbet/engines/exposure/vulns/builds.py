"""Exploited flaws of appliances whose version is unknown but whose build date is read.

FortiGate SSL-VPN and GlobalProtect portals hide their version; their static files give the
day the firmware was built (:mod:`carbet.engines.exposure.web.builddate`). A firmware built on
day D can only be a release published by D (or being prepared then), so:

- built well before the first fixed release of a flaw was published, it **cannot contain the
  fix**: when every branch maintained then was affected, that is a finding (certainty: high,
  the remaining doubt being a branch older than the advisory lists); when only some branches
  were, the flaw is listed to check ("affected if the branch is …");
- built after that, the fix may be in: the version stays unknown, listed to check, never
  claimed;
- built more than :data:`OLD_AFTER` ago: very old firmware, reported on its own (end of
  support is likely and every later fix is missing).

"Well before" is :data:`MARGIN`: a fixed release is built some weeks before it is published,
so a firmware built within that margin of the publication may already carry the fix.

:data:`BUILD_FIXES` is written by hand from the vendors' advisories and the CERT-FR alerts
(each entry names what was checked). Publication dates of releases come from the vendor's
documentation (first release of each version's documents); where a branch's date could not be
checked, the earliest date that was checked is used and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MARGIN = timedelta(days=90)
OLD_AFTER = timedelta(days=3 * 365)

BEFORE_FIX, BEFORE_FIX_SOME_BRANCHES = "before_fix", "before_fix_branches"
AFTER_FIX, NO_DATE, OLDER_BRANCH = "after_fix", "fix_date_unknown", "older_branch"


@dataclass(frozen=True)
class BuildFix:
    """One exploited (KEV) flaw of an appliance family, as its advisory states it."""

    cve: str
    family: str  # a key of vulns.appliances.KEV_PRODUCTS ("fortios", "panos")
    name: str
    advisory: str  # the vendor's advisory id
    certfr: str  # the CERT-FR alert or notice ("" when none was found)
    affected: str  # the affected branches, in the advisory's words
    fixed: tuple[str, ...]  # first fixed version of each affected branch
    first_fixed: date | None  # publication of the first fixed release (None: not checked)
    every_branch: bool  # every branch maintained when the fix came out was affected
    checked: str  # what the entry was checked against
    # Publication of the oldest branch the advisory lists: a firmware built before it is of an
    # older branch the vendor no longer assesses, never claimed affected (None: no such bound).
    listed_since: date | None = None


# FortiOS 6.0 reached its end of support on 2022-09-29 (as reported with Bishop Fox's 2023
# count); Fortinet's lifecycle puts that 54 months after release, i.e. 2018-03-29.
FORTIOS_6_0 = date(2018, 3, 29)

BUILD_FIXES: tuple[BuildFix, ...] = (
    BuildFix(
        "CVE-2018-13379", "fortios", "FortiOS SSL-VPN path traversal (credential theft)",
        "FG-IR-18-384", "",
        "5.4.6–5.4.12, 5.6.3–5.6.7, 6.0.0–6.0.4 (5.4.0–5.4.5, 5.6.0–5.6.2 and 6.2 not affected)",
        ("5.4.13", "5.6.8", "6.0.5"), None, False,
        "FG-IR-18-384; publication dates of the fixed releases not checked",
    ),
    BuildFix(
        "CVE-2022-42475", "fortios", "FortiOS SSL-VPN heap overflow (sslvpnd)",
        "FG-IR-22-398", "CERTFR-2022-ALE-012",
        "5.0 to 5.6 (all), 6.0.0–6.0.15, 6.2.0–6.2.11, 6.4.0–6.4.10, 7.0.0–7.0.8, 7.2.0–7.2.2",
        ("6.0.16", "6.2.12", "6.4.11", "7.0.9", "7.2.3"), date(2022, 11, 1), True,
        "FG-IR-22-398 (updated to list 5.x), CERTFR-2022-ALE-012; 6.4.11 published 2022-11-01, "
        "7.2.3 2022-11-10, 7.0.9 2022-11-22 (Fortinet documentation); 6.0.16 and 6.2.12 dates "
        "not checked",
    ),
    BuildFix(
        "CVE-2023-27997", "fortios", "FortiOS SSL-VPN heap overflow (XORtigate)",
        "FG-IR-23-097", "CERTFR-2023-ALE-004",
        "6.0.0–6.0.16, 6.2.0–6.2.13, 6.4.0–6.4.12, 7.0.0–7.0.11, 7.2.0–7.2.4 (7.4 not affected)",
        ("6.0.17", "6.2.14", "6.4.13", "7.0.12", "7.2.5"), date(2023, 4, 12), True,
        "FG-IR-23-097, CERTFR-2023-ALE-004; 6.2.14 published 2023-04-12, 6.4.13, 7.0.12, 7.2.5 "
        "and 6.0.17 2023-06-08 (Fortinet documentation, release notes)",
        FORTIOS_6_0,
    ),
    BuildFix(
        "CVE-2024-21762", "fortios", "FortiOS SSL-VPN out-of-bounds write (sslvpnd)",
        "FG-IR-24-015", "CERTFR-2024-ALE-004",
        "6.0 (all), 6.2.0–6.2.15, 6.4.0–6.4.14, 7.0.0–7.0.13, 7.2.0–7.2.6, 7.4.0–7.4.2 "
        "(7.6 not affected)",
        ("6.2.16", "6.4.15", "7.0.14", "7.2.7", "7.4.3"), date(2024, 2, 7), True,
        "FG-IR-24-015, CERTFR-2024-ALE-004; 6.4.15, 7.0.14 and 7.4.3 published 2024-02-07, "
        "7.2.7 2024-02-08 (Fortinet documentation); 6.2.16 date not checked",
        FORTIOS_6_0,
    ),
    BuildFix(
        "CVE-2019-1579", "panos", "GlobalProtect pre-authentication code execution",
        "PAN-SA-2019-0020", "",
        "7.1.18 and earlier, 8.0.11 and earlier, 8.1.2 and earlier (9.0 not affected)",
        ("7.1.19", "8.0.12", "8.1.3"), None, True,
        "PAN-SA-2019-0020; the fixes shipped in 2018, a year before the advisory: their "
        "publication dates were not checked",
    ),
    BuildFix(
        "CVE-2020-2021", "panos", "PAN-OS SAML authentication bypass (GlobalProtect)",
        "PAN-SA CVE-2020-2021", "",
        "8.0 (all), 8.1 before 8.1.15, 9.0 before 9.0.9, 9.1 before 9.1.3 (7.1 not affected; "
        "only with SAML and the identity provider's certificate not validated)",
        ("8.1.15", "9.0.9", "9.1.3"), None, False,
        "security.paloaltonetworks.com/CVE-2020-2021 (as quoted by CCB and NHS Digital)",
    ),
    BuildFix(
        "CVE-2021-3064", "panos", "GlobalProtect memory corruption",
        "PAN-SA CVE-2021-3064", "",
        "8.1 before 8.1.17 (9.0, 9.1, 10.0, 10.1 not affected)",
        ("8.1.17",), None, False,
        "CVE record of Palo Alto Networks (CNA) for CVE-2021-3064",
    ),
    BuildFix(
        "CVE-2024-3400", "panos", "GlobalProtect command injection",
        "PAN-SA CVE-2024-3400", "CERTFR-2024-ALE-006",
        "10.2, 11.0, 11.1 before their hotfixes (10.2.9-h1, 11.0.4-h1, 11.1.2-h3 and the "
        "hotfixes of earlier maintenance releases); other branches not affected",
        ("10.2.9-h1", "11.0.4-h1", "11.1.2-h3"), date(2024, 4, 14), False,
        "security.paloaltonetworks.com/CVE-2024-3400 (hotfix list as quoted by SK-CERT), "
        "CERTFR-2024-ALE-006; first hotfixes published 2024-04-14",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    fix: BuildFix
    state: str  # BEFORE_FIX, BEFORE_FIX_SOME_BRANCHES, AFTER_FIX, NO_DATE or OLDER_BRANCH


def judge(family: str, built: date) -> list[Verdict]:
    """What a firmware of ``family`` built on ``built`` says of each exploited flaw."""
    verdicts = []
    for fix in BUILD_FIXES:
        if fix.family != family:
            continue
        if fix.first_fixed is None:
            state = NO_DATE  # nothing is claimed on a date that was not checked
        elif built >= fix.first_fixed - MARGIN:
            state = AFTER_FIX
        elif fix.listed_since is not None and built < fix.listed_since:
            state = OLDER_BRANCH
        else:
            state = BEFORE_FIX if fix.every_branch else BEFORE_FIX_SOME_BRANCHES
        verdicts.append(Verdict(fix, state))
    return verdicts


def is_old(built: date, today: date) -> bool:
    return today - built > OLD_AFTER


def parse_day(text: object) -> date | None:
    """A service's ``build_date`` back into a date (None for anything else)."""
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
