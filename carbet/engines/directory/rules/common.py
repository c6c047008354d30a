"""Small helpers shared by the rule modules: names, operating system end of support."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from carbet.engines.directory.model import Account

UAC_INTERDOMAIN_TRUST_ACCOUNT = 0x800
AES_BITS = 0x8 | 0x10  # msDS-SupportedEncryptionTypes AES128 / AES256
DES_BITS = 0x1 | 0x2

FUNCTIONAL_LEVEL_NAMES = {
    0: "Windows 2000",
    1: "Windows Server 2003 (intermédiaire)",
    2: "Windows Server 2003",
    3: "Windows Server 2008",
    4: "Windows Server 2008 R2",
    5: "Windows Server 2012",
    6: "Windows Server 2012 R2",
    7: "Windows Server 2016",
    10: "Windows Server 2025",
}

# Read outside the rules (security-by-design facts): kept here, where importing it does not
# register a rule out of the catalogue's order.
PASSWORD_ONLY_RULE = "privileged_password_only"  # noqa: S105 (a rule id, not a secret)


def names(accounts: list[Account]) -> list[str]:
    return sorted((a.sam for a in accounts), key=str.lower)


def is_trust_account(account: Account) -> bool:
    return bool(account.uac & UAC_INTERDOMAIN_TRUST_ACCOUNT)


def is_person(account: Account) -> bool:
    """A user account in the everyday sense: not a trust account, not krbtgt."""
    return not is_trust_account(account) and not account.sid.endswith("-502")


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (family, pattern on the lower-case operatingSystem, end of extended support).
# Families group what a rule reports together; the date makes "obsolete" follow the clock.
OS_END_OF_SUPPORT: tuple[tuple[str, re.Pattern[str], datetime], ...] = (
    ("legacy", re.compile(r"windows (nt|2000)|windows xp|server.*2003"), _date("2015-07-14")),
    ("2008", re.compile(r"windows vista|windows 7\b"), _date("2020-01-14")),
    ("2008", re.compile(r"server.*2008"), _date("2020-01-14")),
    ("2012", re.compile(r"windows 8(\.1)?\b"), _date("2023-01-10")),
    ("2012", re.compile(r"server.*2012"), _date("2023-10-10")),
    ("windows10", re.compile(r"windows 10\b(?!.*ltsc)(?!.*ltsb)"), _date("2025-10-14")),
    ("windows10", re.compile(r"windows 10\b.*ltsb"), _date("2026-10-13")),
)


def os_family_out_of_support(os_name: str, now: datetime) -> str:
    """The end-of-support family of an operating system name, "" when still supported."""
    text = os_name.lower()
    if "windows" not in text:
        return ""
    for family, pattern, end in OS_END_OF_SUPPORT:
        if pattern.search(text):
            return family if now >= end else ""
    return ""
