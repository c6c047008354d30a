"""Collection against the seeded Samba AD DC, as a NON-admin account: every seeded weakness is
in the snapshot with normalised values, and so is its clean control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbet.engines.directory import collector
from carbet.engines.directory.model import (
    UAC_ACCOUNTDISABLE,
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
    UAC_PASSWD_NOTREQD,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    UAC_USE_DES_KEY_ONLY,
    Snapshot,
)
from carbet.engines.netpolicy import ConnectPolicy

pytestmark = pytest.mark.realserver
# The lab tool's policy: these tests are about the collector, not the platform's scope.
OPEN = ConnectPolicy.open()

DCSYNC_RIGHTS = {"1131f6aa-9c07-11d1-f79f-00c04fc2dcd2", "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"}


def account(snap: Snapshot, sam: str):
    found = [a for a in [*snap.users, *snap.computers] if a.sam.lower() == sam.lower()]
    assert found, f"{sam} not collected"
    return found[0]


def group(snap: Snapshot, name: str):
    return next(g for g in snap.groups if g.sam == name)


def test_domain_head(collected, samba_dc):
    domain = collected.domain
    assert domain.dns_name == samba_dc.dns_domain
    assert domain.netbios == "CARBET"
    assert domain.sid == samba_dc.domain_sid
    assert domain.dn == samba_dc.base_dn
    assert domain.domain_functional_level == 4  # Samba: 2008 R2 at most
    assert domain.forest_functional_level == 4
    assert domain.machine_account_quota == 10
    assert domain.ds_heuristics == "0000002"
    policy = domain.password_policy
    assert (policy.min_length, policy.complexity, policy.lockout_threshold) == (6, False, 0)
    assert policy.max_age_days == pytest.approx(42)
    assert isinstance(domain.krbtgt_pwd_last_set, datetime)
    assert domain.krbtgt_pwd_last_set.tzinfo is not None
    assert domain.laps_schema is False and domain.adcs_present is False
    assert domain.recycle_bin is False
    # Anonymous and Everyone resolved to their SIDs (Samba stores well-known principal DNs).
    assert {"S-1-5-7", "S-1-1-0"} <= set(domain.pre2000_members)
    assert collected.collected_at.tzinfo is not None


def test_privileged_weaknesses_and_control(collected, samba_dc):
    weak, control = samba_dc.weak, samba_dc.control
    domain_admins = group(collected, "Domain Admins")
    members = {m.split(",")[0][3:].lower() for m in domain_admins.members}
    assert {"adm_spn", "adm_noexpire", "adm_nopreauth", "adm_clean"} <= members
    assert account(collected, weak["vuln1_spn_priv"]).spns == [
        f"MSSQLSvc/sql-adm.{samba_dc.dns_domain}:1433"
    ]
    assert account(collected, weak["vuln1_dont_expire_priv"]).uac & UAC_DONT_EXPIRE_PASSWORD
    assert account(collected, weak["vuln1_kerberos_properties_preauth_priv"]).uac & (
        UAC_DONT_REQ_PREAUTH
    )
    clean = account(collected, control["vuln1_spn_priv"])
    assert clean.spns == []
    assert not clean.uac & (UAC_DONT_EXPIRE_PASSWORD | UAC_DONT_REQ_PREAUTH)
    protected = group(collected, "Protected Users")
    assert [m.split(",")[0] for m in protected.members] == ["CN=adm_clean"]
    # Nesting is kept as member lists: adm_nested ∈ gg-it-admins ∈ Administrators.
    nested = group(collected, "gg-it-admins")
    assert any(m.startswith("CN=adm_nested,") for m in nested.members)
    assert nested.dn in group(collected, "Administrators").members
    assert any(
        m.startswith("CN=op_account,") for m in group(collected, "Account Operators").members
    )


@pytest.mark.parametrize(
    ("rule", "bit"),
    [
        ("vuln2_dont_expire", UAC_DONT_EXPIRE_PASSWORD),
        ("vuln2_kerberos_properties_preauth", UAC_DONT_REQ_PREAUTH),
        ("vuln2_kerberos_properties_deskey", UAC_USE_DES_KEY_ONLY),
        ("vuln3_reversible_password", UAC_ENCRYPTED_TEXT_PWD_ALLOWED),
        ("password_not_required", UAC_PASSWD_NOTREQD),
    ],
)
def test_user_account_control_weaknesses(collected, samba_dc, rule, bit):
    assert account(collected, samba_dc.weak[rule]).uac & bit
    assert not account(collected, samba_dc.control[rule]).uac & bit


def test_other_user_weaknesses(collected, samba_dc):
    weak, clean = samba_dc.weak, account(collected, "user_clean")
    assert account(collected, weak["kerberoastable_users"]).spns == [
        f"HTTP/intranet.{samba_dc.dns_domain}"
    ]
    assert account(collected, weak["vuln3_kerberos_properties_encryption"]).supported_enc_types == 3
    assert clean.supported_enc_types is None
    assert account(collected, weak["vuln3_primary_group_id_nochange"]).primary_group_id == 514
    assert clean.primary_group_id == 513
    assert account(collected, weak["vuln3_sidhistory_present"]).sid_history == [
        "S-1-5-21-1-2-3-1105"
    ]
    assert account(collected, weak["vuln2_sidhistory_dangerous"]).sid_history == [
        "S-1-5-21-1-2-3-512"
    ]
    assert clean.sid_history == []
    dormant = account(collected, weak["vuln1_user_accounts_dormant"]).last_logon
    assert dormant is not None and dormant < samba_dc.started_at - timedelta(days=700)
    assert clean.last_logon is not None and clean.last_logon > samba_dc.started_at - timedelta(
        days=1
    )
    assert any(m.startswith("CN=dns_admin_member,") for m in group(collected, "DnsAdmins").members)
    guest = account(collected, "Guest")
    assert not guest.uac & UAC_ACCOUNTDISABLE
    assert guest.sid.endswith("-501")
    for user in collected.users:
        assert user.sid.startswith("S-1-5-21-") and user.when_created.tzinfo is UTC


def test_computers(collected, samba_dc):
    weak = samba_dc.weak
    xp = account(collected, weak["obsolete_os_legacy"])
    assert (xp.os_name, xp.os_version, xp.is_computer) == (
        "Windows XP Professional", "5.1 (2600)", True,
    )  # fmt: skip
    t4d = account(collected, weak["protocol_transition_delegation"])
    assert t4d.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION
    assert t4d.allowed_to_delegate_to == [f"cifs/files.{samba_dc.dns_domain}"]
    unconstrained = account(collected, weak["vuln2_delegation_t4d"])
    assert unconstrained.uac & UAC_TRUSTED_FOR_DELEGATION and not unconstrained.is_dc
    t2a4d = account(collected, weak["vuln1_delegation_t2a4d"])
    assert t2a4d.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION
    assert t2a4d.allowed_to_delegate_to == [f"ldap/dc1.{samba_dc.dns_domain}"]
    clean = account(collected, "pc-clean$")
    assert clean.os_name == "Windows 11 Enterprise" and clean.allowed_to_delegate_to == []
    assert not clean.uac & (UAC_TRUSTED_FOR_DELEGATION | UAC_TRUSTED_TO_AUTH_FOR_DELEGATION)
    dc = account(collected, "DC1$")
    assert dc.is_dc and dc.uac & UAC_TRUSTED_FOR_DELEGATION
    assert all(c.laps_expiry is None for c in collected.computers)  # no LAPS schema in Samba


def test_security_descriptors_read_as_non_admin(collected, samba_dc):
    dcsync_sid = account(collected, samba_dc.weak["vuln1_permissions_naming_context"]).sid
    head = collected.domain_descriptor
    assert head is not None and head.owner.startswith("S-1-5-")
    granted = {
        a.object_type for a in head.dacl if a.trustee == dcsync_sid and a.kind == "allow_object"
    }
    assert granted == DCSYNC_RIGHTS
    clean_sid = account(collected, "user_clean").sid
    assert not [a for a in head.dacl if a.trustee == clean_sid]
    holder = collected.adminsdholder_descriptor
    holder_sid = account(collected, samba_dc.weak["vuln1_permissions_adminsdholder"]).sid
    added = [a for a in holder.dacl if a.trustee == holder_sid]
    assert added and added[0].kind == "allow" and added[0].mask & 0xF01FF == 0xF01FF
    assert not added[0].inherited


def test_trust_gpo_dns_and_gaps(collected, samba_dc):
    (trust,) = collected.trusts
    assert (trust.name, trust.direction, trust.trust_type, trust.attributes) == (
        "partner.example", 3, 2, 0,
    )  # fmt: skip
    assert trust.sid == "S-1-5-21-1-2-3" and trust.when_changed.tzinfo is UTC
    names = {g.name for g in collected.gpos}
    assert {"Default Domain Policy", "Default Domain Controllers Policy"} <= names
    assert all(len(g.guid) == 36 and g.guid == g.guid.lower() for g in collected.gpos)
    zones = {z.name: z.dynamic_update for z in collected.dns_zones}
    assert zones[samba_dc.weak["vuln1_dnszone_bad_prop"]] == "nonsecure_and_secure"
    assert zones[samba_dc.control["vuln1_dnszone_bad_prop"]] == "secure"
    # PSOs are hidden from non-admins (as on Windows): recorded as a gap, not as "no PSO".
    assert collected.psos == []
    assert any(gap.startswith("psos:") for gap in collected.gaps)
    assert collected.cert_templates == []


def test_progress_reports_each_stage(collected):
    stages = collected.progress_stages
    for stage in ("domain", "users", "computers", "groups", "trusts", "descriptors", "done"):
        assert stage in stages


def test_an_admin_sees_the_pso(samba_dc):
    snap = collector.collect(
        samba_dc.server, None, samba_dc.admin_user, samba_dc.admin_password,
        ca_file=samba_dc.ca_file, sysvol=False, policy=OPEN,
    )  # fmt: skip
    (pso,) = snap.psos
    assert (pso.name, pso.min_length, pso.precedence, pso.max_age_days) == ("pso-weak", 4, 10, None)
    assert pso.lockout_duration_minutes == pytest.approx(30)
    assert pso.applies_to == [f"CN=gg-pso-weak,CN=Users,{samba_dc.base_dn}"]
    assert not any(gap.startswith("psos") for gap in snap.gaps)


def test_starttls_with_the_ca(samba_dc):
    snap = collector.collect(
        samba_dc.host, samba_dc.starttls_port, samba_dc.reader_user, samba_dc.reader_password,
        starttls=True, ca_file=samba_dc.ca_file, sysvol=False, policy=OPEN, page_size=7,
    )  # fmt: skip
    # A page size of 7 forces many pages: nothing lost or duplicated across them.
    sams = [u.sam for u in snap.users]
    assert len(sams) == len(set(sams)) and "user_clean" in sams
    assert len(snap.groups) > 30


def test_insecure_skips_verification(samba_dc):
    snap = collector.collect(
        samba_dc.server, None, samba_dc.reader_user, samba_dc.reader_password,
        insecure=True, sysvol=False, policy=OPEN,
    )  # fmt: skip
    assert snap.domain.dns_name == samba_dc.dns_domain


def test_unknown_ca_is_a_tls_failure(samba_dc):
    with pytest.raises(collector.CollectError, match="TLS"):
        collector.collect(
            samba_dc.server, None, samba_dc.reader_user, samba_dc.reader_password,
            sysvol=False, policy=OPEN,
        )  # fmt: skip


def test_wrong_password_is_refused(samba_dc):
    with pytest.raises(collector.CollectError, match="bind refused"):
        collector.collect(
            samba_dc.server, None, samba_dc.reader_user, "not the password",
            ca_file=samba_dc.ca_file, sysvol=False, policy=OPEN,
        )  # fmt: skip


def test_plain_ldap_without_tls_is_not_offered(samba_dc):
    # Port 389 without StartTLS would send the password in clear: the collector speaks TLS
    # on it (LDAPS framing), so the handshake fails instead.
    with pytest.raises(collector.CollectError):
        collector.collect(
            samba_dc.host, samba_dc.starttls_port, samba_dc.reader_user,
            samba_dc.reader_password, insecure=True, sysvol=False, policy=OPEN,
        )  # fmt: skip


def test_nothing_listening_is_a_clear_error():
    with pytest.raises(collector.CollectError, match="connexion impossible"):
        collector.collect("127.0.0.1", 9, "x@y", "z", insecure=True, sysvol=False, policy=OPEN)


def test_unknown_base_dn_is_a_clear_error(samba_dc):
    with pytest.raises(collector.CollectError, match="n'existe pas"):
        collector.collect(
            samba_dc.server, None, samba_dc.reader_user, samba_dc.reader_password,
            ca_file=samba_dc.ca_file, base_dn="DC=absent,DC=test", sysvol=False, policy=OPEN,
        )  # fmt: skip
