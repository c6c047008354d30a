"""Group Policy Preferences files with a ``cpassword`` in SYSVOL (MS14-025).

The key that "protects" cpassword is public, so any domain user can read such a password. The
scan records only where it is ({"gpo", "path", "user"}) — never the value. Files are fetched
read-only with ``smbclient`` (credentials in a 0600 temporary file, never on the command line),
bounded in time and size, and parsed with defusedxml.

The SMB connection goes to the address the LDAP collection was opened to, asked again of the
connect-time policy right before ``smbclient`` starts (``-I`` pins the address: smbclient never
resolves the server's name itself), so the password never goes anywhere LDAP could not go.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from carbet.engines.netpolicy import ConnectPolicy, ScopeRefused

GPP_FILES = (
    "Groups.xml",
    "Services.xml",
    "ScheduledTasks.xml",
    "DataSources.xml",
    "Drives.xml",
    "Printers.xml",
)
SMB_TIMEOUT = 120  # seconds for the whole SYSVOL walk
SMB_PORT = 445  # the only port smbclient is allowed (no fallback to NetBIOS on 139)
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 5000
_USER_ATTRIBUTES = ("userName", "runAs", "accountName", "username", "newName")
_GPO_IN_PATH = re.compile(r"\{[0-9A-Fa-f-]{36}\}")


def find_cpasswords(content: bytes, relative_path: str) -> list[dict[str, str]]:
    """Locations of non-empty cpassword attributes in one GPP XML file (malformed → [])."""
    try:
        root = ElementTree.fromstring(content[:MAX_FILE_BYTES])
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return []
    match = _GPO_IN_PATH.search(relative_path)
    gpo = match.group(0).strip("{}").lower() if match else ""
    found = []
    for element in root.iter():
        if not element.attrib.get("cpassword"):
            continue
        user = next((element.attrib[a] for a in _USER_ATTRIBUTES if element.attrib.get(a)), "")
        found.append({"gpo": gpo, "path": relative_path, "user": user[:256]})
    return found


def scan_directory(root: Path) -> list[dict[str, str]]:
    """Scan a local copy of SYSVOL's Policies folder."""
    found: list[dict[str, str]] = []
    wanted = {name.lower() for name in GPP_FILES}
    for count, path in enumerate(sorted(root.rglob("*"))):
        if count > MAX_FILES * 10:
            break
        if path.is_file() and not path.is_symlink() and path.name.lower() in wanted:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            found.extend(find_cpasswords(path.read_bytes(), path.relative_to(root).as_posix()))
    return found


_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$")


def _smbclient(unc_host: str, target: str) -> list[str]:
    """smbclient on port 445, pinned with ``-I`` to ``target`` when it is an address (then it
    resolves no name of its own; a name is left to it only on a lab's open policy)."""
    try:
        pin = ["-I", str(ipaddress.ip_address(target))]
    except ValueError:
        pin = []
    return ["smbclient", f"//{unc_host}/SYSVOL", *pin, "-p", str(SMB_PORT), "-m", "SMB3"]


def scan_sysvol(
    host: str,
    user: str,
    password: str,
    domain: str,
    *,
    policy: ConnectPolicy,
    address: str | None = None,
) -> tuple[list[dict[str, str]], str]:
    """Fetch the GPP files of \\\\host\\SYSVOL\\domain\\Policies and scan them.

    ``address``: the IP literal to connect to (the collector passes the one its LDAP session
    uses); ``policy`` must allow it, else ``ScopeRefused`` is raised before smbclient runs.
    Without ``address`` (a lab, ``ConnectPolicy.open()``), ``host`` itself is checked.

    Returns (findings, problem): ``problem`` is "" when the scan ran, else why it could not
    (the collector records it as a gap rather than claiming "no GPP password").
    """
    target = address or host
    refusal = policy.check(target, port=SMB_PORT, via="smb", name=host if address else "")
    if refusal is not None:
        raise ScopeRefused(refusal)
    # The UNC keeps the server's name when it is a plain host name (SMB signing and logs name
    # it); anything odd falls back to the checked address, never to another share or server.
    unc_host = host if _HOST_NAME.match(host) and ".." not in host else target
    if ":" in unc_host:  # an IPv6 literal cannot stand in a UNC path as is
        unc_host = unc_host.replace(":", "-") + ".ipv6-literal.net"
    if not shutil.which("smbclient"):
        return [], "smbclient is not installed"
    if user.upper().startswith(("CN=", "OU=", "DC=")):
        return [], "the collection account is a DN; SMB needs a user name or UPN"
    with tempfile.TemporaryDirectory(prefix="carbet-sysvol-") as work:
        auth = Path(work) / "auth"
        auth.touch(mode=0o600)
        account, _, realm = user.partition("@")
        if "\\" in account:
            realm, account = account.split("\\", 1)
        lines = [f"username = {account}", f"password = {password}"]
        if realm:
            lines.append(f"domain = {realm}")
        auth.write_text("\n".join(lines) + "\n")
        local = Path(work) / "sysvol"
        local.mkdir()
        # With recursion, smbclient filters files by "mask" (mget's own masks do not recurse).
        commands = (
            f'prompt OFF; recurse ON; lcd "{local}"; cd "{domain}/Policies"; mask *.xml; mget *'
        )
        try:
            done = subprocess.run(
                [*_smbclient(unc_host, target), "-A", str(auth), "-c", commands],
                capture_output=True,
                timeout=SMB_TIMEOUT,
                check=False,
                text=True,
                errors="replace",
            )
        except subprocess.TimeoutExpired:
            return [], f"SMB read of SYSVOL timed out after {SMB_TIMEOUT} s"
        failure = next(
            (line for line in done.stdout.splitlines() + done.stderr.splitlines()
             if "NT_STATUS_" in line and "NO_SUCH_FILE" not in line),
            "",
        )  # fmt: skip
        if done.returncode and failure:
            return [], f"SMB read of SYSVOL failed: {failure.strip()[:200]}"
        return scan_directory(local), ""
