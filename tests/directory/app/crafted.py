"""Crafted snapshots for the directory app's tests (the app's own logic, not the rules')."""

from __future__ import annotations

import datetime as dt
import io

from carbet.engines.directory.model import (
    UAC_DONT_REQ_PREAUTH,
    Account,
    Domain,
    Group,
    PasswordPolicy,
    Snapshot,
)

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SID = "S-1-5-21-1111-2222-3333"


def snapshot(*, asrep_user: bool = True, domain: str = "alpha.local") -> Snapshot:
    """A small healthy-looking domain; ``asrep_user`` adds a user without Kerberos
    pre-authentication (ANSSI vuln2_kerberos_properties_preauth)."""
    users = [
        Account(
            dn=f"CN=Administrator,CN=Users,DC={domain.split('.')[0]},DC=local",
            sam="Administrator",
            sid=f"{SID}-500",
            uac=0x200,
            pwd_last_set=NOW - dt.timedelta(days=30),
            last_logon=NOW - dt.timedelta(days=1),
            when_created=NOW - dt.timedelta(days=900),
        ),
        Account(
            dn="CN=krbtgt,CN=Users,DC=alpha,DC=local",
            sam="krbtgt",
            sid=f"{SID}-502",
            uac=0x202,
            pwd_last_set=NOW - dt.timedelta(days=60),
            when_created=NOW - dt.timedelta(days=900),
        ),
        Account(
            dn="CN=Alice,CN=Users,DC=alpha,DC=local",
            sam="alice",
            sid=f"{SID}-1101",
            uac=0x200,
            pwd_last_set=NOW - dt.timedelta(days=20),
            last_logon=NOW - dt.timedelta(days=2),
            when_created=NOW - dt.timedelta(days=300),
        ),
    ]
    if asrep_user:
        users.append(
            Account(
                dn="CN=svc-irm,CN=Users,DC=alpha,DC=local",
                sam="svc-irm",
                sid=f"{SID}-1102",
                uac=0x200 | UAC_DONT_REQ_PREAUTH,
                pwd_last_set=NOW - dt.timedelta(days=20),
                last_logon=NOW - dt.timedelta(days=2),
                when_created=NOW - dt.timedelta(days=300),
            )
        )
    groups = [
        Group(
            dn="CN=Domain Admins,CN=Users,DC=alpha,DC=local",
            sam="Domain Admins",
            sid=f"{SID}-512",
            members=[users[0].dn],
        )
    ]
    return Snapshot(
        domain=Domain(
            dns_name=domain,
            netbios="ALPHA",
            sid=SID,
            dn="DC=alpha,DC=local",
            domain_functional_level=7,
            forest_functional_level=7,
            machine_account_quota=0,
            password_policy=PasswordPolicy(
                min_length=14,
                history=24,
                max_age_days=365,
                complexity=True,
                lockout_threshold=5,
                lockout_duration_minutes=30,
                lockout_window_minutes=30,
            ),
            krbtgt_pwd_last_set=NOW - dt.timedelta(days=60),
        ),
        collected_at=NOW,
        collector="crafted (tests)",
        users=users,
        groups=groups,
    )


def snapshot_bytes(snap: Snapshot, passphrase: str | None = None) -> bytes:
    from carbet.engines.directory import snapshot as snapshot_format

    buffer = io.BytesIO()
    snapshot_format.write(snap, buffer, passphrase=passphrase)
    return buffer.getvalue()
