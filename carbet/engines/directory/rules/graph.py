"""What every rule needs once per analysis: the clock, lookups, and who is privileged.

Privilege is derived from **nested** membership of the privileged groups, found by their
well-known SID or RID, never from ``adminCount`` (Samba never sets it, and on Windows it stays
at 1 after an account leaves the groups). Membership comes from three places, merged: groups'
``member`` lists, accounts' ``memberOf``, and the primary group (``primaryGroupID``), which
appears in neither list — an account whose primary group is Domain Admins *is* an admin.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import TypeVar, cast

from carbet.engines.directory.model import (
    UAC_ACCOUNTDISABLE,
    UAC_PARTIAL_SECRETS_ACCOUNT,
    UAC_SERVER_TRUST_ACCOUNT,
    Account,
    Group,
    Snapshot,
)

T = TypeVar("T")

# Builtin groups (same SID in every domain).
SID_ADMINISTRATORS = "S-1-5-32-544"
SID_ACCOUNT_OPERATORS = "S-1-5-32-548"
SID_SERVER_OPERATORS = "S-1-5-32-549"
SID_PRINT_OPERATORS = "S-1-5-32-550"
SID_BACKUP_OPERATORS = "S-1-5-32-551"
SID_PRE2000 = "S-1-5-32-554"
SID_EVERYONE = "S-1-1-0"
SID_ANONYMOUS = "S-1-5-7"
SID_AUTHENTICATED_USERS = "S-1-5-11"
SID_ENTERPRISE_DCS = "S-1-5-9"
SID_SELF = "S-1-5-10"
SID_SYSTEM = "S-1-5-18"
SID_DOMAIN_USERS_SUFFIX = "-513"

# Domain-relative ids.
RID_ADMINISTRATOR = 500
RID_GUEST = 501
RID_KRBTGT = 502
RID_ENTERPRISE_RODCS = 498
RID_DOMAIN_ADMINS = 512
RID_DOMAIN_USERS = 513
RID_DOMAIN_GUESTS = 514
RID_DOMAIN_COMPUTERS = 515
RID_DOMAIN_CONTROLLERS = 516
RID_CERT_PUBLISHERS = 517
RID_SCHEMA_ADMINS = 518
RID_ENTERPRISE_ADMINS = 519
RID_RODCS = 521
RID_PROTECTED_USERS = 525
RID_KEY_ADMINS = 526
RID_ENTERPRISE_KEY_ADMINS = 527

PRIVILEGED_BUILTIN_SIDS = (
    SID_ADMINISTRATORS,
    SID_ACCOUNT_OPERATORS,
    SID_SERVER_OPERATORS,
    SID_PRINT_OPERATORS,
    SID_BACKUP_OPERATORS,
)
PRIVILEGED_RIDS = (
    RID_DOMAIN_ADMINS,
    RID_SCHEMA_ADMINS,
    RID_ENTERPRISE_ADMINS,
    RID_KEY_ADMINS,
    RID_ENTERPRISE_KEY_ADMINS,
)
WELL_KNOWN_NAMES = {
    SID_ADMINISTRATORS: "Administrators",
    SID_ACCOUNT_OPERATORS: "Account Operators",
    SID_SERVER_OPERATORS: "Server Operators",
    SID_PRINT_OPERATORS: "Print Operators",
    SID_BACKUP_OPERATORS: "Backup Operators",
    SID_PRE2000: "Pre-Windows 2000 Compatible Access",
    SID_EVERYONE: "Everyone",
    SID_ANONYMOUS: "Anonymous Logon",
    SID_AUTHENTICATED_USERS: "Authenticated Users",
    SID_ENTERPRISE_DCS: "Enterprise Domain Controllers",
    SID_SELF: "Self",
    SID_SYSTEM: "SYSTEM",
    "S-1-3-0": "Creator Owner",
    "S-1-5-32-560": "Windows Authorization Access Group",
    "S-1-5-32-561": "Terminal Server License Servers",
}


@lru_cache(maxsize=65536)
def rid_of(sid: str) -> int | None:
    """The relative id of a domain SID (S-1-5-21-a-b-c-RID), None for other SIDs."""
    if not sid.startswith("S-1-5-21-"):
        return None
    tail = sid.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def is_enabled(account: Account) -> bool:
    return not account.uac & UAC_ACCOUNTDISABLE


def is_domain_controller(account: Account) -> bool:
    return (
        account.is_dc
        or bool(account.uac & (UAC_SERVER_TRUST_ACCOUNT | UAC_PARTIAL_SECRETS_ACCOUNT))
        or account.primary_group_id in (RID_DOMAIN_CONTROLLERS, RID_RODCS)
    )


@dataclass
class RuleContext:
    """Built once per analysis; everything here is derived, so rules stay pure functions."""

    snapshot: Snapshot
    now: datetime
    _closures: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, repr=False)

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """Compute a value shared by several rules once per analysis."""
        if name not in self._memo:
            self._memo[name] = compute()
        # Each name is computed by one function only, so the stored value is that function's T.
        return cast(T, self._memo[name])

    # --- lookups -----------------------------------------------------------------------------
    @cached_property
    def accounts(self) -> list[Account]:
        return [*self.snapshot.users, *self.snapshot.computers]

    @cached_property
    def objects(self) -> list[Account | Group]:
        """Users, computers then groups: every object a DN or a SID can name."""
        return [*self.accounts, *self.snapshot.groups]

    @cached_property
    def by_dn(self) -> dict[str, Account | Group]:
        table: dict[str, Account | Group] = {}
        for item in self.objects:
            table[item.dn.lower()] = item
        return table

    @cached_property
    def by_sid(self) -> dict[str, Account | Group]:
        return {item.sid: item for item in self.objects if item.sid}

    @cached_property
    def domain_sid(self) -> str:
        if self.snapshot.domain.sid:
            return self.snapshot.domain.sid
        groups_first: list[Account | Group] = [*self.snapshot.groups, *self.accounts]
        for item in groups_first:
            if rid_of(item.sid) is not None:
                return item.sid.rsplit("-", 1)[0]
        return ""

    def group_by_rid(self, rid: int) -> Group | None:
        for group in self.snapshot.groups:
            if rid_of(group.sid) == rid and self._in_domain(group.sid):
                return group
        return None

    def group_by_sid(self, sid: str) -> Group | None:
        item = self.by_sid.get(sid)
        return item if isinstance(item, Group) else None

    def group_by_name(self, name: str) -> Group | None:
        for group in self.snapshot.groups:
            if group.sam.lower() == name.lower():
                return group
        return None

    def _in_domain(self, sid: str) -> bool:
        return not self.domain_sid or sid.rsplit("-", 1)[0] == self.domain_sid

    def name_of_sid(self, sid: str) -> str:
        item = self.by_sid.get(sid)
        if item is not None:
            return item.sam
        return WELL_KNOWN_NAMES.get(sid, sid)

    def name_of_dn(self, dn: str) -> str:
        item = self.by_dn.get(dn.lower())
        if item is not None:
            return item.sam
        first = dn.split(",", 1)[0]
        return first.split("=", 1)[-1] if "=" in first else dn

    # --- time --------------------------------------------------------------------------------
    def age_days(self, moment: datetime | None) -> float | None:
        """Days since ``moment`` (None when never set)."""
        if moment is None:
            return None
        return (self.now - moment).total_seconds() / 86400

    def last_activity(self, account: Account) -> datetime | None:
        """Last logon, or creation for an account that never logged on."""
        return account.last_logon or account.when_created

    # --- membership --------------------------------------------------------------------------
    @cached_property
    def _members(self) -> dict[str, set[str]]:
        """Group DN (lower case) → direct member DNs, merged from the three sources."""
        members: dict[str, set[str]] = {}
        for group in self.snapshot.groups:
            members.setdefault(group.dn.lower(), set()).update(m.lower() for m in group.members)
        primary_groups: dict[int, str] = {}
        for group in self.snapshot.groups:
            rid = rid_of(group.sid)
            if rid is not None and self._in_domain(group.sid):
                primary_groups[rid] = group.dn.lower()
        for account in self.accounts:
            key = self.key(account)
            for parent in account.member_of:
                members.setdefault(parent.lower(), set()).add(key)
            primary = primary_groups.get(account.primary_group_id)
            if primary:
                members.setdefault(primary, set()).add(key)
        return members

    @cached_property
    def _keys(self) -> dict[int, str]:
        return {id(item): item.dn.lower() for item in self.objects}

    def key(self, item: Account | Group) -> str:
        """The lower-case DN, computed once per object."""
        found = self._keys.get(id(item))
        return found if found is not None else item.dn.lower()

    def nested_members(self, group: Group) -> set[str]:
        """DNs (lower case) of every account and group reached through nesting."""
        key = group.dn.lower()
        if key not in self._closures:
            seen: set[str] = set()
            queue = deque([key])
            visited_groups = {key}
            while queue:
                current = queue.popleft()
                for member in self._members.get(current, ()):
                    if member in seen:
                        continue
                    seen.add(member)
                    if member in self._members and member not in visited_groups:
                        visited_groups.add(member)
                        queue.append(member)
            self._closures[key] = seen
        return self._closures[key]

    def nested_accounts(self, group: Group | None) -> list[Account]:
        if group is None:
            return []
        found = []
        for dn in self.nested_members(group):
            item = self.by_dn.get(dn)
            if isinstance(item, Account):
                found.append(item)
        return sorted(found, key=lambda a: a.sam.lower())

    @cached_property
    def privileged_groups(self) -> list[Group]:
        groups = [g for sid in PRIVILEGED_BUILTIN_SIDS if (g := self.group_by_sid(sid))]
        groups += [
            g for g in self.snapshot.groups if rid_of(g.sid) in PRIVILEGED_RIDS and g not in groups
        ]
        return groups

    @cached_property
    def privilege_sources(self) -> dict[str, list[str]]:
        """Account DN (lower case) → names of the privileged groups that make it privileged."""
        sources: dict[str, list[str]] = {}
        for group in self.privileged_groups:
            for account in self.nested_accounts(group):
                sources.setdefault(self.key(account), []).append(group.sam)
        for account in self.accounts:
            if rid_of(account.sid) == RID_ADMINISTRATOR:
                sources.setdefault(self.key(account), []).append("Administrator")
        return sources

    def is_privileged(self, account: Account) -> bool:
        return self.key(account) in self.privilege_sources

    @cached_property
    def privileged_users(self) -> list[Account]:
        """Enabled privileged accounts that are not domain controllers, by name."""
        return [
            a
            for a in self.accounts
            if self.is_privileged(a) and is_enabled(a) and not is_domain_controller(a)
        ]

    @cached_property
    def protected_users(self) -> set[str] | None:
        """DNs in Protected Users (nested), None when the domain has no such group."""
        group = self.group_by_rid(RID_PROTECTED_USERS)
        if group is None:
            return None
        return self.nested_members(group)

    @cached_property
    def domain_controllers(self) -> list[Account]:
        return [c for c in self.snapshot.computers if is_domain_controller(c)]

    @cached_property
    def dc_dns_names(self) -> set[str]:
        """Lower-case host names of the DCs (short and, where guessable, fully qualified)."""
        names: set[str] = set()
        domain = self.snapshot.domain.dns_name.lower()
        for dc in self.domain_controllers:
            short = dc.sam.rstrip("$").lower()
            names.add(short)
            if domain:
                names.add(f"{short}.{domain}")
        return names

    def enabled_users(self) -> list[Account]:
        return [u for u in self.snapshot.users if is_enabled(u)]

    def enabled_computers(self) -> list[Account]:
        return [c for c in self.snapshot.computers if is_enabled(c)]
