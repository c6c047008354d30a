"""Directory audits of the demo region: two hospitals' Active Directory, one audited twice.

The snapshots are built here (no directory to collect from in a demo), then stored and analysed
through the same services as an uploaded snapshot, so the pages, the findings and the trend are
the real ones. Idempotent: a structure that already has audits is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carbet.core.choices import AssetKind
from carbet.core.models import Asset, Structure
from carbet.directory import services
from carbet.directory.models import AuditOrigin, AuditStatus, DirectoryAudit
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
# (structure key, audits as (days ago, whether the first action plan is done))
DEMO_AUDITS = (
    ("ch-anse-bleue", ((120, False), (10, True))),
    ("ch-saint-ilet", ((30, False),)),
)


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
    for key, audits in DEMO_AUDITS:
        structure = structures.get(key)
        if structure is None or DirectoryAudit.objects.filter(structure=structure).exists():
            continue
        asset = Asset.objects.filter(structure=structure, kind=AssetKind.AD_DOMAIN).first()
        if asset is None:
            continue
        domain = asset.value
        for days_ago, fixed in audits:
            collected_at = timezone.make_aware(
                dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9, 30))
            )
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
            # The demo's findings history already tells the directory's story (see
            # carbet.demo.findings): these audits fill the directory pages without doubling it.
            services.finish(audit_row, analyse(snap, now=collected_at), write=False)
            DirectoryAudit.objects.filter(pk=audit_row.pk).update(analysed_at=collected_at)
            created += 1
    return created
