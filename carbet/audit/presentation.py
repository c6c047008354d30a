"""Showing an audit entry in plain words: the action, the changed fields and their values.

The trail stores stable codes (``report.download``, ``document_sha256``) so that it can be
verified and searched; people read labels. A code without a label of its own is composed from
the label of its subject and of its verb, and a code nobody knows is shown as readable words
(never a dotted identifier) — the raw code stays in the ``title`` of the page for the centre.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_VALUE_CHARS = 120

# Whole actions whose composed label would read badly.
ACTION_LABELS: dict[str, Any] = {
    "auth.login": gettext_lazy("Connexion"),
    "auth.logout": gettext_lazy("Déconnexion"),
    "auth.login_failed": gettext_lazy("Échec de connexion"),
    "auth.lockout": gettext_lazy("Compte bloqué après trop d'échecs"),
    "auth.mfa_enrolled": gettext_lazy("Double authentification activée"),
    "auth.mfa_verified": gettext_lazy("Code de double authentification vérifié"),
    "auth.mfa_failed": gettext_lazy("Code de double authentification refusé"),
    "auth.mfa_removed": gettext_lazy("Double authentification retirée"),
    "auth.mfa_reset": gettext_lazy("Double authentification réinitialisée"),
    "auth.backup_codes": gettext_lazy("Codes de secours créés"),
    "auth.password_changed": gettext_lazy("Mot de passe changé"),
    "report.download": gettext_lazy("Rapport téléchargé"),
    "mandate.download": gettext_lazy("Mandat téléchargé"),
    "evidence.download": gettext_lazy("Justificatif téléchargé"),
    "asset.prove_failed": gettext_lazy("Actif : preuve de propriété non trouvée"),
    "asset.proof_lapsed": gettext_lazy("Actif : preuve de propriété disparue"),
    "asset.conflict_resolve": gettext_lazy("Actif : conflit de propriété tranché"),
    "finding.status": gettext_lazy("Vulnérabilité : changement d'état"),
    "finding.manual_seen_again": gettext_lazy("Vulnérabilité : constatée à nouveau"),
    "findings.digest": gettext_lazy("Récapitulatif hebdomadaire envoyé"),
    "findings.snapshot": gettext_lazy("Photo nocturne des indicateurs"),
    "findings.ingest": gettext_lazy("Vulnérabilités reçues d'une analyse"),
    "findings.acceptance_sweep": gettext_lazy("Fin des acceptations de risque échues"),
    "action.create_from_findings": gettext_lazy(
        "Action corrective créée depuis des vulnérabilités"
    ),
    "user.password_link": gettext_lazy("Lien de création de mot de passe envoyé"),
    "user.password_set": gettext_lazy("Mot de passe défini"),
    "demo.reset": gettext_lazy("Démonstration réinitialisée"),
    "platform.selftest": gettext_lazy("Auto-vérification de la plateforme"),
    "awareness.results.nominative_view": gettext_lazy(
        "Sensibilisation : résultats nominatifs consultés"
    ),
    "roadmap.assessment_complete": gettext_lazy("Feuille de route : diagnostic terminé"),
}

SUBJECTS: dict[str, Any] = {
    "acceptance": gettext_lazy("Acceptation de risque"),
    "action": gettext_lazy("Action corrective"),
    "api_token": gettext_lazy("Jeton d'API"),
    "asset": gettext_lazy("Actif"),
    "audit": gettext_lazy("Journal d'audit"),
    "auth": gettext_lazy("Connexion"),
    "awareness": gettext_lazy("Sensibilisation"),
    "backup": gettext_lazy("Sauvegarde"),
    "campaign": gettext_lazy("Campagne de correction"),
    "contact": gettext_lazy("Contact"),
    "core": gettext_lazy("Registre"),
    "demo": gettext_lazy("Démonstration"),
    "directory": gettext_lazy("Annuaire"),
    "evidence": gettext_lazy("Justificatif"),
    "export": gettext_lazy("Export"),
    "exposure": gettext_lazy("Exposition sur internet"),
    "finding": gettext_lazy("Vulnérabilité"),
    "findings": gettext_lazy("Vulnérabilités"),
    "framework": gettext_lazy("Référentiel"),
    "ght": gettext_lazy("GHT"),
    "indicators": gettext_lazy("Indicateurs"),
    "keys": gettext_lazy("Clés de chiffrement"),
    "mandate": gettext_lazy("Mandat"),
    "membership": gettext_lazy("Rattachement"),
    "organisation": gettext_lazy("Organisation"),
    "platform": gettext_lazy("Plateforme"),
    "report": gettext_lazy("Rapport"),
    "roadmap": gettext_lazy("Feuille de route"),
    "sla": gettext_lazy("Délais de correction"),
    "structure": gettext_lazy("Structure"),
    "user": gettext_lazy("Compte"),
}

VERBS: dict[str, Any] = {
    "add": gettext_lazy("ajout"),
    "analyse": gettext_lazy("analyse"),
    "answer": gettext_lazy("réponse"),
    "approve": gettext_lazy("approbation"),
    "assign": gettext_lazy("attribution"),
    "audit": gettext_lazy("audit"),
    "cancel": gettext_lazy("annulation"),
    "compute": gettext_lazy("calcul"),
    "create": gettext_lazy("création"),
    "created": gettext_lazy("création"),
    "delete": gettext_lazy("suppression"),
    "done": gettext_lazy("terminée"),
    "download": gettext_lazy("téléchargement"),
    "edit": gettext_lazy("modification"),
    "expire": gettext_lazy("expiration"),
    "held": gettext_lazy("destinataires retenus"),
    "import": gettext_lazy("import"),
    "item_create": gettext_lazy("mesure ajoutée"),
    "item_delete": gettext_lazy("mesure supprimée"),
    "item_update": gettext_lazy("mesure modifiée"),
    "launch": gettext_lazy("lancement"),
    "load": gettext_lazy("chargement"),
    "manual": gettext_lazy("saisie manuelle"),
    "milestone": gettext_lazy("étape franchie"),
    "notice_sent": gettext_lazy("avis envoyé"),
    "propose": gettext_lazy("proposition"),
    "prove": gettext_lazy("propriété prouvée"),
    "purge": gettext_lazy("effacement des données"),
    "reanalyse": gettext_lazy("nouvelle analyse"),
    "reanchor": gettext_lazy("nouvel ancrage"),
    "reencrypt": gettext_lazy("rechiffrement"),
    "refused": gettext_lazy("refus"),
    "reject": gettext_lazy("refus"),
    "rekey": gettext_lazy("changement de clé"),
    "release": gettext_lazy("destinataires libérés"),
    "remove": gettext_lazy("retrait"),
    "reminder": gettext_lazy("rappel"),
    "request": gettext_lazy("demande"),
    "requested": gettext_lazy("demande"),
    "restore": gettext_lazy("restauration"),
    "restore_test": gettext_lazy("test de restauration"),
    "retire": gettext_lazy("retrait"),
    "revoke": gettext_lazy("révocation"),
    "rotate": gettext_lazy("renouvellement"),
    "save": gettext_lazy("enregistrement"),
    "send": gettext_lazy("envoi"),
    "sent": gettext_lazy("envoi"),
    "share": gettext_lazy("partage"),
    "sign": gettext_lazy("signature"),
    "spread": gettext_lazy("répartition"),
    "started": gettext_lazy("démarrage"),
    "stopped": gettext_lazy("arrêt"),
    "submit": gettext_lazy("dépôt"),
    "update": gettext_lazy("modification"),
    "updated": gettext_lazy("modification"),
    "upload": gettext_lazy("dépôt"),
    "validate": gettext_lazy("validation"),
    "verify": gettext_lazy("vérification"),
}

# Field names recorded in ``changes`` (model fields and a few computed keys).
FIELD_LABELS: dict[str, Any] = {
    "document_sha256": gettext_lazy("Empreinte du document (SHA-256)"),
    "sha256": gettext_lazy("Empreinte (SHA-256)"),
    "status": gettext_lazy("État"),
    "reason": gettext_lazy("Motif"),
    "status_reason": gettext_lazy("Motif"),
    "valid_from": gettext_lazy("Début de validité"),
    "valid_until": gettext_lazy("Fin de validité"),
    "signed_on": gettext_lazy("Signé le"),
    "signed_by_name": gettext_lazy("Signataire"),
    "signed_by_title": gettext_lazy("Fonction du signataire"),
    "services": gettext_lazy("Services couverts"),
    "all_assets": gettext_lazy("Tous les actifs"),
    "assets": gettext_lazy("Actifs"),
    "value": gettext_lazy("Valeur"),
    "kind": gettext_lazy("Type"),
    "label": gettext_lazy("Libellé"),
    "name": gettext_lazy("Nom"),
    "email": gettext_lazy("Adresse e-mail"),
    "phone": gettext_lazy("Téléphone"),
    "role": gettext_lazy("Rôle"),
    "centre_role": gettext_lazy("Rôle au centre"),
    "is_active": gettext_lazy("Compte actif"),
    "criticality": gettext_lazy("Criticité"),
    "internet_exposed": gettext_lazy("Exposé sur internet"),
    "validated": gettext_lazy("Confirmé par la structure"),
    "severity": gettext_lazy("Gravité"),
    "title": gettext_lazy("Titre"),
    "due_date": gettext_lazy("Échéance"),
    "expires_on": gettext_lazy("Fin"),
    "format": gettext_lazy("Format"),
    "part": gettext_lazy("Partie"),
    "rows": gettext_lazy("Lignes"),
    "count": gettext_lazy("Nombre"),
    "created": gettext_lazy("Créées"),
    "updated": gettext_lazy("Mises à jour"),
    "method": gettext_lazy("Méthode"),
    "structure": gettext_lazy("Structure"),
    "structures": gettext_lazy("Structures"),
    "filename": gettext_lazy("Fichier"),
    "size": gettext_lazy("Taille"),
    "scheduled_for": gettext_lazy("Prévu pour"),
    "progress": gettext_lazy("Avancement"),
    "comment": gettext_lazy("Commentaire"),
    "level": gettext_lazy("Niveau"),
    "score": gettext_lazy("Score"),
}

# The middle words of three-part codes (``awareness.campaign.launch``).
OBJECTS: dict[str, Any] = {
    "alert": gettext_lazy("alerte"),
    "audit": gettext_lazy("audit"),
    "campaign": gettext_lazy("campagne"),
    "connection": gettext_lazy("connexion à l'annuaire"),
    "exception": gettext_lazy("exception"),
    "landing": gettext_lazy("page d'atterrissage"),
    "mailbox": gettext_lazy("boîte de signalement"),
    "offline": gettext_lazy("copie hors ligne"),
    "pingcastle": gettext_lazy("rapport PingCastle"),
    "profile": gettext_lazy("profil d'analyse"),
    "recipients": gettext_lazy("destinataires"),
    "regional": gettext_lazy("analyse régionale"),
    "report": gettext_lazy("signalement"),
    "restore": gettext_lazy("restauration"),
    "results": gettext_lazy("résultats"),
    "scan": gettext_lazy("analyse"),
    "schedule": gettext_lazy("planification"),
    "schedules": gettext_lazy("planifications"),
    "settings": gettext_lazy("réglages"),
    "smtp": gettext_lazy("serveur d'envoi"),
    "snapshot": gettext_lazy("export de l'annuaire"),
    "targets": gettext_lazy("liste du personnel"),
    "template": gettext_lazy("modèle"),
    "training": gettext_lazy("formation"),
}

VALUE_LABELS: dict[str, Any] = {
    "report": gettext_lazy("rapport complet"),
    "summary": gettext_lazy("synthèse"),
    "full": gettext_lazy("rapport complet"),
}


def _words(code: str) -> str:
    """A code nobody labelled, as words: ``restore_test`` → ``restore test``."""
    return code.replace("_", " ").replace(".", " ")


def action_label(code: str) -> str:
    """The plain label of an audit action code (``report.download`` → "Rapport téléchargé")."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    parts = code.split(".")
    subject = SUBJECTS.get(parts[0])
    if subject is None:
        return _words(code).capitalize()
    if len(parts) == 1:
        return str(subject)
    verb = str(VERBS.get(parts[-1], _words(parts[-1])))
    middle = " ".join(str(OBJECTS.get(part, _words(part))) for part in parts[1:-1])
    return f"{subject} — {middle} : {verb}" if middle else f"{subject} — {verb}"


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    return _words(name).capitalize()


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str | None
    after: str


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return _("oui")
    if value is False:
        return _("non")
    if isinstance(value, str):
        text = str(VALUE_LABELS.get(value, value))
    elif isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        text = ", ".join(str(item) for item in value) or "—"
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def describe_changes(changes: Any) -> list[ChangeLine]:
    """``{"name": ["old", "new"], "reason": "..."}`` → lines "Nom : old → new", "Motif : ..."."""
    if not isinstance(changes, dict):
        return [ChangeLine("", None, _text(changes))] if changes else []
    lines = []
    for name, value in changes.items():
        label = field_label(str(name))
        if isinstance(value, list) and len(value) == 2:
            lines.append(ChangeLine(label, _text(value[0]), _text(value[1])))
        else:
            lines.append(ChangeLine(label, None, _text(value)))
    return lines
