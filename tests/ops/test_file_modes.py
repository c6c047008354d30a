"""Data files are the service account's only: files 0600, directories 0700.

The real ``carbet`` command (migrate, then the demo region) runs here in a fresh process,
started with a permissive umask (022, a common default) to prove the command sets its own;
then the data directory is made readable by everyone, as an older version or a manual copy
would leave it, and ``carbet migrate`` puts it right and says so in its log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from carbet.core.models import Mandate
from carbet.ops import filemodes
from tests.api.conftest import token_client
from tests.api.test_mandates import PDF, _form
from tests.ops.realservers import ROOT, carbet_env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carbet.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=0o022,
    )


def private_problems(root: Path) -> list[str]:
    """Everything under ``root`` (public static files excepted) that others could read."""
    problems = []
    for path, is_dir in filemodes._walk(root):
        if path.is_symlink():
            continue
        if mode(path) & 0o077:
            problems.append(f"{path} {oct(mode(path))}{'/' if is_dir else ''}")
    return problems


def test_migrate_and_demo_create_private_files_and_migrate_fixes_old_ones(tmp_path):
    data = tmp_path / "data"
    env = carbet_env(data, CARBET_ALLOW_LOOPBACK_ASSETS="1")
    first = run(env, "migrate", "--no-input")
    assert first.returncode == 0, first.stderr[-3000:]
    # The demo region stores signed mandates and evidence in uploads/.
    demo = run(env, "demo", "--password", "demo passphrase 2026")
    assert demo.returncode == 0, (demo.stdout[-2000:], demo.stderr[-3000:])
    assert any(p.is_file() for p in (data / "uploads").rglob("*")), "the demo stored no file"
    database = data / "carbet.sqlite3"
    keys = data / "keys"
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    assert mode(keys) == 0o700
    assert mode(keys / "secret_key") == 0o600
    assert mode(keys / "encryption.key") == 0o600
    # WAL mode: SQLite's companion files exist while a connection is open, and get the
    # database's mode; those left behind must be private too.
    assert not private_problems(data), private_problems(data)

    # As an older version (umask 022) or a copy by hand would have left them.
    uploads = data / "uploads" / "mandates"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "old.pdf").write_bytes(PDF)
    (data / "backups").mkdir(exist_ok=True)
    (data / "backups" / "carbet-old.tar.gz").write_bytes(b"backup")
    for path, is_dir in filemodes._walk(data):
        path.chmod(0o755 if is_dir else 0o644)
    second = run(env, "migrate", "--no-input")
    assert second.returncode == 0, second.stderr[-3000:]
    assert not private_problems(data), private_problems(data)
    assert mode(uploads / "old.pdf") == 0o600 and mode(uploads) == 0o700
    assert "file mode restricted" in second.stderr
    assert str(database) in second.stderr


def test_secure_tree_logs_each_fix_and_leaves_static_files_alone(tmp_path, caplog):
    root = tmp_path / "data"
    (root / "keys").mkdir(parents=True)
    (root / "static").mkdir()
    key = root / "keys" / "secret_key"
    key.write_text("k")
    css = root / "static" / "carbet.css"
    css.write_text("body{}")
    for path in (root, root / "keys", key, css):
        path.chmod(0o755 if path.is_dir() else 0o644)
    outside = tmp_path / "feeds.sqlite"
    outside.write_bytes(b"")
    outside.chmod(0o664)
    with caplog.at_level(logging.WARNING, logger="carbet.ops.filemodes"):
        fixed = dict(filemodes.secure_tree(root, [outside]))
    assert fixed == {root: 0o755, root / "keys": 0o755, key: 0o644, outside: 0o664}
    assert mode(key) == 0o600 and mode(root) == 0o700 and mode(outside) == 0o600
    assert mode(css) == 0o644  # public by nature, served to every visitor
    assert len([r for r in caplog.records if r.msg.startswith("file mode restricted")]) == 4
    assert filemodes.secure_tree(root, [outside]) == []  # nothing left to do


def test_private_umask_keeps_a_stricter_one():
    old = os.umask(0o077)
    try:
        os.umask(0o027)
        filemodes.private_umask()
        assert os.umask(0o022) == 0o077
        os.umask(0o277)
        filemodes.private_umask()
        assert os.umask(0o022) == 0o277
    finally:
        os.umask(old)


def test_an_uploaded_mandate_is_private(region):
    client = token_client(region.users["director"])
    response = client.multipart(f"/structures/{region.a.pk}/mandates", _form())
    assert response.status_code == 201, response.content[:500]
    mandate = Mandate.objects.get(pk=response.json()["id"])
    stored = Path(mandate.document.path)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == mandate.document_sha256
    assert mode(stored) == 0o600
    media = Path(settings.MEDIA_ROOT)
    directory = stored.parent
    while directory != media and media in directory.parents:
        assert mode(directory) == 0o700, directory
        directory = directory.parent


def test_an_evidence_upload_through_a_page_is_private(region):
    """The same for a file posted through a form (evidence of a roadmap or an action)."""
    from carbet.findings.models import ActionEvidence, ActionItem

    action = ActionItem.objects.create(structure=region.a, title="Patch the VPN")
    evidence = ActionEvidence(action=action, note="proof")
    evidence.document.save("proof.txt", SimpleUploadedFile("proof.txt", b"proof"), save=True)
    assert mode(Path(evidence.document.path)) == 0o600
