"""Seed a freshly provisioned Samba AD DC with one weakness per rule (and clean controls).

Run by the SYSTEM Python (``/usr/bin/python3``, which has Samba's bindings) on the stopped
server's ``sam.ldb`` with the system session: it writes what LDAP refuses (sIDHistory, some
userAccountControl bits, lastLogonTimestamp, a crafted trust) and is ~10× faster than one
``samba-tool`` process per object. Usage: ``python3 samba_seed.py TARGETDIR PASSWORD``; prints
one JSON document: {"weak": {rule: sam}, "control": {rule: sam}, ...}.
"""

import base64
import json
import struct
import sys
import time

from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.sd_utils import SDUtils

TARGET, PASSWORD = sys.argv[1], sys.argv[2]
BULK = int(sys.argv[3]) if len(sys.argv) > 3 else 0  # benchmark size multiplier (0: none)

lp = LoadParm()
lp.load(f"{TARGET}/etc/smb.conf")
db = SamDB(url=f"{TARGET}/private/sam.ldb", session_info=system_session(), lp=lp)
BASE = str(db.domain_dn())
CONFIG = str(db.get_config_basedn())
DOMAIN_SID = str(db.get_domain_sid())
DNS_DOMAIN = db.domain_dns_name()
NOW_FT = int((time.time() + 11644473600) * 10_000_000)
YEAR_FT = 365 * 24 * 3600 * 10_000_000
USERS_DN = f"CN=Users,{BASE}"

weak: dict[str, str] = {}
control: dict[str, str] = {}


def modify(dn: str, *changes: str) -> None:
    db.modify_ldif(f"dn: {dn}\nchangetype: modify\n" + "\n-\n".join(changes) + "\n")


def user(sam: str, uac: int = 0x200, **extra: str) -> str:
    db.newuser(sam, PASSWORD, description=f"seed {sam}")
    dn = f"CN={sam},{USERS_DN}"
    if uac != 0x200:
        modify(dn, f"replace: userAccountControl\nuserAccountControl: {uac}")
    for attribute, value in extra.items():
        modify(dn, f"replace: {attribute}\n{attribute}: {value}")
    return dn


def computer(sam: str, uac: int = 0x1000, **extra: str) -> str:
    dn = f"CN={sam},CN=Computers,{BASE}"
    ldif = (
        f"dn: {dn}\nobjectClass: computer\nsAMAccountName: {sam}$\n"
        f"userAccountControl: {uac}\n" + "".join(f"{k}: {v}\n" for k, v in extra.items())
    )
    db.add_ldif(ldif)
    return dn


def members(group: str, *sams: str) -> None:
    db.add_remove_group_members(group, list(sams), add_members_operation=True)


def add_sid_member(group_dn: str, sid: str) -> None:
    # Samba creates the foreign security principal itself for a <SID=...> member.
    modify(group_dn, f"add: member\nmember: <SID={sid}>")


def object_sid(dn: str) -> str:
    value = db.search(dn, attrs=["objectSid"], scope=0)[0]["objectSid"][0]
    return str(ndr_unpack(security.dom_sid, value))


def reader_dn() -> str:
    return f"CN=carbet-reader,{USERS_DN}"


# The non-admin account the collector runs as.
user("carbet-reader")

