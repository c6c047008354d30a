"""Import a PingCastle healthcheck XML report as a Carbet analysis.

Structures that already run PingCastle upload its ``ad_hc_<domain>.xml`` report; the result has
the same shape as ``analysis.analyse`` so the score history stays one. Each PingCastle risk rule
maps to the Carbet rule that checks the same thing (several PingCastle rules may merge into
one, e.g. the S-OS-* family); the others keep the id ``pingcastle.<RiskId>``. Scores and the
maturity level are PingCastle's own, as reported.

The file is untrusted: it is parsed with defusedxml (no DTD, no entities, no external
references), its size and rule count are bounded, and any problem raises
:class:`PingCastleError` with a message a user can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from carbet.engines.directory import scoring
from carbet.engines.directory.analysis import AnalysisResult, RuleFinding
from carbet.engines.directory.rules.registry import all_rules

MAX_BYTES = 64 * 1024 * 1024
MAX_RULES = 2000
MAX_DETAILS = 5000
ROOT = "HealthcheckData"
CATEGORY_MAP = {
    "StaleObjects": "stale_objects",
    "PrivilegedAccounts": "privileged_accounts",
    "Trusts": "trusts",
    "Anomalies": "anomalies",
}
SCORE_FIELDS = {
    "global": "GlobalScore",
    "stale_objects": "StaleObjectsScore",
    "privileged_accounts": "PrivilegiedGroupScore",  # sic: PingCastle's spelling
    "trusts": "TrustScore",
    "anomalies": "AnomalyScore",
}
# PingCastle RiskId → Carbet rule id, where both check the same weakness.
RULE_MAP = {
    "S-Inactive": "vuln1_user_accounts_dormant",
    "S-C-Inactive": "stale_computers_inactive",
    "S-PwdNeverExpires": "vuln2_dont_expire",
    "S-PwdNotRequired": "password_not_required",
    "S-Reversible": "vuln3_reversible_password",
    "A-ReversiblePwd": "vuln3_reversible_password",
    "S-DesEnabled": "vuln2_kerberos_properties_deskey",
    "S-NoPreAuth": "vuln2_kerberos_properties_preauth",
    "S-PrimaryGroup": "vuln3_primary_group_id_nochange",
    "S-C-PrimaryGroup": "vuln3_primary_group_id_nochange",
    "S-SIDHistory": "vuln3_sidhistory_present",
    "T-SIDHistoryUnknownDomain": "vuln3_sidhistory_present",
    "S-OS-NT": "obsolete_os_legacy",
    "S-OS-2000": "obsolete_os_legacy",
    "S-OS-XP": "obsolete_os_legacy",
    "S-OS-2003": "obsolete_os_legacy",
    "S-OS-Vista": "obsolete_os_2008",
    "S-OS-Win7": "obsolete_os_2008",
    "S-OS-2008": "obsolete_os_2008",
    "S-OS-Win8": "obsolete_os_2012",
    "S-OS-2012": "obsolete_os_2012",
    "S-OS-W10": "obsolete_os_windows10",
    "S-DC-2000": "vuln1_warning_dc_obsolete",
    "S-DC-2003": "vuln1_warning_dc_obsolete",
    "S-DC-2008": "vuln1_warning_dc_obsolete",
    "S-DC-2012": "vuln1_warning_dc_obsolete",
    "S-FunctionalLevel1": "vuln1_functional_level",
    "S-FunctionalLevel3": "functional_level_outdated",
    "S-FunctionalLevel4": "functional_level_outdated",
    "S-PwdLastSet-DC": "vuln1_password_change_dc_no_change",
    "S-DC-Inactive": "vuln1_password_change_inactive_dc",
    "S-PwdLastSet-45": "vuln3_password_change_server_no_change_45",
    "S-PwdLastSet-90": "vuln2_password_change_server_no_change_90",
    "S-DC-Inconsistent": "vuln1_dc_inconsistent_uac",
    "P-AdminNum": "vuln1_privileged_members",
    "P-SchemaAdmin": "operators_not_empty",
    "P-OperatorsEmpty": "operators_not_empty",
    "P-Kerberoasting": "vuln1_spn_priv",
    "P-ServiceDomainAdmin": "vuln1_dont_expire_priv",
    "P-AdminPwdTooOld": "vuln1_password_change_priv",
    "P-ProtectedUsers": "vuln3_protected_users",
    "P-Delegated": "privileged_not_delegated",
    "P-DNSAdmin": "vuln4_dnsadmins",
    "P-AdminLogin": "builtin_admin_recently_used",
    "P-Inactive": "privileged_dormant",
    "P-UnconstrainedDelegation": "vuln2_delegation_t4d",
    "P-DelegationDCt2a4d": "vuln1_delegation_t2a4d",
    "P-DelegationDCa2d2": "vuln1_delegation_a2d2",
    "P-DelegationDCsourcedeleg": "vuln1_delegation_sourcedeleg",
    "P-DCOwner": "vuln3_owner",
    "P-RecycleBin": "recycle_bin_disabled",
    "P-DsHeuristicsAdminSDExMask": "vuln1_dsheuristics_bad",
    "T-SIDFiltering": "vuln1_trusts_domain_notfiltered",
    "T-SIDHistoryDangerous": "vuln2_sidhistory_dangerous",
    "T-Inactive": "vuln2_trusts_accounts",
    "T-Downlevel": "trust_downlevel",
    "T-TGTDelegation": "vuln3_trusts_tgt_deleg",
    "A-Krbtgt": "vuln2_krbtgt",
    "A-Guest": "guest_enabled",
    "A-MinPwdLen": "weak_password_policy",
    "A-NoLockout": "no_lockout",
    "A-LAPS-Not-Installed": "laps_not_installed",
    "A-LAPS-Joined-Computers": "laps_coverage",
    "A-PwdGPO": "gpp_passwords",
    "A-PreWin2000Anonymous": "vuln2_compatible_2000_anonymous",
    "A-PreWin2000AuthenticatedUsers": "pre2000_authenticated_users",
    "A-DsHeuristicsAnonymous": "vuln1_dsheuristics_bad",
    "A-DnsZoneUpdate1": "vuln1_dnszone_bad_prop",
    "A-DnsZoneUpdate2": "vuln1_dnszone_bad_prop",
    "A-CertTempCustomSubject": "vuln1_adcs_template_auth_enroll_with_name",
    "A-SmartCardPwdRotation": "vuln4_smartcard_expire_passwords",
    "A-NotEnoughDC": "single_dc",
}


class PingCastleError(ValueError):
    """The file is not a usable PingCastle healthcheck report (the message says why)."""


def parse(data: bytes) -> AnalysisResult:
    root = _parse_xml(data)
    domain = _text(root, "DomainFQDN")
    if not domain:
        raise PingCastleError("rapport PingCastle sans nom de domaine (DomainFQDN)")
    findings = _findings(root)
    computed = scoring.category_scores((f.category, f.points) for f in findings)
    scores = {key: _score(root, field, computed[key]) for key, field in SCORE_FIELDS.items()}
    maturity = _int(root, "MaturityLevel", None)
    level = scoring.anssi_level(f.level for f in findings if f.anssi)
    if maturity is not None:
        if not 1 <= maturity <= 5:
            raise PingCastleError(f"niveau de maturité hors de 1 à 5 : {maturity}")
        level = maturity
    engine = _text(root, "EngineVersion")
    return AnalysisResult(
        domain=domain,
        anssi_level=level,
        scores=scores,
        findings=sorted(findings, key=RuleFinding.sort_key),
        not_evaluated=[],
        anssi_level_without_exceptions=level,
        collected_at=_date(_text(root, "GenerationDate")),
        source=f"pingcastle {engine}".strip(),
        rules_evaluated=0,
    )


def _parse_xml(data: bytes) -> Element:
    if not isinstance(data, bytes | bytearray):
        raise PingCastleError("le rapport doit être fourni en octets")
    if len(data) > MAX_BYTES:
        raise PingCastleError(f"rapport trop volumineux (plus de {MAX_BYTES // 1024 // 1024} Mo)")
    if not data.strip():
        raise PingCastleError("fichier vide")
    try:
        # defusedxml has no type information; its fromstring returns the standard library's
        # Element (it only hardens the standard parser).
        root: Element = fromstring(
            bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise PingCastleError(
            f"rapport refusé : construction XML dangereuse ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        raise PingCastleError(f"ce fichier n'est pas un XML valide ({exc})") from None
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise PingCastleError(f"ce fichier n'est pas un XML lisible ({exc})") from None
    if _local(root.tag) != ROOT:
        raise PingCastleError(
            f"ce n'est pas un rapport healthcheck PingCastle (élément racine "
            f"« {_local(root.tag)[:60]} » au lieu de « {ROOT} »)"
        )
    return root


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _child(parent: Element, name: str) -> Element | None:
    for child in parent:
        if _local(child.tag) == name:
            return child
    return None


def _text(parent: Element, name: str) -> str:
    child = _child(parent, name)
    return (child.text or "").strip() if child is not None else ""


def _int(parent: Element, name: str, default: int | None) -> int | None:
    text = _text(parent, name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise PingCastleError(f"valeur non entière pour {name} : {text[:40]!r}") from None


def _score(root: Element, name: str, computed: int) -> int:
    value = _int(root, name, None)
    if value is None:
        return computed
    if not 0 <= value <= 100:
        raise PingCastleError(f"score {name} hors de 0 à 100 : {value}")
    return value


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    except ValueError:
        raise PingCastleError(f"date de génération illisible : {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _severity_from_points(points: int) -> int:
    for threshold, severity in ((40, 4), (20, 3), (10, 2), (1, 1)):
        if points >= threshold:
            return severity
    return 0


def _count_in(rationale: str) -> int:
    numbers = re.findall(r"\d+", rationale)
    return int(numbers[-1]) if numbers else 1


def _findings(root: Element) -> list[RuleFinding]:
    container = _child(root, "RiskRules")
    items = (
        [] if container is None else [c for c in container if _local(c.tag).endswith("RiskRule")]
    )
    if len(items) > MAX_RULES:
        raise PingCastleError(f"trop de règles dans le rapport (plus de {MAX_RULES})")
    rules = all_rules()
    merged: dict[str, RuleFinding] = {}
    for item in items:
        risk_id = _text(item, "RiskId")
        if not risk_id:
            raise PingCastleError("règle PingCastle sans identifiant (RiskId)")
        points = _int(item, "Points", 0) or 0
        if points < 0:
            raise PingCastleError(f"{risk_id} : points négatifs")
        rationale = _text(item, "Rationale")
        details_node = _child(item, "Details")
        details = [] if details_node is None else [(d.text or "").strip() for d in details_node]
        details = [d for d in details if d][:MAX_DETAILS]
        total = len(details) or _count_in(rationale)
        carbet_id = RULE_MAP.get(risk_id)
        existing = merged.get(carbet_id or f"pingcastle.{risk_id}")
        if existing is not None:
            existing.points += points
            existing.objects.extend(details)
            existing.objects_total += total
            existing.description_fr += f"\n{risk_id} : {rationale}"
            continue
        if carbet_id in rules:
            definition = rules[carbet_id]
            finding = RuleFinding(
                rule=definition.id,
                anssi=definition.anssi,
                level=definition.level,
                category=definition.category,
                points=points,
                severity=definition.severity,
                title_fr=definition.title_fr,
                title_en=definition.title_en,
                description_fr=f"{definition.description_fr}\n{risk_id} : {rationale}",
                remediation_fr=definition.remediation_fr,
                command=definition.command,
                objects=details,
                objects_total=total,
                exploitable_now=definition.exploitable_now,
                points_model="PingCastle",
            )
        else:
            category = CATEGORY_MAP.get(_text(item, "Category"), "anomalies")
            finding = RuleFinding(
                rule=f"pingcastle.{risk_id}",
                anssi="",
                level=None,
                category=category,
                points=points,
                severity=_severity_from_points(points),
                title_fr=rationale or f"Règle PingCastle {risk_id}",
                title_en=rationale or f"PingCastle rule {risk_id}",
                description_fr=(
                    f"Règle PingCastle {risk_id} sans équivalent Carbet : voir le rapport "
                    f"PingCastle pour le détail. {rationale}"
                ).strip(),
                remediation_fr="Suivre la recommandation du rapport PingCastle pour cette règle.",
                command="",
                objects=details,
                objects_total=total,
                exploitable_now=False,
                points_model="PingCastle",
            )
        merged[finding.rule] = finding
    return list(merged.values())
