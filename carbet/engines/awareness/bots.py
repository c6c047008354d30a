"""Telling people's clicks from mail scanners' and link pre-fetchers'.

Security gateways (Safe Links, sandboxes) open every link of a mail within seconds of delivery,
from known networks, often with telltale user agents, and never behave like a browser: they
do not follow the redirect to the page, and the page's script beacon never fires. Each signal
is a reason; a click with any reason is flagged as a bot — flagged, never deleted — and left
out of the rates by default.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

DEFAULT_SCANNER_NETWORKS = (
    "40.92.0.0/15",  # Exchange Online Protection
    "40.107.0.0/16",
    "52.100.0.0/14",
    "104.47.0.0/17",
    "35.190.247.0/24",  # Google mail gateways
    "64.233.160.0/19",
    "66.102.0.0/20",
    "208.84.64.0/21",  # Mimecast
    "205.139.110.0/24",
)
DEFAULT_SCANNER_AGENTS = (
    r"bot\b", r"crawler", r"spider", r"python-requests", r"curl/", r"wget/", r"go-http-client",
    r"java/", r"libwww", r"headlesschrome", r"phantomjs", r"microsoft office", r"skypeuripreview",
    r"barracuda", r"proofpoint", r"mimecast", r"safelinks", r"scanner", r"preview",
)  # fmt: skip
FAST_CLICK_SECONDS = 10
# How long a person has to reach the page and run its beacon after a click.
FOLLOW_UP_GRACE = timedelta(minutes=2)


class BotReason(StrEnum):
    TOO_FAST = "too_fast"
    SCANNER_NETWORK = "scanner_network"
    SCANNER_AGENT = "scanner_agent"
    NO_FOLLOW_UP = "no_follow_up"
    NO_BEACON = "no_beacon"


@dataclass(frozen=True)
class BotRules:
    networks: tuple[str, ...] = DEFAULT_SCANNER_NETWORKS
    agents: tuple[str, ...] = DEFAULT_SCANNER_AGENTS
    fast_seconds: int = FAST_CLICK_SECONDS

    def parsed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        found = []
        for text in self.networks:
            try:
                found.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                continue
        return found

    def agent_re(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{a})" for a in self.agents) or "(?!)", re.IGNORECASE)


@dataclass(frozen=True)
class Click:
    at: datetime
    delivered_at: datetime | None
    ip: str | None
    user_agent: str
    followed_up: bool
    beacon: bool


def in_networks(ip: str | None, networks: list[Any]) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in networks)


def classify(click: Click, rules: BotRules, now: datetime) -> list[BotReason]:
    """The reasons to think ``click`` was not a person's (empty: a person's, as far as known).

    The follow-up and beacon signals are only judged once the grace period has passed: until
    then a person may still be loading the page.
    """
    reasons: list[BotReason] = []
    if click.delivered_at is not None:
        seconds = (click.at - click.delivered_at).total_seconds()
        if seconds < rules.fast_seconds:
            reasons.append(BotReason.TOO_FAST)
    if in_networks(click.ip, rules.parsed_networks()):
        reasons.append(BotReason.SCANNER_NETWORK)
    if not click.user_agent.strip() or rules.agent_re().search(click.user_agent):
        reasons.append(BotReason.SCANNER_AGENT)
    if now - click.at >= FOLLOW_UP_GRACE:
        if not click.followed_up:
            reasons.append(BotReason.NO_FOLLOW_UP)
        elif not click.beacon:
            reasons.append(BotReason.NO_BEACON)
    return reasons
