"""The forest-wide parts of a collection: dSHeuristics, the recycle bin, DNS zones, AD CS
certificate templates and (over SMB, when possible) SYSVOL Group Policy Preferences files.

Split from ``collector`` to keep each module readable; ``collect_extra`` is called by
``collector.Session.collect`` with the session it uses for every search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ldap3
from ldap3.protocol.microsoft import security_descriptor_control

from carbet.engines.directory import collector_decode as decode
from carbet.engines.directory import gpp, secdesc
from carbet.engines.directory.model import CertTemplate, DnsZone, Snapshot

if TYPE_CHECKING:
    from carbet.engines.directory.collector import Session

HEURISTICS_ATTRIBUTES = ("dSHeuristics",)
FEATURE_ATTRIBUTES = ("msDS-EnabledFeatureBL",)
ZONE_ATTRIBUTES = ("name", "dNSProperty")
TEMPLATE_ATTRIBUTES = (
    "cn",
    "displayName",
    "msPKI-Certificate-Name-Flag",
    "msPKI-Enrollment-Flag",
    "pKIExtendedKeyUsage",
    "msPKI-Certificate-Application-Policy",
    "nTSecurityDescriptor",
)
ENROLLMENT_SERVICE_ATTRIBUTES = ("cn", "certificateTemplates", "dNSHostName")
ATTRIBUTE_LISTS = {
    "heuristics": HEURISTICS_ATTRIBUTES,
    "feature": FEATURE_ATTRIBUTES,
    "dns_zone": ZONE_ATTRIBUTES,
    "cert_template": TEMPLATE_ATTRIBUTES,
    "enrollment_service": ENROLLMENT_SERVICE_ATTRIBUTES,
}

# Zones that are not real DNS zones of the domain.
_SKIPPED_ZONES = {"rootdnsservers", "..trustanchors"}
CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT = 0x1
CT_FLAG_PEND_ALL_REQUESTS = 0x2  # manager approval
# EKUs that let a certificate authenticate a user (or anything, when the list is empty).
AUTHENTICATION_EKUS = {
    "1.3.6.1.5.5.7.3.2",  # client authentication
    "1.3.6.1.5.2.3.4",  # PKINIT client authentication
    "1.3.6.1.4.1.311.20.2.2",  # smart card logon
    "2.5.29.37.0",  # any purpose
}
ENROLL_RIGHTS = {
    "0e10c968-78fb-11d2-90d4-00c04f79dc55",  # Certificate-Enrollment
    "a05b8cc2-17bc-4802-a710-e7c15ab866a2",  # Certificate-AutoEnrollment
}
RIGHT_CONTROL_ACCESS = 0x100
RIGHT_GENERIC_ALL = 0x10000000


def collect_extra(
    session: Session, snapshot: Snapshot, base: str, config: str, root: decode.Raw
) -> None:
    from carbet.engines.directory.collector import SearchRefused

    domain = snapshot.domain
    services = f"CN=Services,{config}"
    directory_service = f"CN=Directory Service,CN=Windows NT,{services}"
    try:
        heuristics = session.read(directory_service, HEURISTICS_ATTRIBUTES) or {}
        domain.ds_heuristics = decode.text(heuristics, "dsheuristics")
        feature = session.read(
            f"CN=Recycle Bin Feature,CN=Optional Features,{directory_service}", FEATURE_ATTRIBUTES
        )
        domain.recycle_bin = None if feature is None else bool(feature.get("msds-enabledfeaturebl"))
    except SearchRefused as exc:
        session.gap("dSHeuristics not readable", exc)
    session.progress("dns", 0)
    forest_root = decode.text(root, "rootdomainnamingcontext") or base
    contexts = {c.lower() for c in decode.texts(root, "namingcontexts")}
    for partition in (f"DC=DomainDnsZones,{base}", f"DC=ForestDnsZones,{forest_root}"):
        if contexts and partition.lower() not in contexts:
            continue
        _zones(session, snapshot, partition, SearchRefused)
    _zones(session, snapshot, f"CN=MicrosoftDNS,CN=System,{base}", SearchRefused)
    session.progress("pki", 0)
    _certificates(session, snapshot, f"CN=Public Key Services,{services}", SearchRefused)
    session.progress("sysvol", 0)
    if session.sysvol is not None:
        if session.policy is None:  # set by ``collect``, which always has a policy
            raise ValueError("a SYSVOL scan needs the connect-time policy")
        found, problem = gpp.scan_sysvol(
            **session.sysvol, domain=domain.dns_name, policy=session.policy
        )
        snapshot.gpp_passwords = found
        if problem:
            session.gap("SYSVOL (Group Policy Preferences)", problem)
    else:
        session.gap("SYSVOL (Group Policy Preferences)", "not scanned")


def _zones(session: Session, snapshot: Snapshot, where: str, refused: type[Exception]) -> None:
    seen = {zone.name for zone in snapshot.dns_zones}
    try:
        for dn, raw in session.search(where, "(objectClass=dnsZone)", ZONE_ATTRIBUTES):
            name = decode.text(raw, "name")
            if not name or name.lower() in _SKIPPED_ZONES or name in seen:
                continue
            seen.add(name)
            snapshot.dns_zones.append(
                DnsZone(
                    name=name,
                    dynamic_update=secdesc.zone_dynamic_update(raw.get("dnsproperty", [])),
                    dn=dn,
                )
            )
    except decode.DecodeError as exc:
        session.gap(f"DNS zones in {where}", exc)
    except refused as exc:
        if getattr(exc, "code", None) != 32:  # noSuchObject: no zones stored there
            session.gap(f"DNS zones in {where} not readable", exc)


def _certificates(session: Session, snapshot: Snapshot, pki: str, refused: type[Exception]) -> None:
    published: set[str] = set()
    try:
        for _, raw in session.search(
            f"CN=Enrollment Services,{pki}", "(objectClass=pKIEnrollmentService)",
            ENROLLMENT_SERVICE_ATTRIBUTES, scope=ldap3.LEVEL,
        ):  # fmt: skip
            snapshot.domain.adcs_present = True
            published.update(t.lower() for t in decode.texts(raw, "certificatetemplates"))
    except refused as exc:
        if getattr(exc, "code", None) != 32:
            session.gap("AD CS enrollment services not readable", exc)
        return
    if not snapshot.domain.adcs_present:
        return
    controls = security_descriptor_control(sdflags=0x04)
    try:
        for dn, raw in session.search(
            f"CN=Certificate Templates,{pki}", "(objectClass=pKICertificateTemplate)",
            TEMPLATE_ATTRIBUTES, scope=ldap3.LEVEL, controls=controls,
        ):  # fmt: skip
            try:
                snapshot.cert_templates.append(_template(raw, published))
            except (decode.DecodeError, secdesc.FormatError) as exc:
                session.gap(f"certificate template {dn[:120]} skipped", exc)
    except refused as exc:
        session.gap("certificate templates not readable", exc)


def _template(raw: decode.Raw, published: set[str]) -> CertTemplate:
    name = decode.text(raw, "cn")
    ekus = set(decode.texts(raw, "pkiextendedkeyusage")) | set(
        decode.texts(raw, "mspki-certificate-application-policy")
    )
    enroll: list[str] = []
    values = raw.get("ntsecuritydescriptor")
    if values:
        for ace in secdesc.parse_descriptor(values[0]).dacl:
            if ace.kind not in {"allow", "allow_object"}:
                continue
            if ace.mask & RIGHT_GENERIC_ALL or (
                ace.mask & RIGHT_CONTROL_ACCESS
                and (not ace.object_type or ace.object_type in ENROLL_RIGHTS)
            ):
                if ace.trustee not in enroll:
                    enroll.append(ace.trustee)
    return CertTemplate(
        name=name,
        enrollee_supplies_subject=bool(
            (decode.integer(raw, "mspki-certificate-name-flag", 0) or 0)
            & CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT
        ),
        client_auth=not ekus or bool(ekus & AUTHENTICATION_EKUS),
        manager_approval=bool(
            (decode.integer(raw, "mspki-enrollment-flag", 0) or 0) & CT_FLAG_PEND_ALL_REQUESTS
        ),
        enroll_sids=enroll,
        published=name.lower() in published,
    )
