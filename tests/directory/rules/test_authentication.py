"""Administrators who sign in with a password alone (``privileged_password_only``): who counts,
who does not, and what the security-by-design measures read from it."""

from __future__ import annotations

from datetime import date

from carbet.engines.bydesign.auto import DONE, NOT_DONE, Facts, auto_status, worst_status
from carbet.engines.directory.analysis import analyse
from carbet.engines.directory.model import UAC_SMARTCARD_REQUIRED
from carbet.engines.directory.rules.common import PASSWORD_ONLY_RULE
from tests.directory.rules.builders import (
    NOW,
    account,
    add_admin,
    clean_snapshot,
    days_ago,
)

UAC_NORMAL = 0x200


def _objects(snapshot) -> list[str] | None:
    result = analyse(snapshot, now=NOW)
    assert PASSWORD_ONLY_RULE in result.evaluated
    found = [f for f in result.findings if f.rule == PASSWORD_ONLY_RULE]
    return found[0].objects if found else None


def test_every_named_admin_with_a_smart_card_passes():
    assert _objects(clean_snapshot()) is None


def test_a_named_admin_without_smart_card_is_listed():
    snapshot = clean_snapshot()
    add_admin(snapshot, "adm-bob", uac=UAC_NORMAL)
    assert _objects(snapshot) == ["adm-bob"]


def test_service_accounts_and_the_idle_emergency_administrator_are_not_listed():
    snapshot = clean_snapshot()
    add_admin(snapshot, "svc-backup", uac=UAC_NORMAL, spns=["backup/srv01"])
    assert account(snapshot, "Administrator").last_logon == days_ago(100)
    assert _objects(snapshot) is None


def test_the_builtin_administrator_used_day_to_day_is_listed():
    snapshot = clean_snapshot()
    account(snapshot, "Administrator").last_logon = days_ago(2)
    assert _objects(snapshot) == ["Administrator"]
    account(snapshot, "Administrator").uac |= UAC_SMARTCARD_REQUIRED
    assert _objects(snapshot) is None


def test_a_domain_without_everyday_admins_is_not_evaluated():
    snapshot = clean_snapshot()
    snapshot.users = [u for u in snapshot.users if u.sam != "adm-alice"]
    result = analyse(snapshot, now=NOW)
    assert PASSWORD_ONLY_RULE not in result.evaluated
    assert PASSWORD_ONLY_RULE in {n.rule for n in result.not_evaluated}
    assert result.to_json()["evaluated"] == result.evaluated


TODAY = date(2026, 12, 1)


def test_mfa_admins_measure_reads_the_directory_fact_only_when_fresh():
    fresh = TODAY.replace(month=6)
    assert (
        auto_status("mfa_admins", Facts(directory_on=fresh, admin_mfa=True), TODAY).status == DONE
    )
    missing = auto_status("mfa_admins", Facts(directory_on=fresh, admin_mfa=False), TODAY)
    assert (missing.status, missing.source, missing.reason) == (
        NOT_DONE, "directory", "mfa_admins_missing",
    )  # fmt: skip
    assert auto_status("mfa_admins", Facts(directory_on=fresh, admin_mfa=None), TODAY) is None
    old = date(2025, 6, 1)
    assert auto_status("mfa_admins", Facts(directory_on=old, admin_mfa=False), TODAY) is None


def test_an_essential_of_several_measures_is_as_done_as_its_weakest():
    rules = ("password_policy", "mfa_admins", "mfa_remote")
    on = TODAY.replace(month=11)
    good = Facts(directory_on=on, admin_mfa=True)
    assert worst_status(rules, good, TODAY).status == DONE
    remote_open = Facts(directory_on=on, admin_mfa=True, exposure_on=on, mfa_remote_access=False)
    assert worst_status(rules, remote_open, TODAY).reason == "mfa_missing"
    password_only = Facts(directory_on=on, admin_mfa=False)
    assert worst_status(rules, password_only, TODAY).reason == "mfa_admins_missing"
    assert worst_status(rules, Facts(), TODAY) is None
