"""A real Samba AD DC for the directory tests and the benchmark, on a loopback address of its own.

``start_samba()`` provisions a domain (cached per Samba version: provisioning costs ~10 s, a copy
~0.2 s), seeds it offline with one weakness per rule and a clean control (``samba_seed.py``,
run by the system Python that has Samba's bindings), gives it a TLS certificate for its IP from a
private CA, and runs ``samba -i -M single`` on a dedicated 127.77.x.y address (added to ``lo``)
so that several sessions — and the fixed LDAP ports 389/636 — never collide.

Samba differs from Windows AD (REFERENCE.md): simple bind needs LDAPS/StartTLS, ldap3's NTLM bind
fails, adminCount is never set, pwdLastSet cannot be backdated (tests inject "now"), functional
level ≤ 2008 R2, no LAPS schema and no AD CS.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SEED_SCRIPT = Path(__file__).with_name("samba_seed.py")
SYSTEM_PYTHON = "/usr/bin/python3"
REALM, WORKGROUP, HOSTNAME = "CARBET.TEST", "CARBET", "dc1"
ADMIN_PASSWORD = "Adm1n!Carbet-Test"
SEED_PASSWORD = "Seed!Carbet-Test1"
READER = "carbet-reader"
DEFAULT_GPO = "{31B2F340-016D-11D2-945F-00C04FB984F9}"
# The base64 sample value Microsoft published in MS-GPPREF: harmless, recognisable.
GPP_CPASSWORD = "j1Uyj3Vx8TY9LtLZil2uAuZkFQA/4latT76ZwgdHdhw"


@dataclass
class SambaDirectory:
    """What a test needs to reach the seeded directory."""

    host: str
    ldaps_port: int
    starttls_port: int
    base_dn: str
    dns_domain: str
    domain_sid: str
    reader_user: str  # UPN of the non-admin collection account
    reader_dn: str
    reader_password: str
    admin_user: str
    admin_password: str
    ca_file: str  # the private CA that signed the server's certificate (IP SAN)
    root: Path
    started_at: dt.datetime
    weak: dict[str, str] = field(default_factory=dict)  # rule/ANSSI id → seeded sam/name
    control: dict[str, str] = field(default_factory=dict)  # rule/ANSSI id → clean control
    gpp_path: str = ""

    @property
    def server(self) -> str:
        return f"{self.host}:{self.ldaps_port}"


def samba_available() -> bool:
    return (
        all(shutil.which(tool) for tool in ("samba", "samba-tool")) and Path(SYSTEM_PYTHON).exists()
    )


def samba_version() -> str:
    out = subprocess.run(["samba", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().replace(" ", "-")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def loopback_address() -> Iterator[str]:
    """A 127.77.x.y address of our own on ``lo`` (needs CAP_NET_ADMIN), else 127.0.0.1 if
    the LDAP ports are free there."""
    for _ in range(20):
        address = f"127.77.{random.randint(0, 255)}.{random.randint(2, 254)}"
        added = subprocess.run(
            ["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True, check=False
        )
        if added.returncode == 0:
            try:
                yield address
            finally:
                subprocess.run(
                    ["ip", "addr", "del", f"{address}/32", "dev", "lo"],
                    capture_output=True,
                    check=False,
                )
            return
        if b"Operation not permitted" in added.stderr:
            break
    if all(_port_free("127.0.0.1", port) for port in (389, 636, 445, 88)):
        yield "127.0.0.1"
        return
    raise RuntimeError("no loopback address for Samba: ip addr add refused and 127.0.0.1 busy")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carbet" / f"samba-provision-{samba_version()}"


def provisioned_copy(dest: Path) -> None:
    """Copy a provisioned (unseeded) domain into ``dest``, provisioning it once per machine."""
    cache = _cache_root()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / ".provision.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "ready").exists():
            shutil.rmtree(cache, ignore_errors=True)
            building = Path(tempfile.mkdtemp(prefix="provision-", dir=cache.parent))
            subprocess.run(
                [
                    "samba-tool", "domain", "provision", f"--realm={REALM}",
                    f"--domain={WORKGROUP}", "--server-role=dc", f"--host-name={HOSTNAME}",
                    "--dns-backend=SAMBA_INTERNAL", f"--adminpass={ADMIN_PASSWORD}",
                    f"--targetdir={building}", "--host-ip=127.0.0.1",
                    "--option=interfaces=lo", "--option=bind interfaces only=yes",
                ],
                capture_output=True, check=True, timeout=300,
            )  # fmt: skip
            building.rename(cache)
            (cache / "ready").touch()
    subprocess.run(["cp", "-a", f"{cache}/.", str(dest)], check=True)


def _smb_conf(root: Path, address: str) -> str:
    return f"""[global]
	netbios name = {HOSTNAME.upper()}
	realm = {REALM}
	workgroup = {WORKGROUP}
	server role = active directory domain controller
	interfaces = {address}
	bind interfaces only = yes
	private dir = {root}/private
	lock directory = {root}
	state directory = {root}/state
	cache directory = {root}/cache
	binddns dir = {root}/bind-dns
	pid directory = {root}/run
	ncalrpc dir = {root}/run/ncalrpc
	ntp signd socket directory = {root}/run/ntp
	log file = {root}/log/log.%m
	log level = 0
	server services = -dns -nbt -wrepl -ntp_signd -kcc -dnsupdate
	tls enabled = yes
	tls keyfile = {root}/tls/key.pem
	tls certfile = {root}/tls/cert.pem
	tls cafile = {root}/tls/ca.pem
	idmap_ldb:use rfc2307 = yes
