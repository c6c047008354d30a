"""Tables of the community service, one module per part (inventory and matched alerts,
bulletins, knowledge base, mutual aid, shared solutions, events, exchange)."""

from carbet.community.models.alerts import MatchRun, StructureAlert, Vulnerability
from carbet.community.models.bulletins import Bulletin, BulletinDelivery
from carbet.community.models.events import CalendarFeed, Event, Registration
from carbet.community.models.exchange import FeedImport, SharedEvent
from carbet.community.models.inventory import SoftwareLine
from carbet.community.models.knowledge import Article, ArticleVersion
from carbet.community.models.mutualaid import AidMessage, AidPost, AidThread, SkillProfile
from carbet.community.models.solutions import Need, Offer, OfferInterest

__all__ = [
    "AidMessage",
    "AidPost",
    "AidThread",
    "Article",
    "ArticleVersion",
    "Bulletin",
    "BulletinDelivery",
    "CalendarFeed",
    "Event",
    "FeedImport",
    "MatchRun",
    "Need",
    "Offer",
    "OfferInterest",
    "Registration",
    "SharedEvent",
    "SkillProfile",
    "SoftwareLine",
    "StructureAlert",
    "Vulnerability",
]
