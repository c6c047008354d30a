"""The snapshot file: round trips (plain, encrypted, pseudonymised) and hostile files, which
must all end in SnapshotError — never another exception, never a partial snapshot."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.directory import snapshot
from carbet.engines.directory.model import (
    Account,
    Ace,
    Descriptor,
    Domain,
    Group,
    PasswordPolicy,
    Snapshot,
)

DOMAIN_SID = "S-1-5-21-1-2-3"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def sample() -> Snapshot:
    users = [
        Account(dn="CN=Admin,CN=Users,DC=chu,DC=local", sam="Administrator",
                sid=f"{DOMAIN_SID}-500", pwd_last_set=NOW),
        Account(dn="CN=Jean Dupont,OU=Cardio,DC=chu,DC=local", sam="jdupont",
                sid=f"{DOMAIN_SID}-1105", description="Cardiologue",
                spns=["MSSQLSvc/sql-cardio.chu.local:1433"], last_logon=NOW),
    ]  # fmt: skip
    computers = [
        Account(dn="CN=PC-CARDIO-01,OU=Postes,DC=chu,DC=local", sam="PC-CARDIO-01$",
                sid=f"{DOMAIN_SID}-1200", is_computer=True, os_name="Windows XP Professional",
                allowed_to_delegate_to=["cifs/files.chu.local"]),
    ]  # fmt: skip
    groups = [
        Group(dn="CN=Domain Admins,CN=Users,DC=chu,DC=local", sam="Domain Admins",
              sid=f"{DOMAIN_SID}-512",
              members=["CN=Jean Dupont,OU=Cardio,DC=chu,DC=local",
                       "CN=Admin,CN=Users,DC=chu,DC=local"]),
    ]  # fmt: skip
    return Snapshot(
        domain=Domain(dns_name="chu.local", sid=DOMAIN_SID, password_policy=PasswordPolicy()),
        collected_at=NOW,
        users=users,
        computers=computers,
        groups=groups,
        psos=[PasswordPolicy(name="pso", applies_to=["CN=Jean Dupont,OU=Cardio,DC=chu,DC=local"])],
        domain_descriptor=Descriptor(owner="S-1-5-32-544", dacl=[Ace("S-1-5-18", "allow", 1)]),
        gpp_passwords=[{"gpo": "abc", "path": "Policies/x/Groups.xml", "user": "jdupont"}],
        gaps=["psos: hidden"],
    )


def test_plain_round_trip(tmp_path):
    path = tmp_path / "chu.cad"
    snapshot.write(sample(), path)
    assert path.read_bytes().startswith(b"CARBETAD\x01\x00")
    assert snapshot.read(path) == sample()
    assert snapshot.read(path.read_bytes()) == sample()
    assert snapshot.read(io.BytesIO(path.read_bytes())) == sample()
    assert not list(tmp_path.glob("*.part"))


def test_encrypted_round_trip():
    data = snapshot.dumps(sample(), passphrase="mot de passe long 2026")
    assert b"jdupont" not in data
    assert snapshot.read(data, passphrase="mot de passe long 2026") == sample()
    with pytest.raises(snapshot.SnapshotError, match="phrase de passe incorrecte"):
        snapshot.read(data, passphrase="wrong")
    with pytest.raises(snapshot.SnapshotError, match="passphrase required"):
        snapshot.read(data)


def test_pseudonymised_snapshot_keeps_structure_but_not_names():
    data = snapshot.dumps(sample(), pseudonymise=True)
    text = zlib.decompress(data[10:]).decode()
    for secret in ("jdupont", "Jean Dupont", "Cardiologue", "PC-CARDIO-01", "sql-cardio"):
        assert secret not in text
    snap = snapshot.read(data)
    assert snap.pseudonymised
    admin, user = snap.users
    assert admin.sam == "Administrator"  # built-in accounts (RID < 1000) keep their names
    assert user.sam.startswith("user-") and user.sid == f"{DOMAIN_SID}-1105"
    assert user.description == ""
    assert user.spns[0].startswith("MSSQLSvc/host-") and user.spns[0].endswith(":1433")
    (computer,) = snap.computers
    assert computer.sam.startswith("host-") and computer.sam.endswith("$")
    assert computer.os_name == "Windows XP Professional"
    # Membership still resolves: the group lists the pseudonymised DN.
    assert snap.groups[0].members[0] == user.dn
    assert snap.psos[0].applies_to == [user.dn]
    assert snap.gpp_passwords[0]["user"].startswith("user-")
    # A fresh key per file: two pseudonymised files cannot be joined on pseudonyms.
    again = snapshot.read(snapshot.dumps(sample(), pseudonymise=True))
    assert again.users[1].sam != user.sam


def expect_error(data: bytes, passphrase: str | None = None, match: str | None = None) -> None:
    with pytest.raises(snapshot.SnapshotError, match=match):
        snapshot.read(data, passphrase=passphrase)


def container(payload: bytes, *, version: int = 1, flags: int = 0) -> bytes:
    return b"CARBETAD" + bytes([version, flags]) + zlib.compress(payload)


def test_hostile_headers():
    expect_error(b"", match="not a Carbet snapshot")
    expect_error(b"PK\x03\x04 zip file", match="not a Carbet snapshot")
    expect_error(container(b"{}", version=9), match="unsupported container version")
    expect_error(container(b"{}", flags=0x80), match="unknown container flags")
    good = snapshot.dumps(sample())
    expect_error(good + b"junk", match="trailing data")
    expect_error(good[:10] + b"not zlib at all", match="corrupted")


def test_every_truncation_is_detected():
    # Encrypted cuts each cost a key derivation: fewer of them.
    for data, steps in (
        (snapshot.dumps(sample()), 60),
        (snapshot.dumps(sample(), passphrase="p"), 8),
    ):
        for cut in range(len(data) - 1, 0, -max(1, len(data) // steps)):
            expect_error(data[:cut], passphrase="p")


def test_decompression_bomb_is_capped(monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_JSON_BYTES", 1024 * 1024)
    bomb = b"CARBETAD\x01\x00" + zlib.compress(b" " * (8 * 1024 * 1024), 9)
    assert len(bomb) < 20_000
    expect_error(bomb, match="decompression bomb")


def test_hostile_key_derivation_parameters():
    data = bytearray(snapshot.dumps(sample(), passphrase="p"))
    data[11] = 30  # log2 N = 30: 2^30 × 1 KiB of memory
    expect_error(bytes(data), passphrase="p", match="unsupported KDF")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe not json", "malformed JSON"),
        (b"[" * 100_000, "malformed JSON"),
        (b'{"format": "other"}', "wrong content"),
        (b'{"format": "carbet-ad-snapshot", "snapshot": []}', "malformed snapshot"),
        (b'{"format": "carbet-ad-snapshot", "snapshot": {"format_version": 99}}', "newer"),
        (b'{"format": "carbet-ad-snapshot", "snapshot": {"format_version": "1"}}', "invalid"),
        (b'{"format": "carbet-ad-snapshot", "snapshot": {}}', "malformed content"),
    ],
)
def test_malformed_content(payload, message):
    expect_error(container(payload), match=message)


def test_wrong_types_name_the_field():
    document = {"format": "carbet-ad-snapshot", "snapshot": sample().to_dict()}
    document["snapshot"]["users"][1]["uac"] = "512"
    expect_error(container(json.dumps(document).encode()), match=r"users\[1\]\.uac")
    document = {"format": "carbet-ad-snapshot", "snapshot": sample().to_dict()}
    document["snapshot"]["collected_at"] = "2026-11-29T08:00:00"
    expect_error(container(json.dumps(document).encode()), match="time zone")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data):
    for blob in (data, b"CARBETAD\x01\x00" + data, b"CARBETAD\x01\x01" + data):
        with pytest.raises(snapshot.SnapshotError):
            snapshot.read(blob)


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(min_size=40, max_size=200))
def test_random_encrypted_bodies(data):
    # Valid KDF header, random ciphertext: each example costs one key derivation.
    with pytest.raises(snapshot.SnapshotError):
        snapshot.read(b"CARBETAD\x01\x01\x01\x0f\x08\x01" + data, passphrase="p")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_valid_container_with_mutated_content(data):
    """Replace one field anywhere in a real snapshot by a random JSON value: either it still
    decodes to a complete Snapshot, or SnapshotError — nothing else."""
    document = sample().to_dict()
    target = document
    path = []
    while isinstance(target, dict | list) and target:
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        key = data.draw(st.sampled_from(keys))
        path.append(key)
        if not isinstance(target[key], dict | list) or data.draw(st.booleans()):
            target[key] = data.draw(json_values)
            break
        target = target[key]
    blob = container(json.dumps({"format": "carbet-ad-snapshot", "snapshot": document}).encode())
    try:
        result = snapshot.read(blob)
    except snapshot.SnapshotError:
        return
    assert isinstance(result, Snapshot) and isinstance(result.domain, Domain)


def test_missing_file_is_a_snapshot_error(tmp_path):
    with pytest.raises(snapshot.SnapshotError, match="lecture impossible"):
        snapshot.read(tmp_path / "absent.cad")


def test_header_layout_is_stable():
    data = snapshot.dumps(sample(), passphrase="p")
    magic, version, flags = struct.unpack_from(">8sBB", data)
    assert (magic, version, flags) == (b"CARBETAD", 1, 1)
    assert data[10:14] == bytes([1, 15, 8, 1])  # scrypt, N = 2^15, r = 8, p = 1
