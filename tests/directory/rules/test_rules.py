"""Every rule fires on a crafted snapshot, naming the affected object, and stays silent on the
clean one.

These are crafted snapshots, not Samba: they reach the rules Samba cannot express (LAPS, AD CS
templates, adminCount, backdated pwdLastSet/whenCreated, operating system names, trusts,
security descriptors...) and make each case one change away from a clean domain. dir-collect's
Samba end-to-end tests cover the rules Samba can express, with the same rule ids.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from carbet.engines.directory.analysis import analyse
from carbet.engines.directory.model import (
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
    UAC_PASSWD_NOTREQD,
    UAC_SERVER_TRUST_ACCOUNT,
    UAC_SMARTCARD_REQUIRED,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    UAC_USE_DES_KEY_ONLY,
    Ace,
    CertTemplate,
    Snapshot,
)
from carbet.engines.directory.rules import all_rules
from tests.directory.rules.builders import (
    CONTROL_ACCESS,
    DOMAIN,
    GENERIC_ALL,
    GET_CHANGES,
    GET_CHANGES_ALL,
    NOW,
    UAC_NORMAL,
    account,
    add_admin,
    add_member,
    add_user,
    clean_snapshot,
    days_ago,
    group_named,
    sid,
)

Mutation = Callable[[Snapshot], None]


def _set(sam: str, **fields) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        for key, value in fields.items():
            setattr(account(snapshot, sam), key, value)

    return mutate


def _flag(sam: str, bit: int) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        account(snapshot, sam).uac |= bit

    return mutate


def _domain(**fields) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        for key, value in fields.items():
            setattr(snapshot.domain, key, value)

    return mutate


def _policy(**fields) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        for key, value in fields.items():
            setattr(snapshot.domain.password_policy, key, value)

    return mutate


def _pso(**fields) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        for key, value in fields.items():
            setattr(snapshot.psos[0], key, value)

    return mutate


def _trust(**fields) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        for key, value in fields.items():
            setattr(snapshot.trusts[0], key, value)

    return mutate


def _member(group: str, sam: str) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        add_member(snapshot, group, account(snapshot, sam).dn)

    return mutate


def _leave_protected_users(snapshot: Snapshot) -> None:
    members = group_named(snapshot, "Protected Users").members
    members.remove(account(snapshot, "adm-alice").dn)


def _delegable_admin(snapshot: Snapshot) -> None:
    _leave_protected_users(snapshot)
    account(snapshot, "adm-alice").uac = UAC_NORMAL


def _operator(snapshot: Snapshot) -> None:
    bob = add_user(snapshot, "bob")
    add_member(snapshot, "Backup Operators", bob.dn)


def _many_admins(snapshot: Snapshot) -> None:
    for number in range(1, 11):
        add_admin(snapshot, f"adm{number:02}")


def _a_third_dormant(snapshot: Snapshot) -> None:
    for number in range(12):
        add_user(snapshot, f"agent{number:02}")
    for number in range(8):  # 8 of 24 people: a third
        add_user(snapshot, f"gone{number:02}", last_logon=days_ago(300))


def _fifty_one_admins(snapshot: Snapshot) -> None:
    for number in range(1, 50):  # 2 admins in the clean domain
        add_admin(snapshot, f"adm{number:02}")


def _delegate(uac: int, target: str) -> Mutation:
    def mutate(snapshot: Snapshot) -> None:
        server = account(snapshot, "SRV01$")
        server.uac |= uac
        server.allowed_to_delegate_to = [target]

    return mutate


def _dcsync(snapshot: Snapshot) -> None:
    alice = account(snapshot, "alice").sid
    snapshot.domain_descriptor.dacl += [
        Ace(alice, "allow_object", CONTROL_ACCESS, GET_CHANGES),
        Ace(alice, "allow_object", CONTROL_ACCESS, GET_CHANGES_ALL),
    ]


def _adminsdholder(snapshot: Snapshot) -> None:
    alice = account(snapshot, "alice").sid
    snapshot.adminsdholder_descriptor.dacl.append(Ace(alice, "allow", GENERIC_ALL))


def _owner(snapshot: Snapshot) -> None:
    snapshot.domain_descriptor.owner = account(snapshot, "alice").sid


def _gpp(snapshot: Snapshot) -> None:
    snapshot.gpp_passwords = [
        {"gpo": "Postes", "path": r"Machine\Preferences\Groups\Groups.xml", "user": "adm-local"}
    ]


def _zone(snapshot: Snapshot) -> None:
    snapshot.dns_zones[0].dynamic_update = "nonsecure_and_secure"


def _esc1(snapshot: Snapshot) -> None:
    snapshot.cert_templates.append(
        CertTemplate(
            name="VPN-Utilisateurs", enrollee_supplies_subject=True, client_auth=True,
            enroll_sids=[sid(513)],
        )
    )  # fmt: skip


def _single_dc(snapshot: Snapshot) -> None:
    snapshot.computers = [c for c in snapshot.computers if c.sam != "DC02$"]


# rule id → (change to the clean snapshot, one affected object the finding must name)
CASES: dict[str, tuple[Mutation, str]] = {
    # stale objects
    "vuln1_user_accounts_dormant": (_a_third_dormant, "gone07"),
    "stale_users_inactive": (_set("alice", last_logon=days_ago(200)), "alice"),
    "stale_computers_inactive": (_set("PC01$", last_logon=days_ago(200)), "PC01$"),
    "vuln2_dont_expire": (_flag("alice", UAC_DONT_EXPIRE_PASSWORD), "alice"),
    "password_not_required": (_flag("alice", UAC_PASSWD_NOTREQD), "alice"),
    "vuln3_reversible_password": (_flag("alice", UAC_ENCRYPTED_TEXT_PWD_ALLOWED), "alice"),
    "vuln2_kerberos_properties_deskey": (_flag("alice", UAC_USE_DES_KEY_ONLY), "alice"),
    "vuln2_kerberos_properties_preauth": (_flag("alice", UAC_DONT_REQ_PREAUTH), "alice"),
    "vuln3_primary_group_id_nochange": (_set("alice", primary_group_id=1102), "alice"),
    "vuln3_sidhistory_present": (_set("alice", sid_history=["S-1-5-21-7-7-7-1500"]), "alice"),
    "obsolete_os_legacy": (_set("PC01$", os_name="Windows XP Professional"), "PC01$"),
    "obsolete_os_2008": (_set("PC01$", os_name="Windows 7 Professionnel"), "PC01$"),
    "obsolete_os_2012": (_set("SRV01$", os_name="Windows Server 2012 R2 Standard"), "SRV01$"),
    "obsolete_os_windows10": (_set("PC01$", os_name="Windows 10 Pro"), "PC01$"),
    "vuln1_warning_dc_obsolete": (_set("DC02$", os_name="Windows Server 2008 R2"), "DC02$"),
    "vuln1_functional_level": (
        _domain(domain_functional_level=2),
        "domaine : Windows Server 2003",
    ),
    "functional_level_outdated": (
        _domain(forest_functional_level=4),
        "forêt : Windows Server 2008 R2",
    ),
    "vuln1_password_change_dc_no_change": (_set("DC02$", pwd_last_set=days_ago(60)), "DC02$"),
    "vuln1_password_change_inactive_dc": (_set("DC02$", last_logon=days_ago(60)), "DC02$"),
    "vuln2_password_change_server_no_change_90": (
        _set("SRV01$", pwd_last_set=days_ago(120)),
        "SRV01$",
    ),
    "vuln3_password_change_server_no_change_45": (
        _set("SRV01$", pwd_last_set=days_ago(60)),
        "SRV01$",
    ),
    "vuln1_dc_inconsistent_uac": (_flag("PC01$", UAC_SERVER_TRUST_ACCOUNT), "PC01$"),
    "vuln4_smartcard_expire_passwords": (
        _set("alice", uac=UAC_NORMAL | UAC_SMARTCARD_REQUIRED, pwd_last_set=days_ago(400)),
        "alice",
    ),
    # privileged accounts
    "operators_not_empty": (_operator, "bob"),
    "vuln1_privileged_members": (_fifty_one_admins, "adm42"),
    "admin_count_excessive": (_many_admins, "adm07"),
    "vuln1_spn_priv": (_set("adm-alice", spns=["MSSQLSvc/sql.ch-test.local:1433"]), "adm-alice"),
    "vuln1_dont_expire_priv": (_flag("adm-alice", UAC_DONT_EXPIRE_PASSWORD), "adm-alice"),
    "vuln1_kerberos_properties_preauth_priv": (
        _flag("adm-alice", UAC_DONT_REQ_PREAUTH),
        "adm-alice",
    ),
    "vuln1_password_change_priv": (_set("adm-alice", pwd_last_set=days_ago(1200)), "adm-alice"),
    "vuln3_protected_users": (_leave_protected_users, "adm-alice"),
    # adm-alice loses "smart card required" (0x40000): she can sign in with a password alone.
    "privileged_password_only": (_set("adm-alice", uac=0x200 | 0x100000), "adm-alice"),
    "privileged_not_delegated": (_delegable_admin, "adm-alice"),
    "vuln4_dnsadmins": (_member("DnsAdmins", "alice"), "alice"),
    "vuln2_privileged_members_no_admincount": (_set("adm-alice", admin_count=0), "adm-alice"),
    "builtin_admin_recently_used": (
        _set("Administrator", last_logon=days_ago(2)),
        "Administrator",
    ),
    "privileged_dormant": (_set("adm-alice", last_logon=days_ago(200)), "adm-alice"),
    "privileged_computers": (_member("Domain Admins", "PC01$"), "PC01$"),
    "vuln2_delegation_t4d": (_flag("SRV01$", UAC_TRUSTED_FOR_DELEGATION), "SRV01$"),
    "vuln1_delegation_t2a4d": (
        _delegate(UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, "cifs/DC01.ch-test.local"),
        "SRV01$",
    ),
    "vuln1_delegation_a2d2": (_delegate(0, "ldap/dc02"), "SRV01$"),
    "vuln1_delegation_sourcedeleg": (_set("DC01$", rbcd=True), "DC01$"),
    "protocol_transition_delegation": (
        _delegate(UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, "http/intranet.ch-test.local"),
        "SRV01$",
    ),
    "vuln1_permissions_naming_context": (_dcsync, "alice"),
    "vuln1_permissions_adminsdholder": (_adminsdholder, "alice"),
    "vuln3_owner": (_owner, "racine du domaine : alice"),
    "vuln2_sidhistory_dangerous": (_set("alice", sid_history=[sid(512)]), "alice"),
    # trusts
    "vuln1_trusts_domain_notfiltered": (_trust(attributes=0x10), "partenaire.local"),
    "vuln1_trusts_forest_sidhistory": (_trust(attributes=0x8 | 0x10 | 0x40), "partenaire.local"),
    "vuln3_trusts_tgt_deleg": (_trust(attributes=0x8 | 0x10 | 0x800), "partenaire.local"),
    "vuln2_trusts_accounts": (_set("PARTNER$", pwd_last_set=days_ago(400)), "PARTNER$"),
    "trust_inactive": (_trust(when_changed=days_ago(90)), "partenaire.local"),
    "trust_downlevel": (_trust(trust_type=1), "partenaire.local"),
    "trust_without_selective_auth": (_trust(attributes=0x4), "partenaire.local"),
    # anomalies
    "vuln2_krbtgt": (_domain(krbtgt_pwd_last_set=days_ago(800)), "krbtgt"),
    "guest_enabled": (_set("Guest", uac=UAC_NORMAL), "Guest"),
    "weak_password_policy": (_policy(min_length=7), "politique par défaut"),
    "password_length_below_12": (_policy(min_length=10), "politique par défaut"),
    "no_lockout": (_policy(lockout_threshold=0), "politique par défaut"),
    "pso_weak": (_pso(min_length=6), "PSO : pso-admins"),
    "pso_unused": (_pso(applies_to=[]), "PSO : pso-admins"),
    "gpp_passwords": (_gpp, r"Postes : adm-local (Machine\Preferences\Groups\Groups.xml)"),
    "vuln4_user_accounts_machineaccountquota": (
        _domain(machine_account_quota=10),
        "ms-DS-MachineAccountQuota = 10",
    ),
    "vuln1_dsheuristics_bad": (
        _domain(ds_heuristics="0000002"),
        "fLDAPBlockAnonOps = 2 (lecture anonyme de l'annuaire)",
    ),
    "vuln2_compatible_2000_anonymous": (_domain(pre2000_members=["S-1-5-7"]), "Anonymous Logon"),
    "pre2000_authenticated_users": (
        _domain(pre2000_members=["CN=S-1-5-11,CN=ForeignSecurityPrincipals,DC=ch-test,DC=local"]),
        "Authenticated Users",
    ),
    "vuln1_dnszone_bad_prop": (_zone, DOMAIN),
    "vuln1_adcs_template_auth_enroll_with_name": (_esc1, "VPN-Utilisateurs"),
    "vuln3_kerberos_properties_encryption": (_set("SRV01$", supported_enc_types=0x4), "SRV01$"),
    "kerberoastable_users": (_set("alice", spns=["HTTP/intranet.ch-test.local"]), "alice"),
    "laps_not_installed": (_domain(laps_schema=False), DOMAIN),
    "laps_coverage": (_set("PC01$", laps_expiry=None), "PC01$"),
    "single_dc": (_single_dc, "DC01$"),
    "recycle_bin_disabled": (_domain(recycle_bin=False), DOMAIN),
    "password_in_description": (_set("alice", description="mdp: Soleil2026!"), "alice"),
}


def test_every_rule_has_a_case():
    assert set(CASES) == set(all_rules())


def test_registry_has_the_required_anssi_ids_and_enough_rules():
    required = (
        "vuln1_privileged_members vuln1_spn_priv vuln1_dont_expire_priv "
        "vuln1_kerberos_properties_preauth_priv vuln1_password_change_priv "
        "vuln1_user_accounts_dormant vuln1_delegation_t2a4d vuln1_trusts_domain_notfiltered "
        "vuln1_dsheuristics_bad vuln1_functional_level vuln2_krbtgt vuln2_dont_expire "
        "vuln2_kerberos_properties_preauth vuln2_kerberos_properties_deskey vuln2_delegation_t4d "
        "vuln2_sidhistory_dangerous vuln2_compatible_2000_anonymous vuln3_reversible_password "
        "vuln3_protected_users vuln3_primary_group_id_nochange vuln3_sidhistory_present "
        "vuln3_kerberos_properties_encryption vuln4_dnsadmins "
        "vuln4_user_accounts_machineaccountquota"
    ).split()
    rules = all_rules()
    assert len(rules) >= 50
    for rule_id in required:
        assert rules[rule_id].anssi == rule_id
        assert rules[rule_id].level == int(rule_id[4])
    for definition in rules.values():
        assert definition.title_fr and definition.title_en and definition.remediation_fr
        assert definition.description_fr
        if definition.anssi:
            assert definition.anssi == definition.id  # ANSSI id is the rule id


def test_the_clean_snapshot_is_clean_and_fully_evaluated():
    result = analyse(clean_snapshot(), now=NOW)
    assert [(f.rule, f.objects) for f in result.findings] == []
    assert result.not_evaluated == []
    assert result.anssi_level == 5
    assert result.scores == dict.fromkeys(
        ("global", "stale_objects", "privileged_accounts", "trusts", "anomalies"), 0
    )


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_and_names_the_object(rule_id: str):
    mutate, expected = CASES[rule_id]
    snapshot = clean_snapshot()
    mutate(snapshot)
    result = analyse(snapshot, now=NOW)
    findings = {f.rule: f for f in result.findings}
    assert rule_id in findings, [f.rule for f in result.findings]
    finding = findings[rule_id]
    assert expected in finding.objects
    assert finding.objects_total == len(finding.objects)
    assert finding.points > 0
    definition = all_rules()[rule_id]
    assert finding.category == definition.category
    assert finding.exploitable_now == definition.exploitable_now
    if definition.anssi:
        assert result.anssi_level <= definition.level


def test_exploitable_rules_are_severe_and_every_rule_has_a_command():
    for definition in all_rules().values():
        assert definition.command, definition.id
        if definition.exploitable_now:
            assert definition.severity >= 3, definition.id


@pytest.mark.parametrize(
    ("os_name", "family"),
    [
        ("Windows 2000 Server", "legacy"),
        ("Windows XP Professional", "legacy"),
        ("Windows Server 2003 R2", "legacy"),
        ("Windows Vista™ Business", "2008"),
        ("Windows 7 Professionnel", "2008"),
        ("Windows Server® 2008 Standard", "2008"),
        ("Windows Server 2008 R2 Enterprise", "2008"),
        ("Windows 8.1 Pro", "2012"),
        ("Windows Server 2012 R2 Datacenter", "2012"),
        ("Windows 10 Professionnel", "windows10"),
        ("Windows 10 Enterprise 2016 LTSB", "windows10"),
        ("Windows 10 Entreprise LTSC 2021", ""),
        ("Windows 11 Professionnel", ""),
        ("Windows Server 2016 Standard", ""),
        ("Windows Server 2025 Datacenter", ""),
        ("Samba 4.19", ""),
        ("", ""),
    ],
)
def test_operating_system_end_of_support(os_name, family):
    from carbet.engines.directory.rules.common import os_family_out_of_support

    assert os_family_out_of_support(os_name, NOW.replace(year=2027)) == family
