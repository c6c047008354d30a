"""The one severity scale of Carbet: values, names, score points and the words people use.

Pure Python, no Django: the engines (exposure checks, directory rules), the ``carbet scan``
JSON contract and the findings store (``carbet.findings.choices.Severity`` takes its values
and aliases from here) all speak this scale, so a severity means the same everywhere.
"""

from __future__ import annotations

INFO, LOW, MEDIUM, HIGH, CRITICAL = 0, 1, 2, 3, 4

# English names: the JSON contract of `carbet scan` and the API.
NAMES: dict[int, str] = {
    INFO: "info",
    LOW: "low",
    MEDIUM: "medium",
    HIGH: "high",
    CRITICAL: "critical",
}
# Short French words for tables (the findings store has its own translatable labels).
NAMES_FR: dict[int, str] = {
    INFO: "info",
    LOW: "faible",
    MEDIUM: "moyenne",
    HIGH: "élevée",
    CRITICAL: "critique",
}
# Score points an exposure check of this severity costs in its category (0–100).
POINTS: dict[int, int] = {INFO: 0, LOW: 5, MEDIUM: 10, HIGH: 25, CRITICAL: 40}

# What imports and people write, in English or French, any case.
ALIASES: dict[str, int] = {
    "info": INFO,
    "informational": INFO,
    "information": INFO,
    "none": INFO,
    "low": LOW,
    "faible": LOW,
    "basse": LOW,
    "medium": MEDIUM,
    "moderate": MEDIUM,
    "moyenne": MEDIUM,
    "modérée": MEDIUM,
    "high": HIGH,
    "élevée": HIGH,
    "elevee": HIGH,
    "haute": HIGH,
    "important": HIGH,
    "critical": CRITICAL,
    "critique": CRITICAL,
}


def parse(value: object) -> int:
    """0–4, an English or French name (any case) or its digit → the value; ValueError else."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int) and value in NAMES:
        return value
    text = str(value).strip().lower()
    if text in ALIASES:
        return ALIASES[text]
    if text.isdigit() and int(text) in NAMES:
        return int(text)
    raise ValueError(value)


def clamp(value: object, default: int = MEDIUM) -> int:
    """A stored or overridden severity forced into 0–4 (``default`` when absent)."""
    if value is None:
        return default
    return max(INFO, min(CRITICAL, int(str(value)) if not isinstance(value, int) else value))


def name(value: int) -> str:
    return NAMES[clamp(value)]