# --- privileged accounts (Domain Admins, one weakness each; adm_clean is the control) ---
user("adm_spn", servicePrincipalName=f"MSSQLSvc/sql-adm.{DNS_DOMAIN}:1433")
user("adm_noexpire", uac=0x200 | 0x10000)
user("adm_nopreauth", uac=0x200 | 0x400000)
user("adm_clean")
members("Domain Admins", "adm_spn", "adm_noexpire", "adm_nopreauth", "adm_clean")
members("Protected Users", "adm_clean")
weak |= {
    "vuln1_spn_priv": "adm_spn",
    "vuln1_dont_expire_priv": "adm_noexpire",
    "vuln1_kerberos_properties_preauth_priv": "adm_nopreauth",
    "vuln3_protected_users": "adm_spn",
}
control |= {
    "vuln1_spn_priv": "adm_clean",
    "vuln1_dont_expire_priv": "adm_clean",
    "vuln1_kerberos_properties_preauth_priv": "adm_clean",
    "vuln3_protected_users": "adm_clean",
}
# An administrator who must present a smart card (SMARTCARD_REQUIRED): the control of
# "administrators who sign in with a password alone"; adm_noexpire is one of those.
user("adm_smartcard", uac=0x200 | 0x40000)
members("Domain Admins", "adm_smartcard")
weak["privileged_password_only"] = "adm_noexpire"
control["privileged_password_only"] = "adm_smartcard"
# Privileged through nesting only: adm_nested ∈ gg-it-admins ∈ Administrators.
db.newgroup("gg-it-admins")
user("adm_nested")
members("gg-it-admins", "adm_nested")
members("Administrators", "gg-it-admins")
weak["nested_admin"] = "adm_nested"
# An unexpected member of an operators group.
user("op_account")
members("Account Operators", "op_account")
weak["operators_not_empty"] = "op_account"
# Too many administrators (> 50): a help-desk group nested in Domain Admins. No passwords
# (PASSWD_NOTREQD) keeps the seeding fast.
db.newgroup("gg-helpdesk-admins")
for index in range(48):
    db.add_ldif(
        f"dn: CN=adm_bulk_{index:02d},{USERS_DN}\nobjectClass: user\n"
        f"sAMAccountName: adm_bulk_{index:02d}\nuserAccountControl: {0x200 | 0x20}\n"
        # Dormant (no logon for two years): a quarter or more of the accounts are.
        f"lastLogonTimestamp: {NOW_FT - 2 * YEAR_FT}\n"
    )
    members("gg-helpdesk-admins", f"adm_bulk_{index:02d}")
members("Domain Admins", "gg-helpdesk-admins")
weak["vuln1_privileged_members"] = "adm_bulk_00"

# --- ordinary users: one weakness each, user_clean as the control ---
user("user_clean", lastLogonTimestamp=str(NOW_FT))
user("user_noexpire", uac=0x200 | 0x10000)
user("user_nopreauth", uac=0x200 | 0x400000)
user("user_des", uac=0x200 | 0x200000)
user("user_reversible", uac=0x200 | 0x80)
user("user_notreqd", uac=0x200 | 0x20)
user("user_spn", servicePrincipalName=f"HTTP/intranet.{DNS_DOMAIN}")
user("user_weakenc", **{"msDS-SupportedEncryptionTypes": "3"})
user("user_dormant", lastLogonTimestamp=str(NOW_FT - 2 * YEAR_FT))
user("user_pgid")
members("Domain Guests", "user_pgid")
modify(f"CN=user_pgid,{USERS_DN}", "replace: primaryGroupID\nprimaryGroupID: 514")
user("user_sidhist")
modify(f"CN=user_sidhist,{USERS_DN}", "add: sIDHistory\nsIDHistory: S-1-5-21-1-2-3-1105")
user("user_sidhist_admin")
modify(f"CN=user_sidhist_admin,{USERS_DN}", "add: sIDHistory\nsIDHistory: S-1-5-21-1-2-3-512")
user("dns_admin_member")
members("DnsAdmins", "dns_admin_member")
weak |= {
    "vuln2_dont_expire": "user_noexpire",
    "vuln2_kerberos_properties_preauth": "user_nopreauth",
    "vuln2_kerberos_properties_deskey": "user_des",
    "vuln3_reversible_password": "user_reversible",
    "password_not_required": "user_notreqd",
    "kerberoastable_users": "user_spn",
    "vuln3_kerberos_properties_encryption": "user_weakenc",
    "vuln1_user_accounts_dormant": "user_dormant",  # with the 48 dormant adm_bulk_* (> 25 %)
    "stale_users_inactive": "user_dormant",
    "vuln3_primary_group_id_nochange": "user_pgid",
    "vuln3_sidhistory_present": "user_sidhist",
    "vuln2_sidhistory_dangerous": "user_sidhist_admin",
    "vuln4_dnsadmins": "dns_admin_member",
}
for rule in list(weak):
    control.setdefault(rule, "user_clean")