[sysvol]
	path = {root}/state/sysvol
	read only = no
[netlogon]
	path = {root}/state/sysvol/{REALM.lower()}/scripts
	read only = no
"""


def _write_certificates(directory: Path, address: str) -> None:
    """A private CA and a server certificate valid for the address and the DC's name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Carbet test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    fqdn = f"{HOSTNAME}.{REALM.lower()}"
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(fqdn), x509.IPAddress(ipaddress.ip_address(address))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "cert.pem").write_bytes(cert.public_bytes(pem))
    key_file = directory / "key.pem"
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)


def _write_gpp_file(root: Path) -> str:
    """A Group Policy Preferences file with a cpassword in the default domain policy."""
    relative = f"Policies/{DEFAULT_GPO}/Machine/Preferences/Groups/Groups.xml"
    path = root / "state" / "sysvol" / REALM.lower() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Groups clsid="{3125E937-EB16-4b4c-9934-544FC6D24D26}">'
        '<User clsid="{DF5F1855-51E5-4d24-8B1A-D9BDE98BA1D1}" name="gpp_local_admin">'
        '<Properties action="U" newName="" userName="gpp_local_admin" '
        f'cpassword="{GPP_CPASSWORD}"/>'
        "</User></Groups>\n"
    )
    return relative


def _wait_listening(process: subprocess.Popen, host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"samba exited early with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"samba did not listen on {host}:{port} within {timeout:.0f} s")


def _samba_command(root: Path) -> list[str]:
    """smbd finds winbindd only at the compiled-in /run/samba/winbindd: each DC gets a private
    /run/samba in a mount namespace so that several can run (and serve SYSVOL over SMB) at
    once. Without the right to create namespaces, SMB logons fail and the collector records a
    SYSVOL gap; LDAP is unaffected."""
    samba = ["samba", "-s", str(root / "etc" / "smb.conf"), "-i", "-M", "single"]
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, check=False
    )
    if probe.returncode or not shutil.which("unshare"):
        return samba
    Path("/run/samba").mkdir(parents=True, exist_ok=True)
    script = 'mount -t tmpfs -o size=16m,mode=0755 tmpfs /run/samba && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "samba", *samba]


def _wait_smb_logon(address: str, timeout: float) -> None:
    """Until winbindd answers smbd, SMB logons fail with NT_STATUS_INTERNAL_ERROR."""
    deadline = time.monotonic() + timeout
    while shutil.which("smbclient") and time.monotonic() < deadline:
        probe = subprocess.run(
            ["smbclient", f"//{address}/netlogon", "-U", f"{WORKGROUP}\\Administrator%"
             f"{ADMIN_PASSWORD}", "-m", "SMB3", "-c", "exit"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        if "INTERNAL_ERROR" not in probe.stdout + probe.stderr:
            return
        time.sleep(0.5)


@contextmanager
def start_samba(root: Path, *, bulk: int = 0, reuse: bool = False) -> Iterator[SambaDirectory]:
    """Provision (or, with ``reuse``, keep what ``root`` already holds), seed, run, stop."""
    root.mkdir(parents=True, exist_ok=True)
    seeded_file = root / "seeded.json"
    with loopback_address() as address:
        if not (reuse and seeded_file.exists()):
            for child in root.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            provisioned_copy(root)
            (root / "etc" / "smb.conf").write_text(_smb_conf(root, address))
            seeded = subprocess.run(
                [SYSTEM_PYTHON, "-P", str(SEED_SCRIPT), str(root), SEED_PASSWORD, str(bulk)],
                capture_output=True, text=True, check=False, timeout=3600,
            )  # fmt: skip
            if seeded.returncode:
                raise RuntimeError(f"seeding failed: {seeded.stderr[-2000:]}")
            seeded_file.write_text(seeded.stdout.strip().splitlines()[-1])
        for sub in ("run", "log", "cache", "state"):
            (root / sub).mkdir(exist_ok=True)
        # After the copy (cp -a brings the cache's 0700): smbd, switched to the SMB user's uid,
        # must be able to traverse down to SYSVOL.
        root.chmod(0o711)
        (root / "state").chmod(0o755)
        (root / "etc" / "smb.conf").write_text(_smb_conf(root, address))
        _write_certificates(root / "tls", address)
        gpp_path = _write_gpp_file(root)
        info = json.loads(seeded_file.read_text())
        log = open(root / "log" / "samba.out", "wb")
        process = subprocess.Popen(
            _samba_command(root), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_listening(process, address, 636, timeout=90)
            _wait_listening(process, address, 445, timeout=60)  # smbd starts after LDAP
            _wait_smb_logon(address, timeout=30)  # and winbindd after smbd
            yield SambaDirectory(
                host=address,
                ldaps_port=636,
                starttls_port=389,
                base_dn=info["base_dn"],
                dns_domain=info["dns_domain"],
                domain_sid=info["domain_sid"],
                reader_user=f"{READER}@{info['dns_domain']}",
                reader_dn=info["reader_dn"],
                reader_password=SEED_PASSWORD,
                admin_user=f"Administrator@{info['dns_domain']}",
                admin_password=ADMIN_PASSWORD,
                ca_file=str(root / "tls" / "ca.pem"),
                root=root,
                started_at=dt.datetime.now(dt.UTC),
                weak=info["weak"],
                control=info["control"],
                gpp_path=gpp_path,
            )
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()
