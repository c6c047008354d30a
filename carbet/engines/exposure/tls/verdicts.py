"""From what the TLS probe saw to observations: protocols, suites, certificate verdicts.

Pure functions over the probe's results (no I/O), so each verdict is easy to test and to read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carbet.engines.exposure.core import Observation, TargetResult
from carbet.engines.exposure.tls.cert import (
    EXPIRY_WARNING_DAYS,
    CertificateError,
    CertificateSummary,
    hostname_matches,
    key_is_weak,
    signature_is_weak,
    summarise,
)
from carbet.engines.exposure.tls.checks import (
    TLS_CERT_EXPIRED,
    TLS_CERT_EXPIRING,
    TLS_CERT_HOSTNAME_MISMATCH,
    TLS_CERT_NOT_YET_VALID,
    TLS_CERT_SELF_SIGNED,
    TLS_CERT_SHA1_SIGNATURE,
    TLS_CERT_UNTRUSTED,
    TLS_CERT_WEAK_KEY,
    TLS_CIPHER_LEGACY,
    TLS_CIPHER_WEAK,
    TLS_DH_WEAK,
    TLS_NO_FORWARD_SECRECY,
    TLS_PROTOCOL_SSL2,
    TLS_PROTOCOL_SSL3,
    TLS_PROTOCOL_TLS10,
    TLS_PROTOCOL_TLS11,
    TLS_PROTOCOL_TLS13_MISSING,
)
from carbet.engines.exposure.tls.hello import SSL2_CIPHER_KINDS
from carbet.engines.exposure.tls.suites import (
    CLASS_RANK,
    LEGACY,
    PROTOCOL_KEYS,
    PROTOCOL_NAMES,
    SSL3,
    TLS10,
    TLS11,
    TLS13,
    WEAK,
    describe,
)


def protocol_observations(result: TargetResult, port: int, accepted: dict[int, list[int]]) -> None:
    for version, check in (
        (SSL3, TLS_PROTOCOL_SSL3),
        (TLS10, TLS_PROTOCOL_TLS10),
        (TLS11, TLS_PROTOCOL_TLS11),
    ):
        if version in accepted:
            result.observations.append(
                check.observe(
                    port,
                    f"{PROTOCOL_NAMES[version]} accepté",
                    {"protocol": PROTOCOL_NAMES[version]},
                )
            )
    if TLS13 not in accepted:
        best = PROTOCOL_NAMES[max(accepted)]
        result.observations.append(
            TLS_PROTOCOL_TLS13_MISSING.observe(port, f"meilleure version: {best}", {"best": best})
        )


def suite_observations(
    result: TargetResult,
    port: int,
    accepted: dict[int, list[int]],
    dh_sizes: list[int],
    weak_groups: list[str],
) -> None:
    all_codes = {code for codes in accepted.values() for code in codes}
    suites = [describe(code) for code in all_codes]
    suites.sort(key=lambda suite: (-CLASS_RANK[suite.classification], suite.name))
    weak = [suite.name for suite in suites if suite.classification == WEAK]
    if weak or weak_groups:
        detail = ", ".join(weak[:5]) + (f" (+{len(weak) - 5})" if len(weak) > 5 else "")
        if weak_groups:
            detail = (
                (detail + "; " if detail else "") + "courbes faibles: " + ", ".join(weak_groups)
            )
        result.observations.append(
            TLS_CIPHER_WEAK.observe(port, detail, {"suites": weak, "groups": weak_groups})
        )
    legacy_fs = [s.name for s in suites if s.classification == LEGACY and s.forward_secrecy]
    if legacy_fs:
        result.observations.append(
            TLS_CIPHER_LEGACY.observe(port, ", ".join(legacy_fs[:5]), {"suites": legacy_fs})
        )
    no_fs = [suite.name for suite in suites if not suite.forward_secrecy]
    if no_fs:
        any_fs = any(suite.forward_secrecy for suite in suites)
        result.observations.append(
            TLS_NO_FORWARD_SECRECY.observe(
                port,
                f"{len(no_fs)} suite(s) sans confidentialité persistante",
                {"suites": no_fs, "forward_secrecy_available": any_fs},
                severity=None if any_fs else 3,
            )
        )
    if dh_sizes and dh_sizes[0] < 2048:
        result.observations.append(
            TLS_DH_WEAK.observe(port, f"DHE {dh_sizes[0]} bits", {"dh_bits": dh_sizes[0]})
        )


def certificate_findings(
    result: TargetResult,
    port: int,
    chain_der: list[bytes],
    trusted: bool | None,
    trust_error: str,
    server_name: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    summary_dict: dict[str, Any] = {"trusted": trusted, "trust_error": trust_error}
    if not chain_der:
        result.errors.append(f"tls:{port}: certificat non obtenu")
        return summary_dict
    try:
        leaf = summarise(chain_der[0])
    except CertificateError as exc:
        result.errors.append(f"tls:{port}: certificat illisible ({exc})"[:300])
        summary_dict["error"] = "certificat illisible"
        return summary_dict
    chain: list[dict[str, str]] = []
    for der in chain_der[1:6]:
        try:
            intermediate = summarise(der)
            chain.append({"subject": intermediate.subject, "issuer": intermediate.issuer})
        except CertificateError:
            chain.append({"subject": "?", "issuer": "certificat illisible"})
    summary_dict.update(leaf.as_dict())
    summary_dict["chain"] = chain
    days_left = leaf.days_left(now)
    summary_dict["days_left"] = round(days_left, 1)
    hostname_ok = hostname_matches(leaf, server_name) if server_name else None
    summary_dict["hostname_ok"] = hostname_ok
    result.observations.extend(
        leaf_observations(leaf, port, server_name, now, trusted, trust_error, hostname_ok)
    )
    return summary_dict


def leaf_observations(
    leaf: CertificateSummary,
    port: int,
    server_name: str | None,
    now: dt.datetime,
    trusted: bool | None,
    trust_error: str = "",
    hostname_ok: bool | None = None,
) -> list[Observation]:
    """The certificate checks of one leaf (trust as OpenSSL judged it, when it was judged)."""
    days_left = leaf.days_left(now)
    found: list[Observation] = []
    add = found.append
    evidence = {"subject": leaf.subject, "not_after": leaf.not_after.isoformat()}
    if days_left < 0:
        add(TLS_CERT_EXPIRED.observe(port, f"expiré le {leaf.not_after:%Y-%m-%d}", evidence))
    elif days_left < EXPIRY_WARNING_DAYS:
        add(TLS_CERT_EXPIRING.observe(port, f"expire le {leaf.not_after:%Y-%m-%d}", evidence))
    if leaf.not_before > now:
        add(
            TLS_CERT_NOT_YET_VALID.observe(
                port,
                f"valide à partir du {leaf.not_before:%Y-%m-%d}",
                evidence,
            )
        )
    if leaf.self_signed and not trusted:
        add(TLS_CERT_SELF_SIGNED.observe(port, leaf.subject, evidence))
    elif trusted is False:
        add(
            TLS_CERT_UNTRUSTED.observe(port, trust_error[:200], {**evidence, "issuer": leaf.issuer})
        )
    if hostname_ok is False:
        names = (leaf.dns_names + leaf.ip_addresses) or leaf.common_names
        add(
            TLS_CERT_HOSTNAME_MISMATCH.observe(
                port,
                f"{server_name} absent de: {', '.join(names[:5])}",
                {"host": server_name, "names": names[:20]},
            )
        )
    if key_is_weak(leaf):
        add(
            TLS_CERT_WEAK_KEY.observe(
                port,
                f"{leaf.key_type} {leaf.key_bits} bits",
                {"key_type": leaf.key_type, "key_bits": leaf.key_bits},
            )
        )
    if signature_is_weak(leaf) and not leaf.self_signed:
        add(
            TLS_CERT_SHA1_SIGNATURE.observe(
                port,
                leaf.signature_algorithm,
                {"signature": leaf.signature_algorithm},
            )
        )
    return found


def other_certificates(
    result: TargetResult,
    port: int,
    leaves_der: list[bytes],
    server_name: str | None,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Servers with an RSA and an ECDSA certificate show each to different suites: check the
    others too (a forgotten renewal of one is common). Trust was judged on the first only, so
    it is left out; a check already raised on this port is not raised twice."""
    summaries: list[dict[str, Any]] = []
    raised = {o.check for o in result.observations if o.port == port}
    for der in leaves_der:
        try:
            leaf = summarise(der)
        except CertificateError as exc:
            result.errors.append(f"tls:{port}: certificat illisible ({exc})"[:300])
            continue
        hostname_ok = hostname_matches(leaf, server_name) if server_name else None
        summary = leaf.as_dict()
        summary.update(days_left=round(leaf.days_left(now), 1), hostname_ok=hostname_ok)
        summaries.append(summary)
        for observation in leaf_observations(leaf, port, server_name, now, None, "", hostname_ok):
            if observation.check not in raised:
                raised.add(observation.check)
                result.observations.append(observation)
    return summaries