# Guest enabled (Samba provisions it disabled).
modify(f"CN=Guest,{USERS_DN}", "replace: userAccountControl\nuserAccountControl: 512")
weak["guest_enabled"] = "Guest"

# --- computers (LDAP-created so they are enabled; samba-tool makes disabled ones) ---
computer("pc-clean", operatingSystem="Windows 11 Enterprise", operatingSystemVersion="10.0 (22631)")
computer("pc-xp", operatingSystem="Windows XP Professional", operatingSystemVersion="5.1 (2600)")
computer("srv-unconstrained", uac=0x1000 | 0x80000, operatingSystem="Windows Server 2019 Standard")
computer(
    "srv-t4d",
    uac=0x1000 | 0x1000000,
    operatingSystem="Windows Server 2019 Standard",
    **{"msDS-AllowedToDelegateTo": f"cifs/files.{DNS_DOMAIN}"},
)
computer(
    "srv-t2a4d",
    uac=0x1000 | 0x1000000,
    operatingSystem="Windows Server 2019 Standard",
    **{"msDS-AllowedToDelegateTo": f"ldap/dc1.{DNS_DOMAIN}"},
)
weak |= {
    "obsolete_os_legacy": "pc-xp$",
    "vuln2_delegation_t4d": "srv-unconstrained$",  # t4d: unconstrained, as PingCastle has it
    "protocol_transition_delegation": "srv-t4d$",
    "vuln1_delegation_t2a4d": "srv-t2a4d$",
}
for rule in (
    "obsolete_os_legacy",
    "unconstrained_delegation",
    "vuln2_delegation_t4d",
    "vuln1_delegation_t2a4d",
):
    control[rule] = "pc-clean$"

# --- domain-wide settings ---
# Weak policy: 6 characters, no lockout, no complexity.
modify(
    BASE,
    "replace: minPwdLength\nminPwdLength: 6",
    "replace: pwdProperties\npwdProperties: 0",
    "replace: lockoutThreshold\nlockoutThreshold: 0",
)
# Anonymous LDAP operations allowed (7th character of dSHeuristics = 2).
modify(
    f"CN=Directory Service,CN=Windows NT,CN=Services,{CONFIG}",
    "replace: dSHeuristics\ndSHeuristics: 0000002",
)
# Anonymous and Everyone in "Pre-Windows 2000 Compatible Access".
pre2000 = f"CN=Pre-Windows 2000 Compatible Access,CN=Builtin,{BASE}"
add_sid_member(pre2000, "S-1-5-7")
add_sid_member(pre2000, "S-1-1-0")

# A fine-grained password policy (PSO) applied to a group, weaker than the domain's.
db.newgroup("gg-pso-weak")
members("gg-pso-weak", "user_clean")
db.add_ldif(
    f"dn: CN=pso-weak,CN=Password Settings Container,CN=System,{BASE}\n"
    "objectClass: msDS-PasswordSettings\n"
    "msDS-PasswordSettingsPrecedence: 10\nmsDS-PasswordReversibleEncryptionEnabled: FALSE\n"
    "msDS-PasswordHistoryLength: 0\nmsDS-PasswordComplexityEnabled: FALSE\n"
    "msDS-MinimumPasswordLength: 4\nmsDS-MinimumPasswordAge: 0\n"
    "msDS-MaximumPasswordAge: -9223372036854775808\nmsDS-LockoutThreshold: 0\n"
    "msDS-LockoutObservationWindow: -18000000000\nmsDS-LockoutDuration: -18000000000\n"
    f"msDS-PSOAppliesTo: CN=gg-pso-weak,{USERS_DN}\n"
)

