"""The knowledge base of the demo region: seven short, real sheets for health and medico-social
structures (ransomware, a compromised mailbox, backups, the IT provider's remote access,
declaring an incident, phishing, an urgent patch), written through the part's own services by
the centre's analyst, with one article in its second version so that the history shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from carbet.community import services_knowledge as services
from carbet.community.models import Article
from carbet.core.tenancy import SYSTEM

RANSOMWARE = """\
Dans les **premières minutes**, l'objectif est d'empêcher l'attaque de s'étendre sans détruire
les traces qui permettront de comprendre ce qui s'est passé.

# 1. Isoler
- Débranchez le **câble réseau** des postes et serveurs touchés, coupez le Wi-Fi.
- **N'éteignez pas** les machines : leur mémoire garde des traces utiles à l'enquête.
- Coupez les accès à distance (VPN, prise en main à distance du prestataire).

# 2. Protéger les sauvegardes
- Déconnectez tout de suite les sauvegardes encore branchées au réseau.
- Ne lancez **aucune restauration** avant d'avoir compris comment l'attaquant est entré.

# 3. Alerter
- La direction, le référent cyber et le prestataire informatique.
- Le centre régional, qui vous aide à qualifier l'incident et à trouver un prestataire de réponse.
- Déclarez l'incident **sans délai** (voir la fiche « Déclarer un incident »).

# 4. Tenir
- Ouvrez une **main courante** : heure, fait constaté, décision, qui l'a prise.
- Passez en mode dégradé : procédures papier, plan blanc numérique.
- **Ne payez pas la rançon** : rien ne garantit le retour des données, et cela finance de
  nouvelles attaques.
"""

MAILBOX = """\
Signes : des messages envoyés que personne n'a écrits, des correspondants qui reçoivent des
liens étranges, des règles de tri ou de transfert que vous n'avez pas créées.

1. **Changez le mot de passe** de la boîte depuis un poste sain, et celui de tout compte qui
   utilisait le même mot de passe.
2. **Fermez toutes les sessions ouvertes** (webmail, téléphones) depuis l'administration de la
   messagerie ou demandez-le au prestataire.
3. **Cherchez les règles de transfert** automatique vers une adresse extérieure et supprimez-les.
4. Activez la **double authentification** si ce n'est pas déjà fait.
5. **Prévenez vos correspondants** que des messages frauduleux ont pu partir de votre adresse.
6. Vérifiez ce que contenait la boîte : si des **données de santé** ou personnelles ont pu être
   lues, c'est une violation de données à notifier à la CNIL dans les **72 heures**.
7. Signalez l'incident au centre régional : la même campagne vise souvent plusieurs structures.
"""

BACKUPS = """\
Une sauvegarde qui n'a jamais été restaurée n'est qu'un espoir. Testez-la **au moins une fois
par trimestre**, avec une personne du métier qui vérifie que les données sont utilisables.

# La règle 3-2-1
- **3** copies des données (la donnée de production et deux sauvegardes) ;
- sur **2** supports différents ;
- dont **1** copie hors ligne, ou hors site et non modifiable : c'est celle qu'un rançongiciel
  ne peut pas chiffrer.

# Le test pas à pas
1. Choisissez un élément réel : le dossier de soins d'un résident, un dossier partagé, un
   serveur entier une fois par an.
2. Restaurez-le **à côté** de la production, jamais par-dessus.
3. Faites vérifier le résultat par un utilisateur du métier (il ouvre, lit, retrouve ses données).
4. Notez la date, la durée de restauration et les difficultés : c'est votre preuve (programme
   CaRE, domaine 2).

# À vérifier aussi
- Le compte qui administre les sauvegardes est **distinct** des comptes du domaine, avec double
  authentification si possible.
- Une alerte prévient quelqu'un quand une sauvegarde échoue.
"""

REMOTE_ACCESS = """\
La prise en main à distance par le prestataire informatique est une porte d'entrée fréquente
des attaquants. Exigez :

- un **accès par VPN avec double authentification** (code sur téléphone, clé physique), jamais
  un bureau à distance (RDP) ouvert directement sur internet ;
- des **comptes nominatifs** pour chaque technicien, pas un compte « presta » partagé ;
- un accès **ouvert à la demande** et refermé après l'intervention, ou au moins limité aux
  heures ouvrées ;
- la **journalisation** des connexions, que vous pouvez consulter ;
- une clause du contrat qui engage le prestataire sur ces points et sur l'alerte en cas
  d'incident chez lui.

Demandez-lui la liste des outils d'accès à distance installés chez vous : chaque outil oublié
est un accès possible.
"""

DECLARE = """\
Un incident de sécurité qui a un impact, même possible, sur la prise en charge des patients ou
des résidents, ou sur leurs données, doit être déclaré **sans délai** (article L1111-8-2 du code
de la santé publique, décret 2022-715 : établissements de santé et médico-sociaux).

# Où déclarer
- Sur le **portail de signalement des événements sanitaires indésirables** : la déclaration est
  transmise à l'ARS et au **CERT Santé**, qui analyse l'incident et peut vous accompagner.
- À la **CNIL** dans les **72 heures** si des données personnelles ont pu être consultées,
  modifiées ou perdues (RGPD, article 33).
- **Plainte** auprès de la police ou de la gendarmerie, et déclaration à votre **assureur**.

# Ce qu'il faut avoir sous la main
- Date et heure de découverte, ce qui a été constaté, les systèmes touchés ;
- l'impact sur les soins et l'accompagnement (mode dégradé, transferts) ;
- les mesures déjà prises.