def sslv2_observation(
    result: TargetResult, port: int, evidence: dict[str, Any], ssl2_kinds: list[int]
) -> None:
    """SSLv2 accepted: its cipher kinds in the evidence, and the observation."""
    names = [SSL2_CIPHER_KINDS.get(kind, f"0x{kind:06X}") for kind in ssl2_kinds]
    evidence.setdefault("suites", {})["ssl2"] = [
        {"code": f"0x{kind:06X}", "name": name, "forward_secrecy": False, "aead": False,
         "class": WEAK, "reasons": ["SSLv2"]}
        for kind, name in zip(ssl2_kinds, names, strict=True)
    ]  # fmt: skip
    result.observations.append(TLS_PROTOCOL_SSL2.observe(port, "SSLv2 accepté", {"ciphers": names}))


def suites_evidence(evidence: dict[str, Any], accepted: dict[int, list[int]]) -> None:
    """The suites accepted under each version, and the server's preferred one."""
    by_version: dict[str, list[dict[str, Any]]] = evidence.get("suites", {})
    for version, codes in accepted.items():
        by_version[PROTOCOL_KEYS[version]] = [describe(code).as_dict() for code in codes]
    evidence["suites"] = by_version
    evidence["preferred"] = {
        PROTOCOL_KEYS[version]: describe(codes[0]).name for version, codes in accepted.items()
    }


def probe_error_notes(
    result: TargetResult, port: int, evidence: dict[str, Any], errors: dict[str, int]
) -> None:
    """Why probes failed (the ten commonest), and a warning when some never got an answer."""
    evidence["probe_errors"] = dict(sorted(errors.items())[:10])
    lost = errors.get("délai dépassé", 0)
    if lost:
        result.errors.append(
            f"tls:{port}: {lost} sonde(s) sans réponse malgré un nouvel essai: "
            "la liste des suites peut être incomplète"
        )
