"""Crisis templates: JSON files giving a case its tasks, checklists, contacts and board.

A template is data, edited by the centre and checked before use (``carbet crisis templates
check FILE``): every problem is reported with the line of the offending key (the reader of
``carbet.engines.roadmap.jsonpos``), all at once, and nothing is used unless the whole file is
valid. Format::

    {
      "format": 1,
      "code": "ransomware", "version": "1", "title": "...", "summary": "...",
      "personal_data_likely": true,
      "phases": {"alert": {"tasks": [{"workstream": "technical", "title": "...",
                                       "priority": 1, "due_hours": 2, "owner": "..."}]}, ...},
      "checklists": [{"code": "exit", "title": "...", "items": ["...", "..."]}],
      "contacts": [{"kind": "pris", "why": "..."}],
      "activities": ["Admissions", "Urgences", ...]
    }

Every template has an ``exit`` checklist: the exit criteria.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from carbet.engines.crisis.phases import CLOSED, PHASES
from carbet.engines.roadmap import jsonpos

FORMAT = 1
MAX_BYTES = 512 * 1024
MAX_TEXT = 2000
MAX_ITEMS = 300
WORKSTREAMS: tuple[str, ...] = ("technical", "care", "communication", "legal", "hr", "suppliers")
CONTACT_KINDS: tuple[str, ...] = (
    "pris",
    "cert_sante",
    "ars",
    "cnil",
    "insurer",
    "vendor",
    "it_provider",
    "police",
    "other",
)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TOP = {
    "format",
    "code",
    "version",
    "title",
    "summary",
    "personal_data_likely",
    "phases",
    "checklists",
    "contacts",
    "activities",
}
_TASK = {"workstream", "title", "detail", "priority", "due_hours", "owner"}


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}" if self.line else self.message


class TemplateError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems[:50]))


@dataclass(frozen=True)
class TaskSpec:
    phase: str
    workstream: str
    title: str
    detail: str
    priority: int
    due_hours: int | None
    owner: str


@dataclass(frozen=True)
class Checklist:
    code: str
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class ContactSpec:
    kind: str
    why: str


@dataclass(frozen=True)
class Template:
    code: str
    version: str
    title: str
    summary: str
    personal_data_likely: bool
    tasks: tuple[TaskSpec, ...]
    checklists: tuple[Checklist, ...]
    contacts: tuple[ContactSpec, ...]
    activities: tuple[str, ...]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def text(self, obj: jsonpos.PosDict, key: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(obj.line, f"« {key} » manquant")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(obj.line_of(key), f"« {key} » doit être un texte non vide")
            return ""
        if len(value) > MAX_TEXT:
            self.add(obj.line_of(key), f"« {key} » dépasse {MAX_TEXT} caractères")
            return ""
        return value.strip()

    def unknown(self, obj: jsonpos.PosDict, allowed: set[str], where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(obj.line_of(key), f"clé inconnue « {key} » dans {where}")

    def obj(self, value: Any, line: int, what: str) -> jsonpos.PosDict | None:
        if not isinstance(value, jsonpos.PosDict):
            self.add(line, f"{what} doit être un objet {{...}}")
            return None
        return value

    def array(self, value: Any, line: int, what: str) -> jsonpos.PosList:
        if value is None:
            return jsonpos.PosList()
        if not isinstance(value, jsonpos.PosList):
            self.add(line, f"{what} doit être une liste [...]")
            return jsonpos.PosList()
        if len(value) > MAX_ITEMS:
            self.add(line, f"{what} : plus de {MAX_ITEMS} éléments")
            return jsonpos.PosList()
        return value

    def task(self, phase: str, raw: Any, line: int) -> TaskSpec | None:
        obj = self.obj(raw, line, "une tâche")
        if obj is None:
            return None
        self.unknown(obj, _TASK, "une tâche")
        workstream = obj.get("workstream")
        if workstream not in WORKSTREAMS:
            self.add(
                obj.line_of("workstream"),
                f"chantier inconnu {workstream!r} (attendu : {', '.join(WORKSTREAMS)})",
            )
        priority = obj.get("priority", 3)
        if not isinstance(priority, int) or isinstance(priority, bool) or priority not in (1, 2, 3):
            self.add(obj.line_of("priority"), "« priority » doit valoir 1, 2 ou 3")
            priority = 3
        due = obj.get("due_hours")
        if due is not None and (
            not isinstance(due, int) or isinstance(due, bool) or not 0 < due <= 24 * 365
        ):
            self.add(obj.line_of("due_hours"), "« due_hours » : un nombre d'heures entier positif")
            due = None
        title = self.text(obj, "title")
        detail = self.text(obj, "detail", required=False)
        owner = self.text(obj, "owner", required=False)
        if not title or workstream not in WORKSTREAMS:
            return None
        return TaskSpec(phase, str(workstream), title, detail, priority, due, owner)

    def phases(self, raw: Any, line: int) -> list[TaskSpec]:
        obj = self.obj(raw, line, "« phases »")
        tasks: list[TaskSpec] = []
        if obj is None:
            return tasks
        for phase, body in obj.items():
            if phase not in PHASES or phase == CLOSED:
                self.add(obj.line_of(phase), f"phase inconnue « {phase} »")
                continue
            section = self.obj(body, obj.line_of(phase), f"la phase « {phase} »")
            if section is None:
                continue
            self.unknown(section, {"tasks"}, f"la phase « {phase} »")
            items = self.array(section.get("tasks"), section.line_of("tasks"), "« tasks »")
            for i, item in enumerate(items):
                task = self.task(phase, item, items.line_of(i))
                if task:
                    tasks.append(task)
        return tasks

    def checklists(self, raw: Any, line: int) -> list[Checklist]:
        result: list[Checklist] = []
        items = self.array(raw, line, "« checklists »")
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            obj = self.obj(item, items.line_of(i), "une liste de contrôle")
            if obj is None:
                continue
            self.unknown(obj, {"code", "title", "items"}, "une liste de contrôle")
            code = self.text(obj, "code")
            if code and not CODE_RE.match(code):
                self.add(obj.line_of("code"), f"code invalide « {code} » (a-z, 0-9, - et _)")
                code = ""
            if code in seen:
                self.add(obj.line_of("code"), f"code « {code} » en double (ligne {seen[code]})")
                code = ""
            elif code:
                seen[code] = obj.line_of("code")
            title = self.text(obj, "title")
            lines = self.array(obj.get("items"), obj.line_of("items"), "« items »")
            texts = []
            for j, text in enumerate(lines):
                if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                    self.add(lines.line_of(j), "chaque point doit être un texte non vide")
                else:
                    texts.append(text.strip())
            if not texts:
                self.add(obj.line, "une liste de contrôle sans aucun point")
            if code and title and texts:
                result.append(Checklist(code, title, tuple(texts)))
        if "exit" not in seen:
            self.add(line, "la liste de contrôle « exit » (critères de sortie de crise) manque")
        return result

    def contacts(self, raw: Any, line: int) -> list[ContactSpec]:
        result: list[ContactSpec] = []
        items = self.array(raw, line, "« contacts »")
        for i, item in enumerate(items):
            obj = self.obj(item, items.line_of(i), "un contact")
            if obj is None:
                continue
            self.unknown(obj, {"kind", "why"}, "un contact")
            kind = obj.get("kind")
            if kind not in CONTACT_KINDS:
                self.add(obj.line_of("kind"), f"type de contact inconnu {kind!r}")
                continue
            result.append(ContactSpec(str(kind), self.text(obj, "why")))
        return result

    def activities(self, raw: Any, line: int) -> list[str]:
        items = self.array(raw, line, "« activities »")
        names: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip() or len(item) > 120:
                self.add(items.line_of(i), "chaque activité : un nom de 1 à 120 caractères")
            elif item.strip() in names:
                self.add(items.line_of(i), f"activité « {item.strip()} » en double")
            else:
                names.append(item.strip())
        return names


def loads(text: str) -> Template:
    """Read and check one template; ``TemplateError`` lists every problem with its line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise TemplateError([Problem(0, f"fichier trop gros (plus de {MAX_BYTES} octets)")])
    try:
        raw = jsonpos.loads(text)
    except jsonpos.JsonPositionError as exc:
        raise TemplateError([Problem(exc.line, exc.message)]) from None
    check = _Checker()
    top = check.obj(raw, 1, "le fichier")
    if top is None:
        raise TemplateError(check.problems)
    check.unknown(top, _TOP, "le fichier")
    if top.get("format") != FORMAT:
        check.add(top.line_of("format"), f"« format » doit valoir {FORMAT}")
    code = check.text(top, "code")
    if code and not CODE_RE.match(code):
        check.add(top.line_of("code"), f"code invalide « {code} » (a-z, 0-9, - et _)")
    version = check.text(top, "version")
    title = check.text(top, "title")
    summary = check.text(top, "summary", required=False)
    likely = top.get("personal_data_likely", False)
    if not isinstance(likely, bool):
        check.add(top.line_of("personal_data_likely"), "« personal_data_likely » : true ou false")
        likely = False
    tasks = check.phases(top.get("phases"), top.line_of("phases"))
    if not tasks and "phases" in top:
        check.add(top.line_of("phases"), "aucune tâche dans « phases »")
    checklists = check.checklists(top.get("checklists"), top.line_of("checklists"))
    contacts = check.contacts(top.get("contacts"), top.line_of("contacts"))
    activities = check.activities(top.get("activities"), top.line_of("activities"))
    if check.problems:
        raise TemplateError(check.problems)
    return Template(
        code=code,
        version=version,
        title=title,
        summary=summary,
        personal_data_likely=likely,
        tasks=tuple(tasks),
        checklists=tuple(checklists),
        contacts=tuple(contacts),
        activities=tuple(activities),
    )
