"""The vendor questionnaire: the questions (what a director needs to know from a vendor or IT
provider before deploying a service) and how answers are checked and shown."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_ANSWER = 2000
YES_NO = (
    ("yes", gettext_lazy("Oui")),
    ("no", gettext_lazy("Non")),
    ("partly", gettext_lazy("En partie")),
)

# code → (question, kind): "yesno" answers carry a yes/no/partly and a free comment.
QUESTIONS: dict[str, tuple[Any, str]] = {
    "hds": (
        gettext_lazy(
            "Êtes-vous certifié hébergeur de données de santé (HDS) ? Joignez le certificat."
        ),
        "yesno",
    ),
    "location": (gettext_lazy("Où sont les données (pays, hébergeur) ?"), "text"),
    "mfa": (
        gettext_lazy("La double authentification est-elle disponible pour tous les comptes ?"),
        "yesno",
    ),
    "backups": (
        gettext_lazy(
            "Sauvegardez-vous les données ? À quelle fréquence, où, et quand avez-vous testé "
            "une restauration ?"
        ),
        "yesno",
    ),
    "logs": (gettext_lazy("Gardez-vous les journaux de connexion ? Combien de temps ?"), "yesno"),
    "patching": (
        gettext_lazy("En combien de temps appliquez-vous une correction de sécurité critique ?"),
        "text",
    ),
    "reversibility": (
        gettext_lazy("Comment récupérons-nous nos données en fin de contrat (format, délai) ?"),
        "text",
    ),
    "support": (
        gettext_lazy(
            "Qui appeler en cas d'incident de sécurité (nom, téléphone, e-mail, horaires) ?"
        ),
        "text",
    ),
}


def clean(data: dict[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(answers, errors) from a submitted form: unknown keys are ignored, lengths capped."""
    answers: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for code, (_question, kind) in QUESTIONS.items():
        text = str(data.get(f"{code}_text") or "").strip()
        if len(text) > MAX_ANSWER:
            errors[code] = _("%(n)d caractères au plus.") % {"n": MAX_ANSWER}
            continue
        choice = str(data.get(f"{code}_choice") or "")
        if kind == "yesno":
            if choice not in {value for value, _label in YES_NO}:
                errors[code] = _("Répondez oui, non ou en partie.")
                continue
            answers[code] = {"choice": choice, "text": text}
        else:
            if not text:
                errors[code] = _("Cette réponse est nécessaire.")
                continue
            answers[code] = {"choice": "", "text": text}
    return answers, errors


def answered_rows(answers: dict[str, Any]) -> list[dict[str, str]]:
    labels = dict(YES_NO)
    rows = []
    for code, (question, _kind) in QUESTIONS.items():
        answer = answers.get(code) if isinstance(answers, dict) else None
        if not isinstance(answer, dict):
            continue
        choice = str(answer.get("choice") or "")
        rows.append(
            {
                "code": code,
                "question": str(question),
                "choice": str(labels.get(choice, "")),
                "text": str(answer.get("text") or ""),
            }
        )
    return rows
