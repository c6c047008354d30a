"""Crafted snapshots for the rule tests.

``clean_snapshot()`` is a small, well-kept domain on which **no rule fires and every rule is
evaluated**: two 2022 domain controllers, a protected administrator, a user, a workstation with
LAPS, a server, a filtered trust, secure DNS, a harmless certificate template. Each rule test
starts from it and changes one thing, so a rule firing can only come from that change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carbet.engines.directory.model import (
    UAC_ACCOUNTDISABLE,
    UAC_NOT_DELEGATED,
    UAC_SERVER_TRUST_ACCOUNT,
    UAC_SMARTCARD_REQUIRED,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_WORKSTATION_TRUST_ACCOUNT,
    Account,
    Ace,
    CertTemplate,
    Descriptor,
    DnsZone,
    Domain,
    Group,
    PasswordPolicy,
    Snapshot,
    Trust,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DOMAIN = "ch-test.local"
BASE = "DC=ch-test,DC=local"
DOMAIN_SID = "S-1-5-21-1000-2000-3000"
UAC_NORMAL = 0x200
UAC_TRUST_ACCOUNT = 0x800
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"
CONTROL_ACCESS = 0x100
GENERIC_ALL = 0x10000000

_next_rid = [1200]


def days_ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def sid(rid: int) -> str:
    return f"{DOMAIN_SID}-{rid}"


def new_rid() -> int:
    _next_rid[0] += 1
    return _next_rid[0]


def user(sam: str, rid: int | None = None, **fields) -> Account:
    values = {
        "uac": UAC_NORMAL,
        "pwd_last_set": days_ago(30),
        "last_logon": days_ago(3),
        "when_created": days_ago(400),
    }
    values.update(fields)
    return Account(dn=f"CN={sam},CN=Users,{BASE}", sam=sam, sid=sid(rid or new_rid()), **values)


def computer(name: str, rid: int | None = None, **fields) -> Account:
    values = {
        "uac": UAC_WORKSTATION_TRUST_ACCOUNT,
        "primary_group_id": 515,
        "pwd_last_set": days_ago(10),
        "last_logon": days_ago(2),
        "when_created": days_ago(300),
        "os_name": "Windows 11 Professionnel",
        "os_version": "10.0 (22631)",
        "laps_expiry": NOW + timedelta(days=20),
        "is_computer": True,
    }
    values.update(fields)
    return Account(
        dn=f"CN={name},OU=Postes,{BASE}", sam=f"{name}$", sid=sid(rid or new_rid()), **values
    )


def domain_controller(name: str, rid: int | None = None, **fields) -> Account:
    values = {
        "uac": UAC_SERVER_TRUST_ACCOUNT | UAC_TRUSTED_FOR_DELEGATION,
        "primary_group_id": 516,
        "os_name": "Windows Server 2022 Standard",
        "os_version": "10.0 (20348)",
        "laps_expiry": None,
        "is_dc": True,
    }
    values.update(fields)
    account = computer(name, rid, **values)
    account.dn = f"CN={name},OU=Domain Controllers,{BASE}"
    return account


def group(sam: str, group_sid: str, members: list[str] | None = None) -> Group:
    container = "Builtin" if group_sid.startswith("S-1-5-32-") else "Users"
    return Group(
        dn=f"CN={sam},CN={container},{BASE}", sam=sam, sid=group_sid, members=members or []
    )


def clean_snapshot(now: datetime = NOW) -> Snapshot:
    administrator = user(
        "Administrator", 500, uac=UAC_NORMAL | UAC_NOT_DELEGATED, admin_count=1,
        last_logon=days_ago(100),
    )  # fmt: skip
    admin = user(
        "adm-alice", 1105, uac=UAC_NORMAL | UAC_NOT_DELEGATED | UAC_SMARTCARD_REQUIRED,
        admin_count=1,
        last_logon=days_ago(1),
    )  # fmt: skip
    krbtgt = user(
        "krbtgt", 502, uac=UAC_NORMAL | UAC_ACCOUNTDISABLE, spns=["kadmin/changepw"],
        pwd_last_set=days_ago(100), last_logon=None,
    )  # fmt: skip
    guest = user(
        "Guest", 501, uac=UAC_NORMAL | UAC_ACCOUNTDISABLE, primary_group_id=514,
        last_logon=None, pwd_last_set=None,
    )  # fmt: skip
    alice = user("alice", 1106)
    trust_account = user("PARTNER$", 1107, uac=UAC_TRUST_ACCOUNT, last_logon=None)
    dc1 = domain_controller("DC01", 1000)
    dc2 = domain_controller("DC02", 1001)
    pc = computer("PC01", 1108)
    server = computer(
        "SRV01", 1109, os_name="Windows Server 2019 Standard", os_version="10.0 (17763)"
    )
    domain_admins = group("Domain Admins", sid(512), [administrator.dn, admin.dn])
    groups = [
        group("Administrators", "S-1-5-32-544", [administrator.dn, domain_admins.dn]),
        group("Account Operators", "S-1-5-32-548"),
        group("Server Operators", "S-1-5-32-549"),
        group("Print Operators", "S-1-5-32-550"),
        group("Backup Operators", "S-1-5-32-551"),
        domain_admins,
        group("Schema Admins", sid(518), [administrator.dn]),
        group("Enterprise Admins", sid(519), [administrator.dn]),
        group("Protected Users", sid(525), [administrator.dn, admin.dn]),
        group("Domain Users", sid(513)),
        group("Domain Computers", sid(515)),
        group("Domain Controllers", sid(516)),
        group("DnsAdmins", sid(1101)),
        group("Soignants", sid(1102), [alice.dn]),
    ]
    domain_descriptor = Descriptor(
        owner=sid(512),
        dacl=[
            Ace(sid(516), "allow_object", CONTROL_ACCESS, GET_CHANGES_ALL),
            Ace(sid(516), "allow_object", CONTROL_ACCESS, GET_CHANGES),
            Ace("S-1-5-9", "allow_object", CONTROL_ACCESS, GET_CHANGES_ALL),
            Ace("S-1-5-9", "allow_object", CONTROL_ACCESS, GET_CHANGES),
            Ace("S-1-5-32-544", "allow_object", CONTROL_ACCESS, GET_CHANGES_ALL),
            Ace("S-1-5-32-544", "allow_object", CONTROL_ACCESS, GET_CHANGES),
            Ace(sid(512), "allow", GENERIC_ALL),
            Ace(sid(519), "allow", GENERIC_ALL, inherited=True),
            Ace("S-1-5-11", "allow", 0x20014),  # read
        ],
    )
    adminsdholder = Descriptor(
        owner=sid(512),
        dacl=[
            Ace("S-1-5-18", "allow", GENERIC_ALL),
            Ace(sid(512), "allow", 0x000F01BD),
            Ace(sid(519), "allow", 0x000F01BD),
            Ace("S-1-5-32-544", "allow", 0x000F01BD),
            Ace("S-1-1-0", "allow_object", CONTROL_ACCESS, CHANGE_PASSWORD),
            Ace("S-1-5-10", "allow_object", CONTROL_ACCESS, CHANGE_PASSWORD),
            Ace("S-1-5-11", "allow", 0x20094),
            Ace(sid(517), "allow_object", 0x20, "bf967a7f-0de6-11d0-a285-00aa003049e2"),
        ],
    )
    return Snapshot(
        domain=Domain(
            dns_name=DOMAIN,
            netbios="CHTEST",
            sid=DOMAIN_SID,
            dn=BASE,
            domain_functional_level=7,
            forest_functional_level=7,
            machine_account_quota=0,
            ds_heuristics="",
            password_policy=PasswordPolicy(
                min_length=12,
                history=24,
                max_age_days=None,
                complexity=True,
                lockout_threshold=10,
                lockout_duration_minutes=15,
                lockout_window_minutes=15,
            ),
            krbtgt_pwd_last_set=days_ago(100),
            laps_schema=True,
            adcs_present=True,
            recycle_bin=True,
            pre2000_members=[],
        ),
        collected_at=now,
        collector="crafted (tests)",
        users=[administrator, admin, krbtgt, guest, alice, trust_account],
        computers=[dc1, dc2, pc, server],
        groups=groups,
        trusts=[
            Trust(
                name="partenaire.local",
                direction=3,
                trust_type=2,
                attributes=0x4 | 0x10,
                sid="S-1-5-21-9-9-9",
                when_changed=days_ago(5),
            )
        ],
        psos=[
            PasswordPolicy(
                name="pso-admins",
                min_length=16,
                complexity=True,
                lockout_threshold=5,
                applies_to=[domain_admins.dn],
                precedence=1,
            )
        ],
        domain_descriptor=domain_descriptor,
        adminsdholder_descriptor=adminsdholder,
        dns_zones=[DnsZone(name=DOMAIN, dynamic_update="secure")],
        cert_templates=[
            CertTemplate(name="User", client_auth=True, enroll_sids=[sid(513)]),
            CertTemplate(name="WebServer", enrollee_supplies_subject=True, enroll_sids=[sid(513)]),
        ],
    )


def account(snapshot: Snapshot, sam: str) -> Account:
    for item in [*snapshot.users, *snapshot.computers]:
        if item.sam.lower() == sam.lower():
            return item
    raise KeyError(sam)


def group_named(snapshot: Snapshot, sam: str) -> Group:
    for item in snapshot.groups:
        if item.sam.lower() == sam.lower():
            return item
    raise KeyError(sam)


def add_member(snapshot: Snapshot, group_sam: str, member_dn: str) -> None:
    group_named(snapshot, group_sam).members.append(member_dn)


def add_user(snapshot: Snapshot, sam: str, **fields) -> Account:
    item = user(sam, **fields)
    snapshot.users.append(item)
    return item


def add_admin(snapshot: Snapshot, sam: str, **fields) -> Account:
    """A privileged user that passes every privileged rule unless ``fields`` say otherwise."""
    values = {"uac": UAC_NORMAL | UAC_NOT_DELEGATED | UAC_SMARTCARD_REQUIRED, "admin_count": 1}
    values.update(fields)
    item = add_user(snapshot, sam, **values)
    add_member(snapshot, "Domain Admins", item.dn)
    add_member(snapshot, "Protected Users", item.dn)
    return item


def add_computer(snapshot: Snapshot, name: str, **fields) -> Account:
    item = computer(name, **fields)
    snapshot.computers.append(item)
    return item
