"""Models of the findings store and corrective action plans."""

from carbet.findings.models.acceptance import RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.models.digest import DigestSent
from carbet.findings.models.findings import Finding, FindingEvent, Run, SlaPolicy, Stream
from carbet.findings.models.plans import (
    ActionEvidence,
    ActionItem,
    ActionStatus,
    Campaign,
    CampaignNotice,
    Priority,
)
from carbet.findings.models.snapshots import PostureSnapshot

__all__ = [
    "ActionEvidence",
    "ActionItem",
    "ActionStatus",
    "Campaign",
    "CampaignNotice",
    "DigestSent",
    "Finding",
    "FindingEvent",
    "PostureSnapshot",
    "Priority",
    "RiskAcceptance",
    "RiskAcceptanceStatus",
    "Run",
    "SlaPolicy",
    "Stream",
]
