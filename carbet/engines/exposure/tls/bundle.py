"""Reading a PEM bundle of intermediate CA certificates (an authority's, or a CCADB export).

The bundle is downloaded by the centre itself and imported with ``carbet intermediates
import``; Carbet never fetches it. Only what can serve as an intermediate is accepted: a
readable certificate with basicConstraints CA=true that is not a root (roots belong to the trust
store, never to this list: they would become anchors). Every other block is reported with the
line it starts on, and the rest of the file is still read: one bad block does not hide the
good ones. Text outside the blocks (the comments of Mozilla's and CCADB's exports) is ignored.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
from dataclasses import dataclass, field

from carbet.engines.exposure.tls.intermediates import Intermediate, IntermediateError, describe

MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # the whole CCADB intermediate export is a few megabytes
MAX_BLOCK_CHARS = 64 * 1024  # one certificate in base64
MAX_PROBLEMS = 1000
_BEGIN = re.compile(r"^-----BEGIN ([A-Z0-9 ]{1,60})-----\s*$")
_END = re.compile(r"^-----END ([A-Z0-9 ]{1,60})-----\s*$")


class BundleError(ValueError):
    """The file as a whole cannot be read as a PEM bundle."""


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line where the block starts (or where the problem is)
    message: str  # French, for the person importing


@dataclass
class Bundle:
    intermediates: list[tuple[int, Intermediate]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0  # the same certificate twice in the file (kept once, not an error)

    def problem(self, line: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, message))


def parse_bundle(data: bytes, now: dt.datetime | None = None) -> Bundle:
    """The intermediates of a PEM bundle and, line by line, what was refused and why.

    Raises BundleError only when the file as a whole is unusable (too big, no block at all)."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"fichier trop gros (plus de {MAX_BUNDLE_BYTES // 1024 // 1024} Mo)")
    text = data.decode("utf-8", errors="replace")
    moment = now or dt.datetime.now(dt.UTC)
    bundle = Bundle()
    seen: set[str] = set()
    blocks = 0
    for start, label, body, problem in _blocks(text.splitlines()):
        blocks += 1
        if problem:
            bundle.problem(start, problem)
            continue
        if label not in ("CERTIFICATE", "X509 CERTIFICATE"):
            # Never echo the block: it may be a private key pasted by mistake.
            bundle.problem(start, f"bloc « {label} » ignoré : seuls les certificats sont acceptés")
            continue
        refusal, item = _judge(body, moment)
        if item is None:
            bundle.problem(start, refusal)
        elif item.sha256 in seen:
            bundle.duplicates += 1
        else:
            seen.add(item.sha256)
            bundle.intermediates.append((start, item))
    if not blocks:
        raise BundleError(
            "aucun bloc « -----BEGIN CERTIFICATE----- » : ce n'est pas un fichier PEM"
        )
    return bundle


def _blocks(lines: list[str]) -> list[tuple[int, str, str, str]]:
    """(start line, label, base64 body, problem) of every BEGIN…END block."""
    found: list[tuple[int, str, str, str]] = []
    start, label, size = 0, "", 0
    body: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if label:
                found.append((start, label, "", f"bloc « {label} » sans ligne « -----END »"))
            start, label, body, size = number, begin.group(1), [], 0
        elif end and label:
            if end.group(1) != label:
                problem = f"bloc « {label} » fermé par « END {end.group(1)} » (ligne {number})"
                found.append((start, label, "", problem))
            else:
                found.append((start, label, "".join(body), ""))
            label = ""
        elif end:
            found.append((number, end.group(1), "", "ligne « -----END » sans « -----BEGIN »"))
        elif label:
            size += len(line)
            if size <= MAX_BLOCK_CHARS:
                body.append(line)
    if label:
        found.append((start, label, "", f"bloc « {label} » sans ligne « -----END »"))
    return found


def _judge(body: str, now: dt.datetime) -> tuple[str, Intermediate | None]:
    """(refusal, None) or ("", the intermediate) for one certificate block's base64."""
    if len(body) > MAX_BLOCK_CHARS:
        return "bloc trop long pour un certificat", None
    try:
        der = binascii.a2b_base64(body.encode("ascii", errors="strict"))
    except (binascii.Error, UnicodeEncodeError):
        return "contenu illisible (base64 invalide)", None
    if not der:
        return "bloc vide", None
    try:
        item = describe(der)
    except IntermediateError as exc:
        return str(exc), None
    if not item.is_ca:
        return (
            f"« {item.subject[:120]} » n'est pas une autorité de certification "
            "(basicConstraints CA absent ou faux) : refusé",
            None,
        )
    if item.self_issued:
        return (
            f"« {item.subject[:120]} » est un certificat racine : les racines viennent du "
            "magasin de confiance, pas de cette liste",
            None,
        )
    if item.not_after < now:
        return f"« {item.subject[:120]} » a expiré le {item.not_after:%d/%m/%Y} : ignoré", None
    return "", item
