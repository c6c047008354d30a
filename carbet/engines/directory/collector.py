"""Read-only collection of an Active Directory domain into a ``Snapshot``.

One LDAPS (or StartTLS) connection with a simple bind (NTLM for Windows domains, Kerberos when
the ``gssapi`` module is installed), then streamed paged searches with **explicit** attribute
lists — never "*" — each entry decoded at once into the model, so memory holds the snapshot and
one page. Nothing is ever written to the directory (the connection is opened read-only).

What the account may not read becomes a gap in ``Snapshot.gaps`` (the rules then say "not
evaluated"), and an object whose values are malformed is skipped with a gap; a broken
connection, refused bind or TLS failure raises ``CollectError``: there is no partial snapshot
presented as complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.protocol.microsoft import security_descriptor_control

from carbet.engines.directory import collector_decode as decode
from carbet.engines.directory import collector_extra, secdesc
from carbet.engines.directory.collector_connect import (  # noqa: F401  (the collector's API)
    CollectError,
    ServerRefused,
    check_peer_name,
    connect,
    explain,
    split_server,
)
from carbet.engines.directory.model import Descriptor, Domain, Snapshot
from carbet.engines.netpolicy import ConnectPolicy, ScopeRefused

Progress = Callable[[str, int], None]

COLLECTOR_NAME = "carbet 1"
SD_OWNER_DACL = 0x01 | 0x04  # LDAP_SERVER_SD_FLAGS: OWNER + DACL (readable without SACL rights)
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
LDAP_NO_SUCH_OBJECT = 32
LDAP_ACCESS_CODES = {50, 48, 8}  # insufficientAccessRights, inappropriateAuthentication, ...

ROOT_DSE_ATTRIBUTES = (
    "defaultNamingContext",
    "configurationNamingContext",
    "schemaNamingContext",
    "rootDomainNamingContext",
    "namingContexts",
    "domainFunctionality",
    "forestFunctionality",
    "dnsHostName",
)
DOMAIN_ATTRIBUTES = (
    "objectSid",
    "minPwdLength",
    "pwdHistoryLength",
    "maxPwdAge",
    "minPwdAge",
    "pwdProperties",
    "lockoutThreshold",
    "lockoutDuration",
    "lockOutObservationWindow",
    "ms-DS-MachineAccountQuota",
    "msDS-Behavior-Version",
)
ACCOUNT_ATTRIBUTES = (
    "sAMAccountName",
    "objectSid",
    "userAccountControl",
    "primaryGroupID",
    "pwdLastSet",
    "lastLogonTimestamp",
    "whenCreated",
    "servicePrincipalName",
    "memberOf",
    "sIDHistory",
    "adminCount",
    "msDS-SupportedEncryptionTypes",
    "msDS-AllowedToDelegateTo",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "description",
)
COMPUTER_ATTRIBUTES = (*ACCOUNT_ATTRIBUTES, "operatingSystem", "operatingSystemVersion")
LAPS_ATTRIBUTES = ("ms-Mcs-AdmPwdExpirationTime", "msLAPS-PasswordExpirationTime")
GROUP_ATTRIBUTES = ("sAMAccountName", "objectSid", "member", "adminCount", "groupType")
TRUST_ATTRIBUTES = (
    "cn",
    "trustPartner",
    "trustDirection",
    "trustType",
    "trustAttributes",
    "securityIdentifier",
    "whenChanged",
)
GPO_ATTRIBUTES = ("cn", "displayName", "gPCFileSysPath", "flags")
PSO_ATTRIBUTES = (
    "cn",
    "msDS-MinimumPasswordLength",
    "msDS-PasswordHistoryLength",
    "msDS-MaximumPasswordAge",
    "msDS-MinimumPasswordAge",
    "msDS-PasswordComplexityEnabled",
    "msDS-PasswordReversibleEncryptionEnabled",
    "msDS-LockoutThreshold",
    "msDS-LockoutDuration",
    "msDS-LockoutObservationWindow",
    "msDS-PSOAppliesTo",
    "msDS-PasswordSettingsPrecedence",
)
DESCRIPTOR_ATTRIBUTES = ("nTSecurityDescriptor",)
SCHEMA_ATTRIBUTES = ("lDAPDisplayName",)
CROSSREF_ATTRIBUTES = ("nETBIOSName", "dnsRoot")
WELL_KNOWN_ATTRIBUTES = ("objectSid",)
# Every attribute list the collector may request (a test checks none asks for "everything").
ATTRIBUTE_LISTS = {
    "root_dse": ROOT_DSE_ATTRIBUTES,
    "domain": DOMAIN_ATTRIBUTES,
    "user": ACCOUNT_ATTRIBUTES,
    "computer": (*COMPUTER_ATTRIBUTES, *LAPS_ATTRIBUTES),
    "group": GROUP_ATTRIBUTES,
    "trust": TRUST_ATTRIBUTES,
    "gpo": GPO_ATTRIBUTES,
    "pso": PSO_ATTRIBUTES,
    "descriptor": DESCRIPTOR_ATTRIBUTES,
    "schema": SCHEMA_ATTRIBUTES,
    "crossref": CROSSREF_ATTRIBUTES,
    "well_known": WELL_KNOWN_ATTRIBUTES,
    **collector_extra.ATTRIBUTE_LISTS,
}

USER_FILTER = "(sAMAccountType=805306368)"  # SAM_NORMAL_USER_ACCOUNT
COMPUTER_FILTER = "(sAMAccountType=805306369)"  # SAM_MACHINE_ACCOUNT
PRE2000_SID = "S-1-5-32-554"


class SearchRefused(Exception):
    """One search failed with an LDAP result code (the collector turns it into a gap)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def collect(
    server: str,
    port: int | None,
    user: str,
    password: str,
    *,
    starttls: bool = False,
    ca_file: str | None = None,
    insecure: bool = False,
    base_dn: str | None = None,
    page_size: int = 1000,
    progress: Progress | None = None,
    now: datetime | None = None,
    auth: str = "simple",
    sysvol: bool = True,
    policy: ConnectPolicy,
    nameserver: str | None = None,
) -> Snapshot:
    """Collect one domain. ``server`` may carry ":port"; LDAPS on 636 unless ``starttls``.

    ``policy``: where the collector may connect (``ConnectPolicy.open()`` only for the
    analyst's own ``carbet ad collect``); the server's name is resolved once (``nameserver``,
    else the system resolver) and LDAP and SMB both go to the one address the policy allowed.
    ``sysvol``: also look for Group Policy Preferences passwords over SMB (read-only, same
    account); when SMB is not possible the snapshot records a gap instead.
    """
    report = progress or (lambda stage, count: None)
    connection = connect(
        server, port, user, password, starttls=starttls, ca_file=ca_file,
        insecure=insecure, auth=auth, policy=policy, nameserver=nameserver,
    )  # fmt: skip
    try:
        session = Session(connection, page_size=page_size, progress=report)
        session.policy = policy
        if sysvol:
            # The address LDAP was opened to (already checked), never a second resolution.
            session.sysvol = {"host": split_server(server, port)[0],
                              "address": connection.server.host,
                              "user": user, "password": password}  # fmt: skip
        return session.collect(base_dn=base_dn, now=now or datetime.now(UTC))
    except ScopeRefused as exc:
        refusal = exc.refusal
        raise ServerRefused(
            f"{refusal.message} : SYSVOL non lu, mot de passe non envoyé en SMB "
            f"(SMB connection refused by the scope policy)",
            [refusal],
            [refusal.address],
        ) from None
    except ldap_errors.LDAPException as exc:
        raise CollectError(explain(exc)) from None
    except SearchRefused as exc:
        # Users, computers or groups could not be read in full: no partial snapshot.
        raise CollectError(f"recherche refusée par l'annuaire / search refused: {exc}") from None
    finally:
        try:
            connection.unbind()
        except ldap_errors.LDAPException:
            pass


