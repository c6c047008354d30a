"""The scenario of a cyber crisis exercise, as frozen dataclasses (pure Python, no Django).

A ``Scenario`` is what the library holds and what an exercise copies: objectives, the situation
file (*dossier de mise en situation*), cells, injects with their expected reactions, and the
observers' grid. Every collection is a tuple so that scenarios compare by value and can be
hashed; ``jsonformat.parse`` builds them from a file and ``jsonformat.export`` writes them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["debutant", "intermediaire", "confirme"]
Audience = Literal["sanitaire", "medico_social", "tous"]
Channel = Literal["email", "press", "social", "document", "phone", "message"]
Scope = Literal["local", "regional"]
Condition = Literal["sent", "replied", "not_replied", "expectation_met", "expectation_not_met"]

LEVELS: tuple[str, ...] = ("debutant", "intermediaire", "confirme")
AUDIENCES: tuple[str, ...] = ("sanitaire", "medico_social", "tous")
CHANNELS: tuple[str, ...] = ("email", "press", "social", "document", "phone", "message")
SCOPES: tuple[str, ...] = ("local", "regional")
CONDITIONS: tuple[str, ...] = (
    "sent",
    "replied",
    "not_replied",
    "expectation_met",
    "expectation_not_met",
)
# What a cell does in the crisis organisation.
CELL_ROLES: tuple[str, ...] = (
    "decision",
    "operationnelle",
    "technique",
    "communication",
    "soins",
    "autre",
)
# Recipients that are not a cell: everybody, or the people holding one exercise role.
ALL_RECIPIENTS = "all"
PERSON_ROLES: tuple[str, ...] = ("directeur", "animateur", "observateur")

LEVEL_LABELS: dict[str, str] = {
    "debutant": "Débutant",
    "intermediaire": "Intermédiaire",
    "confirme": "Confirmé",
}
AUDIENCE_LABELS: dict[str, str] = {
    "sanitaire": "Établissements sanitaires",
    "medico_social": "Établissements médico-sociaux",
    "tous": "Tous les établissements",
}
CHANNEL_LABELS: dict[str, str] = {
    "email": "Courriel",
    "press": "Article de presse (simulé)",
    "social": "Réseaux sociaux (simulé)",
    "document": "Document",
    "phone": "Appel téléphonique à passer",
    "message": "Message dans l'espace joueur",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: ``path:line: message`` (message in French).

    ``line`` is 1-based; 0 means the whole file. ``location`` replaces the line number when
    the place is better named otherwise (a spreadsheet cell: ``Chronogramme!B12``).
    """

    path: str
    line: int
    message: str
    location: str = ""

    def render(self) -> str:
        where = self.location or (str(self.line) if self.line else "")
        return f"{self.path}:{where}: {self.message}" if where else f"{self.path}: {self.message}"

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Variable:
    """A ``{{name}}`` placeholder the exercise fills per structure (with ``default`` if unset)."""

    name: str
    description: str
    default: str = ""


@dataclass(frozen=True)
class Objective:
    code: str
    title: str
    criteria: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """One section of the situation file, ``text`` in Markdown (may hold ``{{variables}}``)."""

    title: str
    text: str


@dataclass(frozen=True)
class Cell:
    code: str
    name: str
    role: str  # one of CELL_ROLES


@dataclass(frozen=True)
class Sender:
    """The simulated sender; ``address`` is fictitious (never a real mailbox of someone)."""

    name: str
    address: str = ""


@dataclass(frozen=True)
class Dependency:
    """The inject waits for an earlier inject ``inject`` to satisfy ``condition``."""

    inject: str
    condition: str  # one of CONDITIONS


@dataclass(frozen=True)
class Expectation:
    """A reaction expected from ``cell`` (a cell code, or "" for any), within some minutes."""

    code: str
    text: str
    objective: str = ""
    cell: str = ""
    within_minutes: int | None = None


@dataclass(frozen=True)
class Inject:
    code: str
    offset_minutes: int
    title: str
    channel: str  # one of CHANNELS
    scope: str = "local"  # one of SCOPES
    sender: Sender = Sender("")
    recipients: tuple[str, ...] = (ALL_RECIPIENTS,)
    subject: str = ""
    body: str = ""
    phone_script: str = ""
    depends_on: tuple[Dependency, ...] = ()
    expectations: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class ScaleLevel:
    value: int
    label: str


@dataclass(frozen=True)
class Criterion:
    """A line of the observation grid, rated on ``scale`` by observers."""

    code: str
    criterion: str
    objective: str = ""
    scale: tuple[ScaleLevel, ...] = ()


@dataclass(frozen=True)
class Scenario:
    code: str
    version: str
    title: str
    level: str  # one of LEVELS
    audience: str  # one of AUDIENCES
    summary: str
    duration_minutes: int
    regional_ready: bool = False
    variables: tuple[Variable, ...] = ()
    objectives: tuple[Objective, ...] = ()
    situation: tuple[Section, ...] = ()
    cells: tuple[Cell, ...] = ()
    injects: tuple[Inject, ...] = ()
    observation_grid: tuple[Criterion, ...] = ()

    def inject(self, code: str) -> Inject | None:
        return next((item for item in self.injects if item.code == code), None)

    def variable_defaults(self) -> dict[str, str]:
        return {variable.name: variable.default for variable in self.variables}
