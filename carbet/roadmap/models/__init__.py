"""Tables of the roadmap service, split by topic (frameworks, assessments and evidence, the
roadmap itself, the backup register, indicators)."""

from carbet.roadmap.models.assessments import (
    Answer,
    Assessment,
    AutoEvidence,
    Evidence,
    Result,
    ServiceFact,
)
from carbet.roadmap.models.backups import BackupMethod, BackupSystem, RestoreResult, RestoreTest
from carbet.roadmap.models.frameworks import Framework, Requirement
from carbet.roadmap.models.indicators import IndicatorValue, RegionalIndicator
from carbet.roadmap.models.plan import (
    FundingDomain,
    ItemStatus,
    Milestone,
    Roadmap,
    RoadmapItem,
    RoadmapStatus,
)

__all__ = [
    "Answer",
    "Assessment",
    "AutoEvidence",
    "BackupMethod",
    "BackupSystem",
    "Evidence",
    "Framework",
    "FundingDomain",
    "IndicatorValue",
    "ItemStatus",
    "Milestone",
    "RegionalIndicator",
    "Requirement",
    "RestoreResult",
    "RestoreTest",
    "Result",
    "Roadmap",
    "RoadmapItem",
    "RoadmapStatus",
    "ServiceFact",
]
