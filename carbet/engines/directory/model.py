"""What a directory snapshot holds: the collector fills it, the rules read it.

Values are normalised at collection so rules never parse LDAP syntax: times are timezone-aware
``datetime`` (None when never set), SIDs are strings ("S-1-5-21-...-512"), userAccountControl
is an ``int``, multi-valued attributes are lists. ``to_dict``/``from_dict`` give the JSON form
that ``snapshot`` writes (datetimes as ISO 8601 strings). Anything the collector could not read
is recorded in ``Snapshot.gaps`` so a rule can say "not evaluated" rather than "passed".
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_type_hints

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

FORMAT_VERSION = 1

# userAccountControl bits (REFERENCE.md).
UAC_ACCOUNTDISABLE = 0x2
UAC_PASSWD_NOTREQD = 0x20
UAC_ENCRYPTED_TEXT_PWD_ALLOWED = 0x80
UAC_WORKSTATION_TRUST_ACCOUNT = 0x1000
UAC_SERVER_TRUST_ACCOUNT = 0x2000
UAC_DONT_EXPIRE_PASSWORD = 0x10000
UAC_SMARTCARD_REQUIRED = 0x40000
UAC_TRUSTED_FOR_DELEGATION = 0x80000
UAC_NOT_DELEGATED = 0x100000
UAC_USE_DES_KEY_ONLY = 0x200000
UAC_DONT_REQ_PREAUTH = 0x400000
UAC_TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
UAC_PARTIAL_SECRETS_ACCOUNT = 0x4000000  # read-only domain controller


@dataclass
class Account:
    """A user or a computer (computers carry the os_* fields and LAPS expiry)."""

    dn: str
    sam: str  # sAMAccountName
    sid: str
    uac: int = 0
    primary_group_id: int = 513
    pwd_last_set: datetime | None = None
    last_logon: datetime | None = None  # lastLogonTimestamp (replicated, ~14 days precision)
    when_created: datetime | None = None
    spns: list[str] = field(default_factory=list)  # servicePrincipalName
    member_of: list[str] = field(default_factory=list)  # direct group DNs
    sid_history: list[str] = field(default_factory=list)
    admin_count: int | None = None
    supported_enc_types: int | None = None  # msDS-SupportedEncryptionTypes
    allowed_to_delegate_to: list[str] = field(default_factory=list)  # msDS-AllowedToDelegateTo
    # msDS-AllowedToActOnBehalfOfOtherIdentity present (resource-based constrained delegation)
    rbcd: bool = False
    description: str = ""
    is_computer: bool = False
    os_name: str = ""  # operatingSystem
    os_version: str = ""  # operatingSystemVersion
    laps_expiry: datetime | None = None  # ms-Mcs-AdmPwdExpirationTime or msLAPS-...
    is_dc: bool = False  # primary group 516/521 or SERVER_TRUST_ACCOUNT


@dataclass
class Group:
    dn: str
    sam: str
    sid: str
    members: list[str] = field(default_factory=list)  # direct member DNs (users, groups, ...)
    admin_count: int | None = None
    group_type: int = 0


@dataclass
class Trust:
    name: str  # trustPartner
    direction: int = 0  # 1 inbound, 2 outbound, 3 both
    trust_type: int = 0  # 1 downlevel, 2 uplevel (AD), 3 MIT
    attributes: int = 0  # trustAttributes (0x4 QUARANTINED_DOMAIN = SID filtering, 0x8 forest…)
    sid: str = ""
    when_changed: datetime | None = None


@dataclass
class Gpo:
    dn: str
    name: str  # displayName
    guid: str  # the {GUID} part of the cn
    file_sys_path: str = ""  # gPCFileSysPath
    flags: int = 0


@dataclass
class PasswordPolicy:
    """Default domain policy or a fine-grained one (PSO, msDS-PasswordSettings)."""

    name: str = "default"
    min_length: int = 0
    history: int = 0
    max_age_days: float | None = None  # None: never expires
    min_age_days: float = 0
    complexity: bool = False
    reversible: bool = False
    lockout_threshold: int = 0  # 0: no lockout
    lockout_duration_minutes: float | None = None
    lockout_window_minutes: float | None = None
    applies_to: list[str] = field(default_factory=list)  # PSO msDS-PSOAppliesTo DNs
    precedence: int | None = None


@dataclass
class Ace:
    """One access control entry of a security descriptor, as far as the audit needs it."""

    trustee: str  # SID
    kind: str  # "allow" | "deny" | "allow_object" | "deny_object"
    mask: int
    object_type: str = ""  # GUID (extended right or property set), lower case
    inherited: bool = False


@dataclass
class Descriptor:
    owner: str = ""  # SID
    dacl: list[Ace] = field(default_factory=list)


@dataclass
class DnsZone:
    name: str
    dynamic_update: str = ""  # "none" | "secure" | "nonsecure_and_secure" | ""
    dn: str = ""


@dataclass
class CertTemplate:
    name: str
    enrollee_supplies_subject: bool = False  # CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT
    client_auth: bool = False  # EKU allows client authentication (or any purpose)
    manager_approval: bool = False
    enroll_sids: list[str] = field(default_factory=list)  # SIDs with Enroll / AutoEnroll
    published: bool = True


@dataclass
class Domain:
    dns_name: str
    netbios: str = ""
    sid: str = ""
    dn: str = ""
    domain_functional_level: int | None = None  # msDS-Behavior-Version of the domain head
    forest_functional_level: int | None = None
    machine_account_quota: int | None = None  # ms-DS-MachineAccountQuota
    ds_heuristics: str = ""
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    krbtgt_pwd_last_set: datetime | None = None
    laps_schema: bool = False  # legacy ms-Mcs-AdmPwd or Windows LAPS attributes exist
    adcs_present: bool = False
    recycle_bin: bool | None = None
    # Members of "Pre-Windows 2000 Compatible Access" (S-1-5-32-554), as SIDs/DNs.
    pre2000_members: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    """One collection of one domain at one moment: everything the rules may look at."""

    domain: Domain
    collected_at: datetime
    collector: str = "carbet"  # "carbet x.y", "pingcastle import", "crafted (tests)"
    format_version: int = FORMAT_VERSION
    users: list[Account] = field(default_factory=list)
    computers: list[Account] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    trusts: list[Trust] = field(default_factory=list)
    gpos: list[Gpo] = field(default_factory=list)
    psos: list[PasswordPolicy] = field(default_factory=list)
    domain_descriptor: Descriptor | None = None
    adminsdholder_descriptor: Descriptor | None = None
    dns_zones: list[DnsZone] = field(default_factory=list)
    cert_templates: list[CertTemplate] = field(default_factory=list)
    # Group Policy Preferences files with a cpassword: {"gpo", "path", "user"} (never the secret)
    gpp_passwords: list[dict[str, str]] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # what could not be read, and why
    pseudonymised: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {key: _encode(item) for key, item in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """Rebuild from JSON; raises ValueError (with the field's path) on malformed content."""
        return _decode(cls, data, "snapshot")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def _decode[D: DataclassInstance](cls: type[D], data: Any, path: str) -> D:
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object")
    hints = get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _decode_value(hints[f.name], data[f.name], f"{path}.{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _decode_value(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode_value(inner, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list")
        return [_decode_value(args[0], item, f"{path}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object")
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode(hint, value, path)
    scalar = _SCALARS.get(hint)
    return scalar(value, path) if scalar else value


def _decode_datetime(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{path}: not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{path}: date-time without a time zone")
    return parsed


def _decode_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{path}: expected true or false")
    return value


def _decode_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{path}: expected an integer")
    return value


def _decode_float(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: expected a number")
    return float(value)


def _decode_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string")
    return value


# The scalar field types a snapshot holds, each with its checked decoder (others pass as read).
_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    datetime: _decode_datetime,
    bool: _decode_bool,
    int: _decode_int,
    float: _decode_float,
    str: _decode_str,
}
