"""The regional lure policy: no lure may play on pay, bonuses or sanctions.

Staff representatives and the national good-practice guides agree that lures about salary,
bonuses, discipline or dismissal hurt trust in the employer far more than they teach. Every
template (written here or imported) is checked before it can be used in a campaign.
"""

from __future__ import annotations

import re
import unicodedata

# Stems matched on accent-free, lower-cased words.
FORBIDDEN_STEMS: dict[str, str] = {
    r"salair": "salaire",
    r"remunerat": "rémunération",
    r"prime(s)?\b": "prime",
    r"bonus": "bonus",
    r"gratification": "gratification",
    r"augmentation": "augmentation",
    r"fiche(s)? de paie|bulletin(s)? de (paie|salaire)|\bpaie\b": "paie",
    r"sanction": "sanction",
    r"disciplin": "discipline",
    r"licenci": "licenciement",
    r"avertissement": "avertissement",
    r"blame|blâme": "blâme",
    r"mise a pied": "mise à pied",
}
_PATTERNS = [(re.compile(r"\b" + stem), label) for stem, label in FORBIDDEN_STEMS.items()]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def forbidden_themes(*texts: str) -> list[str]:
    """The forbidden themes found in ``texts`` (subject, body, landing page), sorted."""
    folded = _fold(" ".join(t or "" for t in texts))
    return sorted({label for pattern, label in _PATTERNS if pattern.search(folded)})
