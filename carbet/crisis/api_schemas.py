"""Request and response schemas of the crisis API (``carbet/crisis/api.py``).

Responses list their fields explicitly; requests refuse unknown fields (``InputSchema``).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from carbet.api.schemas import InputSchema, StructureRef

Kind = Literal["fact", "decision", "action", "communication", "situation"]


class ReportIn(InputSchema):
    what: str = Field(min_length=1, max_length=5000)
    since: dt.datetime | None = None
    affected: str = Field("", max_length=5000)
    contact_name: str = Field(min_length=1, max_length=200)
    contact_phone: str = Field(min_length=1, max_length=30)
    contact_email: str = Field("", max_length=254)


class ReportOut(Schema):
    id: int
    structure: StructureRef
    reported_at: dt.datetime
    what: str
    since: dt.datetime | None
    affected: str
    status: str
    qualification: str
    severity: int | None
    case_id: int | None = None


class QualifyIn(InputSchema):
    qualification: Literal["incident", "crisis"]
    severity: int = Field(ge=1, le=4)
    personal_data: bool
    category: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=2000)
    open_case: bool = True
    insurer_delay_hours: int | None = Field(None, ge=1, le=24 * 90)


class CaseOut(Schema):
    id: int
    reference: str
    structure: StructureRef
    title: str
    category: str
    qualification: str
    severity: int
    personal_data: bool
    phase: str
    phase_since: dt.datetime
    opened_at: dt.datetime
    aware_at: dt.datetime
    closed_at: dt.datetime | None


class DeclarationOut(Schema):
    id: int
    kind: str
    label: str
    applicable: bool
    due_at: dt.datetime | None
    sent_at: dt.datetime | None
    reference: str
    status: str


class PhaseTime(Schema):
    phase: str
    days: float


class CaseDetailOut(CaseOut):
    phases: list[PhaseTime]
    declarations: list[DeclarationOut]
    open_tasks: int
    overdue_tasks: int
    activities_not_normal: int
    log_entries: int
    exit_criteria_done: int
    exit_criteria_total: int


class PhaseIn(InputSchema):
    phase: Literal[
        "qualification", "containment", "remediation", "rebuild", "exit", "lessons", "closed"
    ]
    reason: str = Field(min_length=1, max_length=2000)


class EntryOut(Schema):
    id: int
    sequence: int
    event_at: dt.datetime
    recorded_at: dt.datetime
    author: str = Field(alias="author_label")
    source: str
    kind: str
    text: str
    verified: bool
    supersedes: int | None = Field(alias="supersedes_id")
    superseded: bool = False
    entry_hash: str


class EntryIn(InputSchema):
    text: str = Field(min_length=1, max_length=20000)
    kind: Kind
    event_at: dt.datetime | None = None
    source: str = Field("", max_length=200)
    verified: bool = False


class CorrectionIn(InputSchema):
    text: str = Field(min_length=1, max_length=20000)
    verified: bool = False


class LogFilters(Schema):
    kind: Kind | None = None
    verified: bool | None = None
    q: str | None = Field(None, max_length=200)
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class CrisisVerifyOut(Schema):
    ok: bool
    checked: int
    first_broken: int | None
    message: str


class TaskOut(Schema):
    id: int
    workstream: str
    phase: str
    title: str
    owner: str
    priority: int
    due_at: dt.datetime | None
    status: str
    done_at: dt.datetime | None


class TaskIn(InputSchema):
    workstream: Literal["technical", "care", "communication", "legal", "hr", "suppliers"]
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field("", max_length=200)
    priority: int = Field(3, ge=1, le=3)
    due_at: dt.datetime | None = None
    detail: str = Field("", max_length=5000)


class TaskPatch(InputSchema):
    status: Literal["todo", "doing", "done", "cancelled"] | None = None
    owner: str | None = Field(None, max_length=200)
    priority: int | None = Field(None, ge=1, le=3)
    due_at: dt.datetime | None = None


class DecisionOut(Schema):
    id: int
    title: str
    options: list[str]
    chosen: str
    rationale: str
    decided_by: str
    decided_at: dt.datetime


class CrisisDecisionIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    options: list[str] = Field(default_factory=list, max_length=10)
    chosen: str = Field(min_length=1, max_length=5000)
    rationale: str = Field("", max_length=5000)
    decided_by: str = Field(min_length=1, max_length=200)
    decided_at: dt.datetime | None = None


class SentIn(InputSchema):
    sent_at: dt.datetime | None = None
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class ActivityOut(Schema):
    id: int
    name: str
    mode: str
    since: dt.datetime
    procedure: str
    impact: str


class ActivityPatch(InputSchema):
    mode: Literal["normal", "degraded", "stopped"]
    procedure: str = Field("", max_length=300)
    impact: str = Field("", max_length=5000)


class CrisisAssetOut(Schema):
    id: int
    label: str
    state: str
    since: dt.datetime
    note: str
    asset_id: int | None


class CrisisAssetPatch(InputSchema):
    state: Literal["compromised", "isolated", "cleaned", "restored", "verified"]
    note: str = Field("", max_length=300)


class CrisisBoardOut(Schema):
    activities: list[ActivityOut]
    assets: list[CrisisAssetOut]


class IndicatorOut(Schema):
    id: int
    type: str
    value: str
    tlp: str
    source: str
    first_seen: dt.datetime | None


class IndicatorIn(InputSchema):
    type: Literal["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "filename"]
    value: str = Field(min_length=1, max_length=2000)
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = "amber"
    source: str = Field("", max_length=200)
    first_seen: dt.datetime | None = None


class CountRow(Schema):
    label: str
    count: int | None


class CountTableOut(Schema):
    published: bool
    reason: str
    rows: list[CountRow]


class CrisisAggregatesOut(Schema):
    crises: int
    open: int
    by_category: CountTableOut
    by_departement: CountTableOut
    by_phase: CountTableOut
    mean_days: str | None


class TemplateOut(Schema):
    code: str
    title: str
