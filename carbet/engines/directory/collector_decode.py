"""Raw LDAP values → normalised snapshot values (aware datetimes, SID strings, ints).

Every function takes the raw attribute dict of one entry (lower-case names → list of bytes) and
either returns a model object or raises ``DecodeError`` naming the attribute, so the collector
can skip one malformed object, record a gap, and keep the rest of the collection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carbet.engines.directory import secdesc
from carbet.engines.directory.model import (
    UAC_SERVER_TRUST_ACCOUNT,
    Account,
    Gpo,
    Group,
    PasswordPolicy,
    Trust,
)

Raw = dict[str, list[bytes]]

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_NEVER = 0x7FFFFFFFFFFFFFFF
_INTERVAL_NEVER = -0x8000000000000000
_TICKS_PER_DAY = 864_000_000_000
_TICKS_PER_MINUTE = 600_000_000
DC_PRIMARY_GROUPS = {516, 521}  # Domain Controllers, Read-only Domain Controllers


class DecodeError(ValueError):
    pass


def text(raw: Raw, name: str, default: str = "") -> str:
    values = raw.get(name)
    if not values:
        return default
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(f"{name}: not UTF-8") from None


def texts(raw: Raw, name: str) -> list[str]:
    try:
        return [value.decode("utf-8") for value in raw.get(name, [])]
    except UnicodeDecodeError:
        raise DecodeError(f"{name}: not UTF-8") from None


def integer(raw: Raw, name: str, default: int | None = None) -> int | None:
    values = raw.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        raise DecodeError(f"{name}: not an integer") from None


def boolean(raw: Raw, name: str) -> bool:
    return text(raw, name).upper() == "TRUE"


def filetime(raw: Raw, name: str) -> datetime | None:
    """pwdLastSet, lastLogonTimestamp...: 100 ns ticks since 1601; 0 and max mean never."""
    value = integer(raw, name)
    if value is None or value <= 0 or value >= _NEVER:
        return None
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        raise DecodeError(f"{name}: date out of range") from None


def generalized_time(raw: Raw, name: str) -> datetime | None:
    """whenCreated/whenChanged: "20261129084255.0Z"."""
    value = text(raw, name)
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise DecodeError(f"{name}: not a generalized time") from None


def interval_days(raw: Raw, name: str) -> float | None:
    """maxPwdAge-style negative intervals; None when the value means "never"."""
    value = integer(raw, name)
    if value is None or value == 0 or value == _INTERVAL_NEVER:
        return None
    return abs(value) / _TICKS_PER_DAY


def interval_minutes(raw: Raw, name: str) -> float | None:
    value = integer(raw, name)
    if value is None or value == _INTERVAL_NEVER:
        return None  # locked until an administrator unlocks
    return abs(value) / _TICKS_PER_MINUTE


def sid(raw: Raw, name: str = "objectsid") -> str:
    values = raw.get(name)
    if not values:
        return ""
    try:
        return secdesc.sid_to_str(values[0])
    except secdesc.FormatError as exc:
        raise DecodeError(f"{name}: {exc}") from None


def sids(raw: Raw, name: str) -> list[str]:
    try:
        return [secdesc.sid_to_str(value) for value in raw.get(name, [])]
    except secdesc.FormatError as exc:
        raise DecodeError(f"{name}: {exc}") from None


def account(dn: str, raw: Raw, *, is_computer: bool, laps_attributes: tuple[str, ...]) -> Account:
    uac = integer(raw, "useraccountcontrol", 0) or 0
    primary_group = integer(raw, "primarygroupid", 515 if is_computer else 513) or 0
    laps_expiry = None
    for attribute in laps_attributes:
        laps_expiry = laps_expiry or filetime(raw, attribute)
    return Account(
        dn=dn,
        sam=text(raw, "samaccountname"),
        sid=sid(raw),
        uac=uac,
        primary_group_id=primary_group,
        pwd_last_set=filetime(raw, "pwdlastset"),
        last_logon=filetime(raw, "lastlogontimestamp"),
        when_created=generalized_time(raw, "whencreated"),
        spns=texts(raw, "serviceprincipalname"),
        member_of=texts(raw, "memberof"),
        sid_history=sids(raw, "sidhistory"),
        admin_count=integer(raw, "admincount"),
        supported_enc_types=integer(raw, "msds-supportedencryptiontypes"),
        allowed_to_delegate_to=texts(raw, "msds-allowedtodelegateto"),
        rbcd=bool(raw.get("msds-allowedtoactonbehalfofotheridentity")),
        description=text(raw, "description"),
        is_computer=is_computer,
        os_name=text(raw, "operatingsystem"),
        os_version=text(raw, "operatingsystemversion"),
        laps_expiry=laps_expiry,
        is_dc=is_computer
        and (primary_group in DC_PRIMARY_GROUPS or bool(uac & UAC_SERVER_TRUST_ACCOUNT)),
    )


def group(dn: str, raw: Raw, members: list[str]) -> Group:
    return Group(
        dn=dn,
        sam=text(raw, "samaccountname"),
        sid=sid(raw),
        members=members,
        admin_count=integer(raw, "admincount"),
        group_type=integer(raw, "grouptype", 0) or 0,
    )


def trust(raw: Raw) -> Trust:
    return Trust(
        name=text(raw, "trustpartner") or text(raw, "cn"),
        direction=integer(raw, "trustdirection", 0) or 0,
        trust_type=integer(raw, "trusttype", 0) or 0,
        attributes=integer(raw, "trustattributes", 0) or 0,
        sid=sid(raw, "securityidentifier"),
        when_changed=generalized_time(raw, "whenchanged"),
    )


def gpo(dn: str, raw: Raw) -> Gpo:
    cn = text(raw, "cn")
    return Gpo(
        dn=dn,
        name=text(raw, "displayname") or cn,
        guid=cn.strip("{}").lower(),
        file_sys_path=text(raw, "gpcfilesyspath"),
        flags=integer(raw, "flags", 0) or 0,
    )


# pwdProperties bits
_PASSWORD_COMPLEX = 0x1
_PASSWORD_STORE_CLEARTEXT = 0x10


def domain_policy(raw: Raw) -> PasswordPolicy:
    properties = integer(raw, "pwdproperties", 0) or 0
    return PasswordPolicy(
        name="default",
        min_length=integer(raw, "minpwdlength", 0) or 0,
        history=integer(raw, "pwdhistorylength", 0) or 0,
        max_age_days=interval_days(raw, "maxpwdage"),
        min_age_days=interval_days(raw, "minpwdage") or 0.0,
        complexity=bool(properties & _PASSWORD_COMPLEX),
        reversible=bool(properties & _PASSWORD_STORE_CLEARTEXT),
        lockout_threshold=integer(raw, "lockoutthreshold", 0) or 0,
        lockout_duration_minutes=interval_minutes(raw, "lockoutduration"),
        lockout_window_minutes=interval_minutes(raw, "lockoutobservationwindow"),
    )


def pso(raw: Raw) -> PasswordPolicy:
    return PasswordPolicy(
        name=text(raw, "cn") or text(raw, "name"),
        min_length=integer(raw, "msds-minimumpasswordlength", 0) or 0,
        history=integer(raw, "msds-passwordhistorylength", 0) or 0,
        max_age_days=interval_days(raw, "msds-maximumpasswordage"),
        min_age_days=interval_days(raw, "msds-minimumpasswordage") or 0.0,
        complexity=boolean(raw, "msds-passwordcomplexityenabled"),
        reversible=boolean(raw, "msds-passwordreversibleencryptionenabled"),
        lockout_threshold=integer(raw, "msds-lockoutthreshold", 0) or 0,
        lockout_duration_minutes=interval_minutes(raw, "msds-lockoutduration"),
        lockout_window_minutes=interval_minutes(raw, "msds-lockoutobservationwindow"),
        applies_to=texts(raw, "msds-psoappliesto"),
        precedence=integer(raw, "msds-passwordsettingsprecedence"),
    )
