"""Group Policy Preferences files with a ``cpassword`` in SYSVOL (MS14-025).

The key that "protects" cpassword is public, so any domain user can read such a password. The
scan records only where it is ({"gpo", "path", "user"}) — never the value. Files are fetched
read-only with ``smbclient`` (credentials in a 0600 temporary file, never on the command line),
bounded in time and size, and parsed with defusedxml.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

GPP_FILES = (
    "Groups.xml",
    "Services.xml",
    "ScheduledTasks.xml",
    "DataSources.xml",
    "Drives.xml",
    "Printers.xml",
)
SMB_TIMEOUT = 120  # seconds for the whole SYSVOL walk
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


def scan_sysvol(
    host: str, user: str, password: str, domain: str
) -> tuple[list[dict[str, str]], str]:
    """Fetch the GPP files of \\\\host\\SYSVOL\\domain\\Policies and scan them.

    Returns (findings, problem): ``problem`` is "" when the scan ran, else why it could not
    (the collector records it as a gap rather than claiming "no GPP password").
    """
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
                ["smbclient", f"//{host}/SYSVOL", "-A", str(auth), "-m", "SMB3", "-c", commands],
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
