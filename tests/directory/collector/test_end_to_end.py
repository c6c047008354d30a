"""Seeded Samba → collect (non-admin) → analyse: each rule Samba can express fires on its weak
object and not on the clean control.

Not expressible with Samba here, so tested on crafted snapshots by the rules' own tests:
vuln1_functional_level (Samba provisions 2008 R2, not below), LAPS coverage (no LAPS schema),
AD CS templates (no AD CS), adminCount-based rules (Samba never sets adminCount), PSO rules
(PSOs are hidden from the non-admin reader: "not evaluated").
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbet.engines.directory import analysis

pytestmark = pytest.mark.realserver

# Rules whose weakness is a domain-wide setting (no per-object control).
DOMAIN_WIDE = {
    "weak_password_policy",
    "no_lockout",
    "vuln4_user_accounts_machineaccountquota",
    "vuln1_dsheuristics_bad",
    "vuln2_compatible_2000_anonymous",
    "laps_not_installed",
    "vuln1_trusts_domain_notfiltered",
    "recycle_bin_disabled",
}
REQUIRED_ANSSI_SEEDED = {
    "vuln1_privileged_members", "vuln1_spn_priv", "vuln1_dont_expire_priv",
    "vuln1_kerberos_properties_preauth_priv", "vuln1_user_accounts_dormant",
    "vuln1_delegation_t2a4d", "vuln1_trusts_domain_notfiltered", "vuln1_dsheuristics_bad",
    "vuln2_dont_expire", "vuln2_kerberos_properties_preauth", "vuln2_kerberos_properties_deskey",
    "vuln2_delegation_t4d", "vuln2_sidhistory_dangerous", "vuln2_compatible_2000_anonymous",
    "vuln3_reversible_password", "vuln3_protected_users", "vuln3_primary_group_id_nochange",
    "vuln3_sidhistory_present", "vuln3_kerberos_properties_encryption", "vuln4_dnsadmins",
    "vuln4_user_accounts_machineaccountquota",
}  # fmt: skip


@pytest.fixture(scope="module")
def result(collected, samba_dc):
    return analysis.analyse(collected, now=samba_dc.started_at + timedelta(hours=1))


def by_rule(result) -> dict:
    return {finding.rule: finding for finding in result.findings}


def test_each_seeded_weakness_fires_on_its_object_not_on_its_control(result, samba_dc):
    findings = by_rule(result)
    missing = [rule for rule in samba_dc.weak if rule not in findings and rule != "nested_admin"]
    assert not missing, f"seeded but not reported: {missing}"
    for rule, weak_object in samba_dc.weak.items():
        if rule == "nested_admin":
            continue
        objects = findings[rule].objects
        assert any(weak_object.lower() in item.lower() for item in objects), (rule, objects)
        control = samba_dc.control.get(rule)
        if control:
            assert not any(item.lower() == control.lower() for item in objects), (rule, objects)


def test_required_anssi_ids_expressible_in_samba_all_fire(result):
    fired = {finding.anssi for finding in result.findings if finding.anssi}
    assert REQUIRED_ANSSI_SEEDED - fired == set()
    assert result.anssi_level == 1


def test_domain_wide_weaknesses_fire(result):
    assert DOMAIN_WIDE <= set(by_rule(result))


def test_nested_admin_counts_as_privileged(result, samba_dc):
    protected = by_rule(result)["vuln3_protected_users"].objects
    assert samba_dc.weak["nested_admin"] in protected
    assert samba_dc.control["vuln3_protected_users"] not in protected


def test_age_rules_follow_the_injected_clock(collected, samba_dc):
    soon = by_rule(analysis.analyse(collected, now=samba_dc.started_at + timedelta(days=1)))
    assert "vuln2_krbtgt" not in soon
    later = by_rule(analysis.analyse(collected, now=samba_dc.started_at + timedelta(days=1200)))
    assert "krbtgt" in later["vuln2_krbtgt"].objects
    assert "vuln1_password_change_priv" in later


def test_gpp_password_rule_when_the_location_was_collected(result, collected):
    if collected.gpp_passwords:
        assert "gpp_passwords" in by_rule(result)
    else:  # no SMB logon possible on this machine: the gap says so (see test_gpp)
        assert any("SYSVOL" in gap for gap in collected.gaps)
