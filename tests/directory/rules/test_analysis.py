"""Scoring, ANSSI level, exceptions, the injectable clock, "not evaluated", the JSON contract
and the order of findings — on crafted snapshots (Samba cannot backdate pwdLastSet or
whenCreated, hence the clock tests here)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from carbet.engines.directory.analysis import RuleException, analyse
from carbet.engines.directory.model import UAC_DONT_REQ_PREAUTH, UAC_TRUSTED_FOR_DELEGATION, Ace
from carbet.engines.directory.rules.graph import RuleContext
from carbet.engines.directory.scoring import (
    Fixed,
    PerObject,
    Tiered,
    anssi_level,
    category_scores,
)
from tests.directory.rules.builders import (
    NOW,
    account,
    add_admin,
    add_computer,
    add_member,
    add_user,
    clean_snapshot,
    days_ago,
    group,
    group_named,
    sid,
)


def _finding(result, rule_id):
    return next(f for f in result.findings if f.rule == rule_id)


def _rules(result):
    return {f.rule for f in result.findings}


# --- points models ------------------------------------------------------------------------


def test_points_models():
    assert Fixed(10).compute(0) == 0
    assert Fixed(10).compute(7) == 10
    assert PerObject(2, floor=5, cap=12).compute(1) == 5
    assert PerObject(2, floor=5, cap=12).compute(4) == 8
    assert PerObject(2, floor=5, cap=12).compute(100) == 12
    assert PerObject(3).compute(50) == 150
    tiers = Tiered(((1, 20), (2, 30), (3, 40), (4, 50)), unit="ans")
    assert [tiers.compute(1, m) for m in (0.5, 1, 1.9, 2, 3.5, 4, 12)] == [
        0,
        20,
        20,
        30,
        40,
        50,
        50,
    ]
    assert tiers.compute(0, 7) == 0
    assert Tiered(((11, 10), (26, 20))).compute(12) == 10  # by object count
    assert "≥ 1 ans : 20" in tiers.describe()


@pytest.mark.parametrize(
    ("age_days", "points"),
    [(200, None), (400, 20), (800, 30), (1150, 40), (1500, 50), (4000, 50)],
)
def test_krbtgt_points_are_tiered_by_years(age_days, points):
    snapshot = clean_snapshot()
    snapshot.domain.krbtgt_pwd_last_set = days_ago(age_days)
    result = analyse(snapshot, now=NOW)
    if points is None:
        assert "vuln2_krbtgt" not in _rules(result)
    else:
        assert _finding(result, "vuln2_krbtgt").points == points
        assert result.scores["anomalies"] == points


def test_krbtgt_falls_back_to_the_account_when_the_domain_field_is_missing():
    snapshot = clean_snapshot()
    snapshot.domain.krbtgt_pwd_last_set = None
    account(snapshot, "krbtgt").pwd_last_set = days_ago(900)
    assert _finding(analyse(snapshot, now=NOW), "vuln2_krbtgt").points == 30


def test_admin_count_is_tiered_by_number_of_admins():
    snapshot = clean_snapshot()
    for number in range(8):  # 2 admins in the clean domain: 10 now
        add_admin(snapshot, f"adm{number}")
    assert "admin_count_excessive" not in _rules(analyse(snapshot, now=NOW))
    add_admin(snapshot, "adm-extra")
    assert _finding(analyse(snapshot, now=NOW), "admin_count_excessive").points == 10
    for number in range(15):
        add_admin(snapshot, f"more{number}")
    assert _finding(analyse(snapshot, now=NOW), "admin_count_excessive").points == 20


def test_category_scores_cap_at_100_and_global_is_the_maximum():
    scores = category_scores([("privileged_accounts", 60), ("privileged_accounts", 70),
                              ("trusts", 40), ("stale_objects", 5)])  # fmt: skip
    assert scores == {
        "global": 100,
        "stale_objects": 5,
        "privileged_accounts": 100,
        "trusts": 40,
        "anomalies": 0,
    }


def test_analysis_caps_a_saturated_category():
    snapshot = clean_snapshot()
    admin = account(snapshot, "adm-alice")
    admin.uac |= UAC_DONT_REQ_PREAUTH
    admin.spns = ["MSSQLSvc/sql:1433"]
    account(snapshot, "SRV01$").uac |= UAC_TRUSTED_FOR_DELEGATION
    snapshot.domain_descriptor.dacl.append(Ace(account(snapshot, "alice").sid, "allow", 0x40000))
    snapshot.domain.krbtgt_pwd_last_set = days_ago(400)
    result = analyse(snapshot, now=NOW)
    raw = sum(f.points for f in result.findings if f.category == "privileged_accounts")
    assert raw > 100
    assert result.scores["privileged_accounts"] == 100
    assert result.scores["anomalies"] == 20
    assert result.scores["global"] == 100


# --- ANSSI level --------------------------------------------------------------------------


def test_anssi_level_is_the_lowest_failed_level():
    assert anssi_level([]) == 5
    assert anssi_level([4, None, 3]) == 3
    snapshot = clean_snapshot()
    snapshot.domain.machine_account_quota = 10  # vuln4
    assert analyse(snapshot, now=NOW).anssi_level == 4
    account(snapshot, "alice").sid_history = ["S-1-5-21-7-7-7-1500"]  # vuln3
    assert analyse(snapshot, now=NOW).anssi_level == 3
    snapshot.domain.krbtgt_pwd_last_set = days_ago(500)  # vuln2
    assert analyse(snapshot, now=NOW).anssi_level == 2
    account(snapshot, "adm-alice").spns = ["http/x"]  # vuln1_spn_priv
    assert analyse(snapshot, now=NOW).anssi_level == 1


def test_carbet_only_rules_do_not_change_the_anssi_level():
    snapshot = clean_snapshot()
    account(snapshot, "Guest").uac = 0x200
    result = analyse(snapshot, now=NOW)
    assert "guest_enabled" in _rules(result)
    assert result.anssi_level == 5


# --- exceptions ---------------------------------------------------------------------------


def _two_dormant():
    snapshot = clean_snapshot()
    account(snapshot, "alice").last_logon = days_ago(300)
    add_user(snapshot, "bob", last_logon=days_ago(300))
    return snapshot


def test_exception_for_one_object_keeps_it_visible_but_free():
    exception = RuleException("stale_users_inactive", "ALICE", "congé long", None)
    result = analyse(_two_dormant(), now=NOW, exceptions=[exception])
    finding = _finding(result, "stale_users_inactive")
    assert finding.objects == ["bob"]
    assert finding.excepted_objects == ["alice"]
    assert finding.objects_total == 1
    assert finding.points == 5  # per object 1, floor 5
    assert result.anssi_level == 5  # a Carbet rule: no ANSSI level


def test_exception_for_the_whole_rule_removes_points_and_level():
    exception = RuleException("stale_users_inactive", "*", "fusion en cours")
    result = analyse(_two_dormant(), now=NOW, exceptions=[exception])
    finding = _finding(result, "stale_users_inactive")
    assert finding.objects == [] and finding.excepted_objects == ["alice", "bob"]
    assert finding.fully_excepted and finding.points == 0
    assert result.scores["stale_objects"] == 0
    assert result.findings[-1].rule == "stale_users_inactive"  # free findings last


def test_expired_exception_no_longer_applies_and_today_still_does():
    today = NOW.date()
    expired = RuleException("stale_users_inactive", "*", "", today - timedelta(days=1))
    result = analyse(_two_dormant(), now=NOW, exceptions=[expired])
    assert _finding(result, "stale_users_inactive").objects == ["alice", "bob"]
    last_day = RuleException("stale_users_inactive", "*", "", today)
    result = analyse(_two_dormant(), now=NOW, exceptions=[last_day])
    assert _finding(result, "stale_users_inactive").objects == []


def test_exception_written_with_a_renamed_rule_id_still_applies():
    from carbet.engines.directory.rules import registry

    snapshot = clean_snapshot()
    account(snapshot, "SRV01$").uac |= UAC_TRUSTED_FOR_DELEGATION
    exception = RuleException("unconstrained_delegation", "SRV01$", "serveur d'impression")
    finding = _finding(analyse(snapshot, now=NOW, exceptions=[exception]), "vuln2_delegation_t4d")
    assert finding.excepted_objects == ["SRV01$"]
    assert registry.get("unconstrained_delegation").id == "vuln2_delegation_t4d"


def test_exception_for_another_rule_changes_nothing():
    other = RuleException("vuln2_krbtgt", "*", "", date(2030, 1, 1))
    result = analyse(_two_dormant(), now=NOW, exceptions=[other])
    assert _finding(result, "stale_users_inactive").excepted_objects == []


# --- injectable clock ---------------------------------------------------------------------


def test_whole_rule_exception_on_an_anssi_control_restores_the_level():
    snapshot = clean_snapshot()
    account(snapshot, "adm-alice").spns = ["http/x"]
    exception = RuleException("vuln1_spn_priv", "*", "compte de service en migration")
    result = analyse(snapshot, now=NOW, exceptions=[exception])
    assert result.anssi_level == 5
    assert result.anssi_level_without_exceptions == 1


def test_dormant_share_needs_enough_active_accounts():
    snapshot = clean_snapshot()
    for number in range(5):
        add_user(snapshot, f"gone{number}", last_logon=days_ago(300))
    result = analyse(snapshot, now=NOW)  # most accounts dormant, but only 3 in use
    assert "vuln1_user_accounts_dormant" not in _rules(result)
    assert "stale_users_inactive" in _rules(result)


def test_dormant_depends_on_the_clock():
    snapshot = clean_snapshot()
    account(snapshot, "alice").last_logon = NOW - timedelta(days=100)
    assert "stale_users_inactive" not in _rules(analyse(snapshot, now=NOW))
    later = NOW + timedelta(days=100)
    result = analyse(snapshot, now=later)
    assert "alice" in _finding(result, "stale_users_inactive").objects


def test_never_logged_on_accounts_age_from_their_creation():
    snapshot = clean_snapshot()
    add_user(snapshot, "nouveau", last_logon=None, when_created=days_ago(10))
    add_user(snapshot, "fantome", last_logon=None, when_created=days_ago(500))
    objects = _finding(analyse(snapshot, now=NOW), "stale_users_inactive").objects
    assert objects == ["fantome"]


def test_admin_password_age_depends_on_the_clock():
    snapshot = clean_snapshot()
    account(snapshot, "adm-alice").pwd_last_set = NOW - timedelta(days=1000)
    assert "vuln1_password_change_priv" not in _rules(analyse(snapshot, now=NOW))
    result = analyse(snapshot, now=NOW + timedelta(days=200))
    assert _finding(result, "vuln1_password_change_priv").objects == ["adm-alice"]


def test_windows_10_becomes_obsolete_at_its_end_of_support():
    snapshot = clean_snapshot()
    account(snapshot, "PC01$").os_name = "Windows 10 Enterprise"
    before = analyse(snapshot, now=NOW.replace(year=2025, month=6))
    assert "obsolete_os_windows10" not in _rules(before)
    assert "obsolete_os_windows10" in _rules(analyse(snapshot, now=NOW))
    account(snapshot, "PC01$").os_name = "Windows 10 Enterprise LTSC 2021"
    assert "obsolete_os_windows10" not in _rules(analyse(snapshot, now=NOW))


def test_ages_default_to_the_collection_time_and_exceptions_to_today():
    snapshot = clean_snapshot()
    account(snapshot, "alice").last_logon = NOW - timedelta(days=100)
    assert "stale_users_inactive" not in _rules(analyse(snapshot))  # years later: as collected
    account(snapshot, "alice").last_logon = NOW - timedelta(days=300)
    expired_since = RuleException("stale_users_inactive", "*", "", NOW.date() + timedelta(days=1))
    finding = _finding(analyse(snapshot, exceptions=[expired_since]), "stale_users_inactive")
    assert finding.objects == ["alice"]  # expired today, even if valid at collection time


def test_naive_now_is_taken_as_utc():
    result = analyse(clean_snapshot(), now=NOW.replace(tzinfo=None))
    assert result.findings == []


# --- not evaluated ------------------------------------------------------------------------


def test_gaps_make_rules_not_evaluated_with_the_reason():
    snapshot = clean_snapshot()
    snapshot.gaps = ["dns_zones: accès refusé au conteneur MicrosoftDNS"]
    snapshot.dns_zones = []
    result = analyse(snapshot, now=NOW)
    reasons = dict(result.not_evaluated)
    assert reasons == {"vuln1_dnszone_bad_prop": snapshot.gaps[0]}
    assert result.anssi_level == 5
    assert result.anssi_level_complete is False  # a level-1 control could not be checked


@pytest.mark.parametrize(
    ("gap", "rule_id"),
    [  # the collector's own wording
        ("dSHeuristics not readable: insufficientAccessRights", "vuln1_dsheuristics_bad"),
        ("SYSVOL (Group Policy Preferences): not scanned", "gpp_passwords"),
        ("DNS zones in DC=DomainDnsZones,DC=x not readable: refused", "vuln1_dnszone_bad_prop"),
        (
            "certificate templates not readable: refused",
            "vuln1_adcs_template_auth_enroll_with_name",
        ),
        (
            "AD CS enrollment services not readable: refused",
            "vuln1_adcs_template_auth_enroll_with_name",
        ),
        ("LAPS schema: timeout", "laps_not_installed"),
        ("LAPS schema: timeout", "laps_coverage"),
        ("psos: none visible to this account (usually readable by admins only)", "pso_weak"),
        ("psos not readable: refused", "pso_unused"),
        ("trusts not readable: refused", "vuln1_trusts_domain_notfiltered"),
        ("users not readable: timeout", "vuln1_spn_priv"),
        ("groups: CN=Domain Admins,CN=Users,DC=x: member list incomplete", "vuln1_spn_priv"),
        ("domain head security descriptor not readable: x", "vuln1_permissions_naming_context"),
        ("AdminSDHolder security descriptor: not returned", "vuln1_permissions_adminsdholder"),
        ("domain.machine_account_quota: absent", "vuln4_user_accounts_machineaccountquota"),
    ],
)
def test_collector_gaps_suspend_the_rules_that_need_that_data(gap, rule_id):
    snapshot = clean_snapshot()
    snapshot.gaps = [gap]
    result = analyse(snapshot, now=NOW)
    assert dict(result.not_evaluated).get(rule_id) == gap
    assert result.gaps == [gap]


def test_single_skipped_objects_leave_rules_running_but_are_reported():
    snapshot = clean_snapshot()
    snapshot.gaps = [
        "users: CN=odd,CN=Users,DC=x skipped: bad SID",
        "users: 3 malformed objects skipped",
        "netbios name: not readable",
    ]
    result = analyse(snapshot, now=NOW)
    assert result.not_evaluated == []
    assert result.to_json()["gaps"] == snapshot.gaps


def test_a_faulty_rule_is_not_evaluated_instead_of_sinking_the_audit(monkeypatch):
    from carbet.engines.directory.rules import registry

    def broken(snapshot, ctx):
        raise ZeroDivisionError

    rule = registry.get("guest_enabled")
    monkeypatch.setitem(registry._REGISTRY, "guest_enabled", replace(rule, evaluate=broken))
    result = analyse(clean_snapshot(), now=NOW)
    assert dict(result.not_evaluated)["guest_enabled"].endswith("(ZeroDivisionError)")


def test_gap_on_users_suspends_every_rule_reading_users():
    snapshot = clean_snapshot()
    snapshot.gaps = ["users: la recherche paginée a échoué"]
    result = analyse(snapshot, now=NOW)
    names = {n.rule for n in result.not_evaluated}
    assert {"vuln1_spn_priv", "stale_users_inactive", "guest_enabled"} <= names
    assert "vuln1_dnszone_bad_prop" not in names


def test_domain_gap_covers_domain_fields():
    snapshot = clean_snapshot()
    snapshot.gaps = ["domain: attributs de la racine illisibles"]
    names = {n.rule for n in analyse(snapshot, now=NOW).not_evaluated}
    assert {"vuln2_krbtgt", "vuln1_dsheuristics_bad", "laps_not_installed"} <= names


def test_missing_descriptors_are_not_evaluated_not_passed():
    snapshot = clean_snapshot()
    snapshot.domain_descriptor = None
    snapshot.adminsdholder_descriptor = None
    names = {n.rule for n in analyse(snapshot, now=NOW).not_evaluated}
    assert {
        "vuln1_permissions_naming_context",
        "vuln1_permissions_adminsdholder",
        "vuln3_owner",
    } <= names


def test_laps_schema_absent_fires_one_rule_and_suspends_coverage():
    snapshot = clean_snapshot()
    snapshot.domain.laps_schema = False
    for computer in snapshot.computers:
        computer.laps_expiry = None
    result = analyse(snapshot, now=NOW)
    assert "laps_not_installed" in _rules(result)
    assert "laps_coverage" not in _rules(result)
    assert "laps_coverage" in dict(result.not_evaluated)


def test_samba_like_snapshot_without_admincount_or_protected_users():
    snapshot = clean_snapshot()
    for item in [*snapshot.users, *snapshot.groups]:
        item.admin_count = None
    snapshot.groups = [g for g in snapshot.groups if g.sam != "Protected Users"]
    snapshot.domain.recycle_bin = None
    reasons = dict(analyse(snapshot, now=NOW).not_evaluated)
    assert "Samba" in reasons["vuln2_privileged_members_no_admincount"]
    assert "Protected Users" in reasons["vuln3_protected_users"]
    assert "recycle_bin_disabled" in reasons


def test_trust_secrets_fall_back_to_the_trusted_domain_object():
    snapshot = clean_snapshot()
    snapshot.users = [u for u in snapshot.users if u.sam != "PARTNER$"]
    assert "vuln2_trusts_accounts" not in _rules(analyse(snapshot, now=NOW))
    snapshot.trusts[0].when_changed = days_ago(400)
    finding = _finding(analyse(snapshot, now=NOW), "vuln2_trusts_accounts")
    assert finding.objects == ["partenaire.local"]
    snapshot.trusts[0].when_changed = None
    assert "vuln2_trusts_accounts" in dict(analyse(snapshot, now=NOW).not_evaluated)


def test_pseudonymised_snapshot_skips_rules_that_need_clear_text():
    snapshot = clean_snapshot()
    snapshot.pseudonymised = True
    snapshot.groups = [g for g in snapshot.groups if g.sam != "DnsAdmins"]
    reasons = dict(analyse(snapshot, now=NOW).not_evaluated)
    assert "password_in_description" in reasons
    assert "vuln4_dnsadmins" in reasons


# --- privilege derivation -----------------------------------------------------------------


def test_privilege_follows_nested_groups_and_primary_group():
    snapshot = clean_snapshot()
    deep = add_user(snapshot, "svc-backup", spns=["backup/srv01"])
    inner_group = group("IT-Niveau2", sid(1300), [deep.dn])
    outer_group = group("IT-Admins", sid(1301), [inner_group.dn])
    inner_group.members.append(outer_group.dn)  # a cycle must not hang the analysis
    snapshot.groups += [inner_group, outer_group]
    add_member(snapshot, "Administrators", outer_group.dn)
    hidden = add_user(snapshot, "hidden", primary_group_id=512, spns=["http/x"])
    result = analyse(snapshot, now=NOW)
    assert _finding(result, "vuln1_spn_priv").objects == ["hidden", "svc-backup"]
    assert "hidden" in _finding(result, "vuln3_primary_group_id_nochange").objects
    assert "kerberoastable_users" not in _rules(result)  # privileged ones are not double counted
    ctx = RuleContext(snapshot=snapshot, now=NOW)
    assert "Administrators" in ctx.privilege_sources[deep.dn.lower()]
    assert "Domain Admins" in ctx.privilege_sources[hidden.dn.lower()]


def test_large_privileged_membership_by_count_or_by_share():
    snapshot = clean_snapshot()
    for number in range(48):  # 50 admins: not yet
        add_admin(snapshot, f"adm{number}")
    assert "vuln1_privileged_members" not in _rules(analyse(snapshot, now=NOW))
    add_admin(snapshot, "one-more")
    assert "vuln1_privileged_members" in _rules(analyse(snapshot, now=NOW))
    small = clean_snapshot()
    for number in range(120):
        add_user(small, f"agent{number}")
    for number in range(13):  # 15 admins out of 136 active accounts: over 10 %
        add_admin(small, f"adm{number}")
    assert "vuln1_privileged_members" in _rules(analyse(small, now=NOW))
    for number in range(30):
        add_user(small, f"more{number}")  # 15 out of 166: under 10 %
    assert "vuln1_privileged_members" not in _rules(analyse(small, now=NOW))


def test_enterprise_admins_should_stay_empty_but_the_builtin_administrator_is_allowed():
    snapshot = clean_snapshot()
    assert "operators_not_empty" not in _rules(analyse(snapshot, now=NOW))
    add_member(snapshot, "Enterprise Admins", account(snapshot, "adm-alice").dn)
    objects = _finding(analyse(snapshot, now=NOW), "operators_not_empty").objects
    assert objects == ["adm-alice"]


def test_member_of_on_the_account_counts_like_group_members():
    snapshot = clean_snapshot()
    admins = group_named(snapshot, "Domain Admins")
    add_user(snapshot, "via-memberof", member_of=[admins.dn], spns=["cifs/x"])
    assert "via-memberof" in _finding(analyse(snapshot, now=NOW), "vuln1_spn_priv").objects


def test_domain_sid_is_derived_when_missing():
    snapshot = clean_snapshot()
    snapshot.domain.sid = ""
    account(snapshot, "alice").sid_history = [account(snapshot, "adm-alice").sid]
    result = analyse(snapshot, now=NOW)
    assert "alice" in _finding(result, "vuln2_sidhistory_dangerous").objects


def test_dcsync_through_full_control_and_default_trustees_are_ignored():
    snapshot = clean_snapshot()
    helpdesk = add_user(snapshot, "helpdesk")
    snapshot.domain_descriptor.dacl.append(Ace(helpdesk.sid, "allow", 0x10000000))
    snapshot.domain_descriptor.dacl.append(Ace("S-1-5-21-5-5-5-77", "allow", 0x100))
    snapshot.domain_descriptor.dacl.append(Ace(helpdesk.sid, "deny", 0x10000000))
    objects = _finding(analyse(snapshot, now=NOW), "vuln1_permissions_naming_context").objects
    assert objects == ["helpdesk", "S-1-5-21-5-5-5-77"]


def test_only_half_of_the_replication_rights_is_not_dcsync():
    snapshot = clean_snapshot()
    sync = add_user(snapshot, "sync")
    snapshot.domain_descriptor.dacl.append(
        Ace(sync.sid, "allow_object", 0x100, "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2")
    )
    assert "vuln1_permissions_naming_context" not in _rules(analyse(snapshot, now=NOW))


def test_disabled_and_domain_controller_accounts_are_not_flagged_for_delegation():
    snapshot = clean_snapshot()
    old = add_computer(snapshot, "OLD01", uac=0x1000 | 0x2 | UAC_TRUSTED_FOR_DELEGATION)
    result = analyse(snapshot, now=NOW)
    assert not any(old.sam in f.objects for f in result.findings)


# --- contract -----------------------------------------------------------------------------


def test_to_json_contract():
    snapshot = clean_snapshot()
    account(snapshot, "SRV01$").uac |= UAC_TRUSTED_FOR_DELEGATION
    snapshot.domain.machine_account_quota = 10
    data = analyse(snapshot, now=NOW).to_json()
    assert list(data)[:4] == ["domain", "anssi_level", "score", "findings"]
    assert data["domain"] == "ch-test.local"
    assert data["anssi_level"] == 2  # vuln2_delegation_t4d
    assert list(data["score"]) == [
        "global",
        "stale_objects",
        "privileged_accounts",
        "trusts",
        "anomalies",
    ]
    first = data["findings"][0]
    assert list(first)[:8] == [
        "rule", "anssi", "level", "category", "points", "severity", "title", "objects",
    ]  # fmt: skip
    assert first["rule"] == "vuln2_delegation_t4d" and first["objects"] == ["SRV01$"]
    assert isinstance(first["severity"], int) and 0 <= first["severity"] <= 4
    json.dumps(data)  # serialisable as is


def test_exploitable_findings_come_first_then_points():
    snapshot = clean_snapshot()
    account(snapshot, "SRV01$").uac |= UAC_TRUSTED_FOR_DELEGATION  # exploitable, 20 points
    account(snapshot, "PC01$").os_name = "Windows XP"  # 15 points, severity 4
    snapshot.domain.krbtgt_pwd_last_set = days_ago(2000)  # 50 points, not exploitable
    snapshot.domain.machine_account_quota = 10  # 5 points
    order = [f.rule for f in analyse(snapshot, now=NOW).findings]
    assert order == [
        "vuln2_delegation_t4d",
        "vuln2_krbtgt",
        "obsolete_os_legacy",
        "vuln4_user_accounts_machineaccountquota",
    ]
