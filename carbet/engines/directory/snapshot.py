"""The snapshot file: what a structure's IT collects on site and uploads to the centre.

Layout (all integers big-endian)::

    magic "CARBETAD" | container version (1 byte) | flags (1 byte: 1 = encrypted)
    [encrypted: kdf id (1 = scrypt) | log2 N | r | p | salt (16) | nonce (12)]
    body: zlib-compressed JSON {"format": "carbet-ad-snapshot", "snapshot": {...}}
          (encrypted: AES-256-GCM of that, the header above as associated data)

The reader trusts nothing: wrong magic, unknown versions, a wrong passphrase, truncation,
decompression bombs (the decompressed size is capped), hostile KDF parameters and malformed
content all raise ``SnapshotError`` with a message a person can act on — never a partial
snapshot. Pseudonymisation replaces account names by keyed HMACs (a key drawn per file and then
forgotten), the same name giving the same pseudonym throughout, so group membership still works;
SIDs are kept, so well-known accounts and groups stay recognisable.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from carbet.engines.directory.model import FORMAT_VERSION, Account, Snapshot

MAGIC = b"CARBETAD"
CONTAINER_VERSION = 1
FLAG_ENCRYPTED = 0x1
KDF_SCRYPT = 1
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_JSON_BYTES = 512 * 1024 * 1024  # a 100,000-account domain is ~100 MB of JSON
PAYLOAD_FORMAT = "carbet-ad-snapshot"
_FIXED_HEADER = struct.Struct(">8sBB")
_KDF_HEADER = struct.Struct(">BBBB16s12s")


class SnapshotError(Exception):
    """The file is not a snapshot Carbet can read; the message says why."""


def write(
    snap: Snapshot,
    dest: str | Path | BinaryIO,
    *,
    passphrase: str | None = None,
    pseudonymise: bool = False,
) -> None:
    if pseudonymise:
        snap = pseudonymised(snap)
    payload = json.dumps(
        {"format": PAYLOAD_FORMAT, "snapshot": snap.to_dict()},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    body = zlib.compress(payload, 6)
    flags = FLAG_ENCRYPTED if passphrase else 0
    header = _FIXED_HEADER.pack(MAGIC, CONTAINER_VERSION, flags)
    if passphrase:
        salt, nonce = os.urandom(16), os.urandom(12)
        header += _KDF_HEADER.pack(KDF_SCRYPT, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, salt, nonce)
        key = _derive(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
        body = AESGCM(key).encrypt(nonce, body, header)
    data = header + body
    if isinstance(dest, str | Path):
        path = Path(dest)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)  # never a half-written snapshot under the final name
    else:
        dest.write(data)


def read(src: str | Path | bytes | BinaryIO, *, passphrase: str | None = None) -> Snapshot:
    data = _load(src)
    if len(data) < _FIXED_HEADER.size or not data.startswith(MAGIC):
        raise SnapshotError(
            "ce fichier n'est pas un instantané d'annuaire Carbet (not a Carbet snapshot)"
        )
    _magic, version, flags = _FIXED_HEADER.unpack_from(data)
    if version != CONTAINER_VERSION:
        raise SnapshotError(
            f"version de fichier {version} non prise en charge : mettez Carbet à jour "
            f"(unsupported container version)"
        )
    if flags & ~FLAG_ENCRYPTED:
        raise SnapshotError("options de fichier inconnues (unknown container flags)")
    offset = _FIXED_HEADER.size
    body = data[offset:]
    if flags & FLAG_ENCRYPTED:
        body = _decrypt(data, passphrase)
    payload = _inflate(body)
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SnapshotError("contenu illisible (malformed JSON)") from None
    if not isinstance(document, dict) or document.get("format") != PAYLOAD_FORMAT:
        raise SnapshotError("contenu inattendu : pas un instantané d'annuaire (wrong content)")
    content = document.get("snapshot")
    if not isinstance(content, dict):
        raise SnapshotError("instantané vide ou malformé (malformed snapshot)")
    declared = content.get("format_version", FORMAT_VERSION)
    if not isinstance(declared, int) or isinstance(declared, bool) or declared < 1:
        raise SnapshotError("version de contenu invalide (invalid format_version)")
    if declared > FORMAT_VERSION:
        raise SnapshotError(
            f"instantané au format {declared}, plus récent que ce Carbet ({FORMAT_VERSION}) : "
            "mettez Carbet à jour (snapshot from a newer Carbet)"
        )
    try:
        return Snapshot.from_dict(content)
    except (ValueError, TypeError, RecursionError) as exc:
        raise SnapshotError(f"contenu invalide (malformed content): {str(exc)[:300]}") from None


def _load(src: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
    elif isinstance(src, str | Path):
        try:
            with open(src, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise SnapshotError(f"lecture impossible de {src}: {exc.strerror}") from None
    else:
        data = src.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, bytes):
            raise SnapshotError("le flux doit être binaire (binary stream expected)")
    if len(data) > MAX_FILE_BYTES:
        raise SnapshotError("fichier trop volumineux (file too large)")
    return data


def _derive(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _decrypt(data: bytes, passphrase: str | None) -> bytes:
    if not passphrase:
        raise SnapshotError(
            "instantané chiffré : indiquez la phrase de passe (encrypted: passphrase required)"
        )
    header_end = _FIXED_HEADER.size + _KDF_HEADER.size
    if len(data) < header_end + 16:
        raise SnapshotError("fichier tronqué (truncated file)")
    kdf, log2_n, r, p, salt, nonce = _KDF_HEADER.unpack_from(data, _FIXED_HEADER.size)
    # Hostile parameters could ask for gigabytes of memory or hours of CPU.
    if kdf != KDF_SCRYPT or not (10 <= log2_n <= 20) or not (1 <= r <= 16) or not (1 <= p <= 4):
        raise SnapshotError("paramètres de chiffrement non pris en charge (unsupported KDF)")
    key = _derive(passphrase, salt, log2_n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, data[header_end:], data[:header_end])
    except InvalidTag:
        raise SnapshotError(
            "phrase de passe incorrecte ou fichier altéré (wrong passphrase or corrupted file)"
        ) from None


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(body, MAX_JSON_BYTES)
    except zlib.error:
        raise SnapshotError("fichier corrompu (corrupted data)") from None
    if inflater.unconsumed_tail:
        raise SnapshotError("contenu décompressé trop volumineux (decompression bomb?)")
    if not inflater.eof:
        raise SnapshotError("fichier tronqué (truncated file)")
    if inflater.unused_data:
        raise SnapshotError("données en trop après le contenu (trailing data)")
    return payload


# --- pseudonymisation -------------------------------------------------------------------------


def pseudonymised(snap: Snapshot) -> Snapshot:
    """A copy whose account names, DNs, descriptions and SPN hosts are keyed pseudonyms."""
    copy = Snapshot.from_dict(snap.to_dict())
    key = os.urandom(32)

    def alias(kind: str, value: str) -> str:
        digest = hmac.new(key, value.lower().encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:12]}"

    dn_map: dict[str, str] = {}
    for account in [*copy.users, *copy.computers]:
        if not _is_named_by_a_person(account):
            continue
        kind = "host" if account.is_computer else "user"
        new_name = alias(kind, account.sam.rstrip("$"))
        old_dn = account.dn
        _first, _, rest = old_dn.partition(",")
        account.dn = f"CN={new_name},{rest}" if rest else f"CN={new_name}"
        dn_map[old_dn.lower()] = account.dn
        account.sam = new_name + ("$" if account.is_computer else "")
        account.description = ""
    for account in [*copy.users, *copy.computers]:
        account.spns = [_spn(spn, alias) for spn in account.spns]
        account.allowed_to_delegate_to = [_spn(s, alias) for s in account.allowed_to_delegate_to]
    for group in copy.groups:
        group.members = [dn_map.get(member.lower(), member) for member in group.members]
    copy.domain.pre2000_members = [dn_map.get(m.lower(), m) for m in copy.domain.pre2000_members]
    for pso in copy.psos:
        pso.applies_to = [dn_map.get(dn.lower(), dn) for dn in pso.applies_to]
    for item in copy.gpp_passwords:
        if item.get("user"):
            item["user"] = alias("user", item["user"])
    copy.pseudonymised = True
    return copy


def _is_named_by_a_person(account: Account) -> bool:
    """Built-in accounts (RID < 1000: Administrator, Guest, krbtgt) keep their names."""
    rid = account.sid.rsplit("-", 1)[-1]
    return not (rid.isdigit() and int(rid) < 1000)


def _spn(spn: str, alias: Callable[[str, str], str]) -> str:
    service, slash, rest = spn.partition("/")
    if not slash:
        return alias("spn", spn)
    host, sep, tail = rest.partition(":") if ":" in rest.split("/", 1)[0] else rest.partition("/")
    return f"{service}/{alias('host', host)}{sep}{tail}"


def dumps(snap: Snapshot, *, passphrase: str | None = None, pseudonymise: bool = False) -> bytes:
    """The file's bytes (for uploads and tests)."""
    buffer = io.BytesIO()
    write(snap, buffer, passphrase=passphrase, pseudonymise=pseudonymise)
    return buffer.getvalue()