def fsp_sid(dn: str) -> str | None:
    """The SID named by a foreign security principal's DN ("CN=S-1-5-7,CN=ForeignSecurity...")."""
    first, _, rest = dn.partition(",")
    if rest.lower().startswith("cn=foreignsecurityprincipals,") and first[:7].upper() == "CN=S-1-":
        return first[3:]
    return None


class Session:
    """One bound connection and the snapshot being filled."""

    def __init__(self, connection: ldap3.Connection, *, page_size: int, progress: Progress):
        self.connection = connection
        self.page_size = max(1, min(page_size, 5000))
        self.progress = progress
        self.gaps: list[str] = []
        self.sysvol: dict[str, str] | None = None  # SMB target for the GPP scan, if wanted
        self.policy: ConnectPolicy | None = None  # where SMB may connect (set by ``collect``)

    # --- searching ---
    def search(
        self,
        base: str,
        ldap_filter: str,
        attributes: tuple[str, ...],
        *,
        scope: str = ldap3.SUBTREE,
        controls: list[Any] | None = None,
        paged: bool = True,
    ) -> Iterator[tuple[str, decode.Raw]]:
        """Yield (dn, raw attributes with lower-case names) page by page."""
        if "*" in attributes or "+" in attributes or not attributes:
            raise ValueError("explicit attribute lists only")
        cookie: bytes | None = None
        while True:
            ok = self.connection.search(
                base, ldap_filter, search_scope=scope, attributes=list(attributes),
                paged_size=self.page_size if paged else None,
                paged_cookie=cookie if paged else None, controls=controls,
            )  # fmt: skip
            result = self.connection.result or {}
            code = result.get("result", 0)
            if not ok and code not in (0,):
                if code in (-1, None) or "socket" in str(result.get("description", "")):
                    raise CollectError("connexion perdue pendant la collecte / connection lost")
                raise SearchRefused(code, f"{result.get('description', '')} ({code})")
            for item in self.connection.response or []:
                if item.get("type") == "searchResEntry":
                    raw = {name.lower(): values for name, values in item["raw_attributes"].items()}
                    yield item["dn"], raw
            if not paged:
                return
            cookie = (
                result.get("controls", {}).get(PAGED_RESULTS_OID, {}).get("value", {}).get("cookie")
            )
            if not cookie:
                return

    def read(
        self, dn: str, attributes: tuple[str, ...], controls: list[Any] | None = None
    ) -> decode.Raw | None:
        """One object's attributes, or None when it does not exist."""
        try:
            for _, raw in self.search(
                dn, "(objectClass=*)", attributes, scope=ldap3.BASE, controls=controls, paged=False
            ):
                return raw
        except SearchRefused as exc:
            if exc.code == LDAP_NO_SUCH_OBJECT:
                return None
            raise
        return None

    def gap(self, what: str, reason: object) -> None:
        self.gaps.append(f"{what}: {reason}")

    # --- collection ---
    def collect(self, *, base_dn: str | None, now: datetime) -> Snapshot:
        self.progress("domain", 0)
        root = self.read("", ROOT_DSE_ATTRIBUTES) or {}
        base = base_dn or decode.text(root, "defaultnamingcontext")
        config = decode.text(root, "configurationnamingcontext")
        if not base or not config:
            raise CollectError("l'annuaire ne donne pas ses contextes de nommage (rootDSE)")
        domain = self.domain_head(base, config, root)
        snapshot = Snapshot(domain=domain, collected_at=now, collector=COLLECTOR_NAME)
        laps = self.laps_attributes(decode.text(root, "schemanamingcontext"))
        domain.laps_schema = bool(laps)
        self.accounts(snapshot, base, laps)
        krbtgt = next((u for u in snapshot.users if u.sam.lower() == "krbtgt"), None)
        domain.krbtgt_pwd_last_set = krbtgt.pwd_last_set if krbtgt else None
        self.groups(snapshot, base)
        pre2000 = next((g for g in snapshot.groups if g.sid == PRE2000_SID), None)
        if pre2000:
            well_known = self.well_known_principals(config)
            domain.pre2000_members = [
                fsp_sid(m) or well_known.get(m.lower(), m) for m in pre2000.members
            ]
        self.small_objects(snapshot, base)
        self.progress("descriptors", 0)
        snapshot.domain_descriptor = self.descriptor(base, "domain head")
        snapshot.adminsdholder_descriptor = self.descriptor(
            f"CN=AdminSDHolder,CN=System,{base}", "AdminSDHolder"
        )
        collector_extra.collect_extra(self, snapshot, base, config, root)
        snapshot.gaps = self.gaps
        self.progress("done", len(snapshot.users) + len(snapshot.computers))
        return snapshot

    def domain_head(self, base: str, config: str, root: decode.Raw) -> Domain:
        head = self.read(base, DOMAIN_ATTRIBUTES)
        if head is None:
            raise CollectError(f"la base {base!r} n'existe pas dans cet annuaire")
        labels = [part[3:] for part in base.split(",") if part[:3].upper() == "DC="]
        domain = Domain(
            dns_name=".".join(labels).lower(),
            dn=base,
            sid=decode.sid(head),
            domain_functional_level=decode.integer(head, "msds-behavior-version")
            if head.get("msds-behavior-version")
            else decode.integer(root, "domainfunctionality"),
            forest_functional_level=decode.integer(root, "forestfunctionality"),
            machine_account_quota=decode.integer(head, "ms-ds-machineaccountquota"),
            password_policy=decode.domain_policy(head),
        )
        partitions = f"CN=Partitions,{config}"
        try:
            for _, raw in self.search(
                partitions, f"(&(objectClass=crossRef)(nCName={_escape(base)}))",
                CROSSREF_ATTRIBUTES, scope=ldap3.LEVEL, paged=False,
            ):  # fmt: skip
                domain.netbios = decode.text(raw, "netbiosname")
        except SearchRefused as exc:
            self.gap("netbios name", exc)
        return domain

    def well_known_principals(self, config: str) -> dict[str, str]:
        """DN (lower case) → SID of the well-known principals (Everyone, Anonymous Logon...)
        that Samba and AD put in group member lists instead of foreign security principals."""
        found: dict[str, str] = {}
        try:
            for dn, raw in self.search(
                f"CN=WellKnown Security Principals,{config}", "(objectClass=*)",
                WELL_KNOWN_ATTRIBUTES, scope=ldap3.LEVEL,
            ):  # fmt: skip
                try:
                    found[dn.lower()] = decode.sid(raw)
                except decode.DecodeError:
                    continue
        except SearchRefused as exc:
            self.gap("well-known security principals", exc)
        return found

    def laps_attributes(self, schema: str) -> tuple[str, ...]:
        """The LAPS expiry attributes this forest's schema defines (legacy and/or Windows)."""
        if not schema:
            return ()
        found = []
        ldap_filter = "(|" + "".join(f"(lDAPDisplayName={a})" for a in LAPS_ATTRIBUTES) + ")"
        try:
            for _, raw in self.search(schema, ldap_filter, SCHEMA_ATTRIBUTES, scope=ldap3.LEVEL):
                found.append(decode.text(raw, "ldapdisplayname"))
        except SearchRefused as exc:
            self.gap("LAPS schema", exc)
        return tuple(a for a in LAPS_ATTRIBUTES if a in found)

    def accounts(self, snapshot: Snapshot, base: str, laps: tuple[str, ...]) -> None:
        laps_lower = tuple(a.lower() for a in laps)
        for stage, ldap_filter, attributes, target, is_computer in (
            ("users", USER_FILTER, ACCOUNT_ATTRIBUTES, snapshot.users, False),
            ("computers", COMPUTER_FILTER, (*COMPUTER_ATTRIBUTES, *laps), snapshot.computers, True),
        ):
            self.progress(stage, 0)
            skipped = 0
            for dn, raw in self.search(base, ldap_filter, attributes):
                try:
                    target.append(
                        decode.account(dn, raw, is_computer=is_computer, laps_attributes=laps_lower)
                    )
                except decode.DecodeError as exc:
                    skipped += 1
                    if skipped <= 5:
                        self.gap(f"{stage}: {dn[:120]} skipped", exc)
                if len(target) % 1000 == 0 and target:
                    self.progress(stage, len(target))
            if skipped > 5:
                self.gap(stage, f"{skipped} malformed objects skipped")
            self.progress(stage, len(target))

    def groups(self, snapshot: Snapshot, base: str) -> None:
        self.progress("groups", 0)
        for dn, raw in self.search(base, "(objectClass=group)", GROUP_ATTRIBUTES):
            try:
                members = self.members(dn, raw)
                snapshot.groups.append(decode.group(dn, raw, members))
            except decode.DecodeError as exc:
                self.gap(f"groups: {dn[:120]} skipped", exc)
            if len(snapshot.groups) % 1000 == 0:
                self.progress("groups", len(snapshot.groups))
        self.progress("groups", len(snapshot.groups))

    def members(self, dn: str, raw: decode.Raw) -> list[str]:
        """Direct members, following AD's ranged retrieval ("member;range=0-1499")."""
        if "member" in raw:
            return decode.texts(raw, "member")
        ranged = next((key for key in raw if key.startswith("member;range=")), None)
        if ranged is None:
            return []
        members = decode.texts(raw, ranged)
        for _ in range(10_000):  # a bound: 15 million members is beyond any real group
            if ranged.endswith("-*"):
                return members
            upper = ranged.rsplit("-", 1)[1]
            if not upper.isdigit():
                break
            attribute = f"member;range={int(upper) + 1}-*"
            page = self.read(dn, (attribute,)) or {}
            ranged = next((key for key in page if key.startswith("member;range=")), None)
            if ranged is None:
                break
            members.extend(decode.texts(page, ranged))
        self.gap(f"groups: {dn[:120]}", "member list incomplete (ranged retrieval stopped)")
        return members

    def small_objects(self, snapshot: Snapshot, base: str) -> None:
        """Trusts, GPOs and fine-grained password policies."""
        for stage, where, ldap_filter, attributes in (
            ("trusts", f"CN=System,{base}", "(objectClass=trustedDomain)", TRUST_ATTRIBUTES),
            (
                "gpos",
                f"CN=Policies,CN=System,{base}",
                "(objectClass=groupPolicyContainer)",
                GPO_ATTRIBUTES,
            ),
            (
                "psos",
                f"CN=Password Settings Container,CN=System,{base}",
                "(objectClass=msDS-PasswordSettings)",
                PSO_ATTRIBUTES,
            ),
        ):
            self.progress(stage, 0)
            try:
                for dn, raw in self.search(where, ldap_filter, attributes):
                    try:
                        if stage == "trusts":
                            snapshot.trusts.append(decode.trust(raw))
                        elif stage == "gpos":
                            snapshot.gpos.append(decode.gpo(dn, raw))
                        else:
                            snapshot.psos.append(decode.pso(raw))
                    except decode.DecodeError as exc:
                        self.gap(f"{stage}: {dn[:120]} skipped", exc)
            except SearchRefused as exc:
                if exc.code != LDAP_NO_SUCH_OBJECT or stage == "psos":
                    self.gap(f"{stage} not readable", exc)
                continue
            if stage == "psos" and not snapshot.psos:
                # Windows and Samba hide PSOs from non-administrators: none seen ≠ none exist.
                self.gap("psos", "none visible to this account (usually readable by admins only)")

    def descriptor(self, dn: str, what: str) -> Descriptor | None:
        controls = security_descriptor_control(sdflags=SD_OWNER_DACL)
        try:
            raw = self.read(dn, DESCRIPTOR_ATTRIBUTES, controls=controls)
        except SearchRefused as exc:
            self.gap(f"{what} security descriptor not readable", exc)
            return None
        values = (raw or {}).get("ntsecuritydescriptor")
        if not values:
            self.gap(f"{what} security descriptor", "not returned to this account")
            return None
        try:
            return secdesc.parse_descriptor(values[0])
        except secdesc.FormatError as exc:
            self.gap(f"{what} security descriptor malformed", exc)
            return None


def _escape(value: str) -> str:
    """RFC 4515 escaping for a value inside a search filter."""
    escaped: str = ldap3.utils.conv.escape_filter_chars(value)  # ldap3 has no type information
    return escaped