Déclarer tôt, même sans tout savoir : la déclaration se complète ensuite.
"""

PHISHING = """\
Un message inattendu qui presse d'agir (facture, colis, mot de passe qui expire, message de la
direction) ? **Ne cliquez pas, n'ouvrez pas la pièce jointe, ne répondez pas.**

# Signaler
1. Transférez le message **en pièce jointe** au référent cyber ou au prestataire : il pourra
   bloquer l'expéditeur et prévenir les collègues.
2. Supprimez-le ensuite de votre boîte.
3. Un SMS frauduleux se signale gratuitement au **33700**.

# Si vous avez cliqué ou saisi votre mot de passe
- Prévenez **immédiatement** le référent : ce n'est pas une faute, c'est le bon réflexe, et
  chaque minute compte.
- Changez le mot de passe saisi, depuis un autre poste.
- Si une pièce jointe a été ouverte, débranchez le poste du réseau sans l'éteindre.
"""

PATCH = """\
Quand le centre régional ou le CERT Santé vous alerte sur une faille **activement exploitée**
d'un équipement exposé à internet (VPN, pare-feu, messagerie), agissez dans la journée.

1. **Vérifiez** que vous utilisez bien le produit et la version cités (Carbet vous le dit quand
   il les a détectés) ; au moindre doute, demandez au prestataire.
2. **Appliquez le correctif** de l'éditeur, ou à défaut la mesure de contournement publiée.
3. **Cherchez des traces** d'intrusion antérieure : une faille exploitée avant le correctif peut
   avoir laissé un accès (nouveaux comptes, connexions inhabituelles).
4. **Changez les mots de passe** des comptes de l'équipement si l'éditeur le recommande.
5. **Dites au centre** que c'est fait (« pris en compte » dans Carbet) : il suit l'exposition de
   la région.
"""

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "fiche-reflexe-rancongiciel",
        "title": "Fiche réflexe : attaque par rançongiciel",
        "kind": "reflex",
        "category": "Incidents",
        "tags": ["rançongiciel", "crise", "sauvegarde"],
        "summary": "Isoler sans éteindre, protéger les sauvegardes, alerter, déclarer, tenir.",
        "body": RANSOMWARE,
    },
    {
        "slug": "boite-mail-compromise",
        "title": "Fiche réflexe : une boîte aux lettres est compromise",
        "kind": "reflex",
        "category": "Messagerie",
        "tags": ["messagerie", "mot de passe", "données de santé"],
        "summary": "Reprendre la main sur la boîte, couper les transferts, prévenir.",
        "body": MAILBOX,
    },
    {
        "slug": "tester-ses-sauvegardes",
        "title": "Tester ses sauvegardes",
        "kind": "procedure",
        "category": "Sauvegardes",
        "tags": ["sauvegarde", "CaRE", "restauration"],
        "summary": "La règle 3-2-1 et un test de restauration pas à pas, chaque trimestre.",
        "body": BACKUPS,
    },
    {
        "slug": "acces-distance-prestataire",
        "title": "Double authentification pour l'accès à distance du prestataire",
        "kind": "article",
        "category": "Accès à distance",
        "tags": ["double authentification", "prestataire", "VPN"],
        "summary": "Ce qu'il faut exiger du prestataire informatique qui intervient à distance.",
        "body": REMOTE_ACCESS,
    },
    {
        "slug": "declarer-un-incident",
        "title": "Déclarer un incident de sécurité (ARS, CERT Santé, CNIL)",
        "kind": "procedure",
        "category": "Incidents",
        "tags": ["déclaration", "CERT Santé", "CNIL"],
        "summary": "Qui prévenir, où déclarer, dans quels délais, avec quelles informations.",
        "body": DECLARE,
    },
    {
        "slug": "signaler-un-hameconnage",
        "title": "Fiche réflexe : signaler un hameçonnage",
        "kind": "reflex",
        "category": "Messagerie",
        "tags": ["hameçonnage", "sensibilisation"],
        "summary": "Ne pas cliquer, transférer au référent, et que faire si l'on a cliqué.",
        "body": PHISHING,
    },
    {
        "slug": "correctif-urgent-equipement-expose",
        "title": "Appliquer un correctif urgent sur un équipement exposé",
        "kind": "procedure",
        "category": "Vulnérabilités",
        "tags": ["correctif", "VPN", "pare-feu", "alerte"],
        "summary": "Quand une faille activement exploitée vise un équipement que vous utilisez.",
        "body": PATCH,
    },
]


def _author(users: list[Any]) -> Any:
    for user in users:
        if getattr(user, "centre_role", "") == "centre_analyst":
            return user
    return SYSTEM


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Idempotent: an article whose address already exists is left as it is."""
    author = _author(users)
    made = 0
    for spec in ARTICLES:
        if Article.objects.filter(slug=spec["slug"]).exists():
            continue
        values = {k: v for k, v in spec.items() if k != "slug"}
        with transaction.atomic():
            article = services.create_article(
                author, values, slug=spec["slug"], note="Première version, relue par le centre."
            )
            if spec["slug"] == "fiche-reflexe-rancongiciel":
                services.update_article(
                    author,
                    article,
                    {"body": values["body"].replace("# 4. Tenir", "# 4. Tenir dans la durée")},
                    note="Titre de la partie 4 précisé après l'exercice régional.",
                )
            services.publish(author, article)
        made += 1
    return made
