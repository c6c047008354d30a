"""Directory audits of the demo region: the audits the findings history tells about.

Every structure whose history has directory findings (``carbet.demo.findings_data``) is audited
on the history's audit days (``DIRECTORY_AUDIT_DAYS``), when a mandate allowed it that day: the
first audit sees the weak directory, the later ones the directory after its first action plan.
The snapshots are built here (no directory to collect from in a demo), then stored and analysed
through the same services as an uploaded snapshot, dated the audit's day with the demo's clock,
so the directory page, the findings' "Audit de l'annuaire du …" label, the CaRE evidence and the
ARS indicators all name the same audits. Idempotent: a structure with audits is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carbet.core.choices import AssetKind
from carbet.core.mandates import check
from carbet.core.models import Asset, Structure
from carbet.demo import findings_data
from carbet.demo.clock import frozen_at
from carbet.directory import services
from carbet.directory.models import AuditOrigin, AuditStatus, DirectoryAudit
from carbet.directory.service import DIRECTORY_MANDATE, DIRECTORY_SOURCE
from carbet.engines.directory.analysis import analyse
from carbet.engines.directory.model import (
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_PASSWD_NOTREQD,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_WORKSTATION_TRUST_ACCOUNT,
    Account,
    Domain,
    Group,
    PasswordPolicy,
    Snapshot,
)

NORMAL = 0x200


def demo_audits() -> list[tuple[str, int, tuple[tuple[int, bool], ...]]]:
    """(structure key, its minute in the history's day, audits as (days ago, plan done))."""
    days = sorted(findings_data.DIRECTORY_AUDIT_DAYS, reverse=True)
    audits = []
    for minute, (key, profile) in enumerate(findings_data.PROFILES.items()):
        if any(s.source == DIRECTORY_SOURCE for s in profile):
            audits.append((key, minute, tuple((day, day != days[0]) for day in days)))
    return audits


def _sid(domain_sid: str, rid: int) -> str:
    return f"{domain_sid}-{rid}"


def build_snapshot(domain: str, collected_at: dt.datetime, *, fixed: bool) -> Snapshot:
    """A small hospital domain with the weaknesses the centre meets most; ``fixed`` removes
    half of them, as after a first action plan."""
    dc = ",".join(f"DC={part}" for part in domain.split("."))
    domain_sid = "S-1-5-21-4242-1717-" + str(abs(hash(domain)) % 10**6)
    days = dt.timedelta(days=1)

    def user(sam: str, rid: int, uac: int = NORMAL, **extra: Any) -> Account:
        values: dict[str, Any] = {
            "pwd_last_set": collected_at - 40 * days,
            "last_logon": collected_at - 2 * days,
            "when_created": collected_at - 900 * days,
        }
        values.update(extra)
        return Account(
            dn=f"CN={sam},CN=Users,{dc}", sam=sam, sid=_sid(domain_sid, rid), uac=uac, **values
        )

    admin = user("Administrateur", 500, NORMAL | UAC_DONT_EXPIRE_PASSWORD)
    users = [
        admin,
        user("krbtgt", 502, 0x202, pwd_last_set=collected_at - 2900 * days),
        user("adm-jdupont", 1104, NORMAL),
        user("m.leroy", 1105),
        user("s.martin", 1106),
        user("ancien.interne", 1107, last_logon=collected_at - 500 * days),
        user("svc-sauvegarde", 1108, NORMAL, spns=[f"backup/srv-sauv.{domain}"]),
    ]
    if not fixed:
        users += [
            user("svc-pacs", 1109, NORMAL | UAC_DONT_REQ_PREAUTH),
            user("stagiaire", 1110, NORMAL | UAC_PASSWD_NOTREQD),
            user(
                "svc-sql", 1111, NORMAL | UAC_DONT_EXPIRE_PASSWORD, spns=[f"MSSQLSvc/sql.{domain}"]
            ),
        ]
    computers = [
        Account(
            dn=f"CN=SRV-APP,CN=Computers,{dc}",
            sam="SRV-APP$",
            sid=_sid(domain_sid, 2001),
            uac=UAC_WORKSTATION_TRUST_ACCOUNT | (0 if fixed else UAC_TRUSTED_FOR_DELEGATION),
            is_computer=True,
            os_name="Windows Server 2012 R2 Standard",
            os_version="6.3 (9600)",
            pwd_last_set=collected_at - 20 * days,
            last_logon=collected_at - 1 * days,
        ),
        Account(
            dn=f"CN=PC-ACCUEIL,CN=Computers,{dc}",
            sam="PC-ACCUEIL$",
            sid=_sid(domain_sid, 2002),
            uac=UAC_WORKSTATION_TRUST_ACCOUNT,
            is_computer=True,
            os_name="Windows 7 Professionnel" if not fixed else "Windows 11 Professionnel",
            os_version="6.1 (7601)" if not fixed else "10.0 (22631)",
            pwd_last_set=collected_at - 20 * days,
            last_logon=collected_at - 1 * days,
        ),
    ]
    admins = [admin.dn, users[2].dn] + ([] if fixed else [users[-1].dn])
    groups = [
        Group(
            dn=f"CN=Admins du domaine,CN=Users,{dc}",
            sam="Admins du domaine",
            sid=_sid(domain_sid, 512),
            members=admins,
        ),
        Group(
            dn=f"CN=DnsAdmins,CN=Users,{dc}",
            sam="DnsAdmins",
            sid=_sid(domain_sid, 1101),
            members=[] if fixed else [users[3].dn],
        ),
    ]
    return Snapshot(
        domain=Domain(
            dns_name=domain,
            netbios=domain.split(".")[0].upper()[:15],
            sid=domain_sid,
            dn=dc,
            domain_functional_level=6,
            forest_functional_level=6,
            machine_account_quota=0 if fixed else 10,
            password_policy=PasswordPolicy(
                min_length=12 if fixed else 7,
                history=24,
                max_age_days=365,
                complexity=True,
                lockout_threshold=10 if fixed else 0,
                lockout_duration_minutes=15,
                lockout_window_minutes=15,
            ),
            krbtgt_pwd_last_set=collected_at - 2900 * days,
        ),
        collected_at=collected_at,
        collector="carbet demo",
        users=users,
        computers=computers,
        groups=groups,
    )


def load(structures: dict[str, Structure], today: dt.date | None = None) -> int:
    """Add the demo audits; returns how many were created."""
    today = today or timezone.localdate()
    created = 0
    for key, minute, audits in demo_audits():
        structure = structures.get(key)
        if structure is None or DirectoryAudit.objects.filter(structure=structure).exists():
            continue
        asset = Asset.objects.filter(structure=structure, kind=AssetKind.AD_DOMAIN).first()
        if asset is None:
            continue
        domain = asset.value
        for days_ago, fixed in audits:
            day = today - dt.timedelta(days=days_ago)
            if not check(structure, DIRECTORY_MANDATE, at=day):
                continue  # the history audits only what a mandate allowed that day
            # The same minute as the history's "Audit de l'annuaire" of that day.
            collected_at = timezone.make_aware(
                dt.datetime.combine(day, dt.time(9, 0))
            ) + dt.timedelta(minutes=minute)
            snap = build_snapshot(domain, collected_at, fixed=fixed)
            audit_row = DirectoryAudit(
                structure=structure,
                origin=AuditOrigin.SNAPSHOT,
                status=AuditStatus.RUNNING,
                domain=domain,
                source_name=f"{domain}.carbet",
                created_at=collected_at,
            )
            services._keep_snapshot(audit_row, snap)
            audit_row.save()
            # The demo's findings history writes the directory's findings (carbet.demo.findings,
            # on these same days): the audits fill the directory pages without doubling them.
            with frozen_at(collected_at + dt.timedelta(minutes=2)):
                services.finish(audit_row, analyse(snap, now=collected_at), write=False)
            created += 1
    return created
