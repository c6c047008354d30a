"""Strong authentication of administrators: what the directory itself enforces.

Active Directory enforces one second factor only: "smart card required for interactive
logon" (``userAccountControl`` SMARTCARD_REQUIRED), which covers smart cards, virtual smart
cards and FIDO/PIV keys presented as smart cards. An account without it accepts its password
alone on every domain logon, whatever a VPN or a remote-desktop gateway asks on top: a stolen
administrator password opens the domain. Windows Hello for Business keys
(``msDS-KeyCredentialLink``) do not count: enrolling one does not stop the password from
working.

This is the fact the security-by-design measures read as "MFA for administrators, measured by
the AD audit" (``carbet.bydesign.facts``): the rule evaluated and nobody listed means every
named administrator needs the second factor.

Who counts: enabled privileged accounts of people. Not service accounts (an account with an
SPN cannot present a card), and not the built-in Administrator kept in a safe for
emergencies — unless it logged on in the last weeks, which means it is used day to day.
"""

from __future__ import annotations

from carbet.engines.directory.model import UAC_SMARTCARD_REQUIRED, Account, Snapshot
from carbet.engines.directory.rules.common import PASSWORD_ONLY_RULE, is_person, names
from carbet.engines.directory.rules.graph import RID_ADMINISTRATOR, RuleContext, rid_of
from carbet.engines.directory.rules.registry import Evaluation, NotEvaluated, rule
from carbet.engines.directory.scoring import PerObject

PRIVILEGED = "privileged_accounts"
EMERGENCY_ACCOUNT_IDLE_DAYS = 35  # a break-glass account unused for this long stays aside


def _everyday_admin(account: Account, ctx: RuleContext) -> bool:
    if account.is_computer or not is_person(account) or account.spns:
        return False
    if rid_of(account.sid) == RID_ADMINISTRATOR:
        age = ctx.age_days(account.last_logon)
        return age is not None and age <= EMERGENCY_ACCOUNT_IDLE_DAYS
    return True


@rule(
    id=PASSWORD_ONLY_RULE,
    category=PRIVILEGED,
    severity=2,
    points=PerObject(1, floor=5, cap=15),
    title_fr="Administrateurs qui se connectent avec un simple mot de passe",
    title_en="Administrators who sign in with a password alone",
    description_fr=(
        "Ces comptes d'administration ouvrent une session avec leur seul mot de passe : "
        "volé par un courriel piégé ou sur un poste infecté, il suffit à prendre le domaine. "
        "L'annuaire peut exiger un second facteur (carte à puce ou clé de sécurité) que "
        "l'attaquant n'a pas."
    ),
    remediation_fr=(
        "Équiper les administrateurs d'une carte à puce ou d'une clé de sécurité, puis cocher "
        "« Une carte à puce est nécessaire pour ouvrir une session interactive » sur leurs "
        "comptes nominatifs. Le compte Administrateur intégré gardé pour les urgences et les "
        "comptes de service ne sont pas concernés."
    ),
    command="Set-ADUser -Identity <compte> -SmartcardLogonRequired $true",
    needs=("users", "groups"),
)
def privileged_password_only(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    admins = [a for a in ctx.privileged_users if _everyday_admin(a, ctx)]
    if not admins:
        return NotEvaluated("aucun compte d'administration utilisé au quotidien")
    return names([a for a in admins if not a.uac & UAC_SMARTCARD_REQUIRED])