# DCSync rights for an ordinary user on the domain head; an AdminSDHolder ACE for another.
user("user_dcsync")
user("user_sdholder")
sd = SDUtils(db)
dcsync_sid = object_sid(f"CN=user_dcsync,{USERS_DN}")
holder_sid = object_sid(f"CN=user_sdholder,{USERS_DN}")
for right in ("1131f6aa-9c07-11d1-f79f-00c04fc2dcd2", "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"):
    sd.dacl_add_ace(BASE, f"(OA;;CR;{right};;{dcsync_sid})")
sd.dacl_add_ace(f"CN=AdminSDHolder,CN=System,{BASE}", f"(A;;GA;;;{holder_sid})")
weak |= {
    "vuln1_permissions_naming_context": "user_dcsync",
    "vuln1_permissions_adminsdholder": "user_sdholder",
}

# A trust without SID filtering (crafted: Samba cannot reach a second domain here).
db.add_ldif(
    f"dn: CN=partner.example,CN=System,{BASE}\nobjectClass: trustedDomain\n"
    "trustPartner: partner.example\nflatName: PARTNER\ntrustDirection: 3\ntrustType: 2\n"
    "trustAttributes: 0\nsecurityIdentifier: S-1-5-21-1-2-3\n",
    controls=["relax:0"],
)
weak["vuln1_trusts_domain_notfiltered"] = "partner.example"

# A DNS zone that accepts non-secure dynamic updates (dNSProperty ALLOW_UPDATE = 1).
zone_prop = struct.pack("<IIIII", 1, 0, 0, 1, 2) + b"\x01" + b"\x00"
db.add_ldif(
    f"dn: DC=insecure.{DNS_DOMAIN},CN=MicrosoftDNS,DC=DomainDnsZones,{BASE}\n"
    "objectClass: dnsZone\n"
    "dNSProperty:: " + base64.b64encode(zone_prop).decode() + "\n"
)
weak["vuln1_dnszone_bad_prop"] = f"insecure.{DNS_DOMAIN}"
control["vuln1_dnszone_bad_prop"] = DNS_DOMAIN

# Benchmark bulk: BULK×(10 users, 2 computers, 1 group) with nested groups.
if BULK:
    for start in range(0, BULK, 500):
        chunk = []
        for i in range(start, min(start + 500, BULK)):
            for u in range(10):
                chunk.append(
                    f"dn: CN=bench-u{i}-{u},{USERS_DN}\nobjectClass: user\n"
                    f"sAMAccountName: bench-u{i}-{u}\nuserAccountControl: 512\n"
                    f"description: benchmark user\nlastLogonTimestamp: {NOW_FT}\n"
                )
            for c in range(2):
                chunk.append(
                    f"dn: CN=bench-c{i}-{c},CN=Computers,{BASE}\nobjectClass: computer\n"
                    f"sAMAccountName: bench-c{i}-{c}$\nuserAccountControl: 4096\n"
                    "operatingSystem: Windows 10 Enterprise\n"
                )
            # A 4-ary tree of nested groups (bench-g0 at the root, depth ~5): children are
            # added after their parent exists, as members of it.
            group_members = [f"CN=bench-u{i}-{u},{USERS_DN}" for u in range(10)]
            chunk.append(
                f"dn: CN=bench-g{i},{USERS_DN}\nobjectClass: group\nsAMAccountName: bench-g{i}\n"
                + "".join(f"member: {m}\n" for m in group_members)
            )
            if i:
                chunk.append(
                    f"dn: CN=bench-g{(i - 1) // 4},{USERS_DN}\nchangetype: modify\n"
                    f"add: member\nmember: CN=bench-g{i},{USERS_DN}\n"
                )
        db.transaction_start()
        try:
            for entry in chunk:
                if "changetype: modify" in entry:
                    db.modify_ldif(entry)
                else:
                    db.add_ldif(entry)
        except BaseException:
            db.transaction_cancel()
            raise
        db.transaction_commit()

print(
    json.dumps(
        {
            "weak": weak,
            "control": control,
            "base_dn": BASE,
            "domain_sid": DOMAIN_SID,
            "dns_domain": DNS_DOMAIN,
            "reader_dn": reader_dn(),
        }
    )
)
