"""The words of the medico-social track: each step and essential, why, how, and who can help."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CENTRE = _("le centre régional de ressources cyber")
PROVIDER = _("votre prestataire informatique")
MUTUAL = _("les offres mutualisées de la région (GHT, groupement d'achats)")

STEPS = {
    "diagnostic": {
        "title": _("Faire le diagnostic"),
        "why": _("Trente minutes de questions simples pour savoir où vous en êtes, sans jargon."),
        "how": _("Répondez au diagnostic dans la feuille de route, seul ou avec le centre."),
        "help": (CENTRE,),
    },
    "essentials": {
        "title": _("Mettre en place les dix essentiels"),
        "why": _(
            "Dix mesures qui mettent la structure hors de portée des attaques les plus courantes."
        ),
        "how": _(
            "Une à la fois, dans l'ordre proposé ; Carbet coche lui-même celles qu'il vérifie."
        ),
        "help": (CENTRE, PROVIDER),
    },
    "roadmap": {
        "title": _("Valider la feuille de route"),
        "why": _("Pour aller plus loin sur trois ans, avec un budget et des financements (CaRE)."),
        "how": _(
            "Le centre vous propose une feuille de route à partir du diagnostic ; la direction la "
            "valide."
        ),
        "help": (CENTRE, MUTUAL),
    },
    "done": {
        "title": _("Parcours terminé"),
        "why": _("Les bases sont en place ; la feuille de route fait le reste."),
        "how": _("Gardez les essentiels à jour : Carbet vous prévient si l'un d'eux se dégrade."),
        "help": (CENTRE,),
    },
}

ESSENTIALS = {
    "passwords_mfa": {
        "title": _("Mots de passe solides et double authentification"),
        "why": _("La première porte d'entrée des attaquants est un mot de passe deviné ou volé."),
        "how": _(
            "12 caractères au moins, un verrouillage après des essais ratés, un second code pour "
            "les accès depuis l'extérieur. Vérifié par l'audit de l'annuaire."
        ),
        "help": (PROVIDER, CENTRE),
    },
    "backups_tested": {
        "title": _("Des sauvegardes testées"),
        "why": _("Après un rançongiciel, seule une sauvegarde hors d'atteinte permet de repartir."),
        "how": _(
            "Une copie hors ligne, et une restauration essayée chaque année. Vérifié dans le "
            "registre des sauvegardes."
        ),
        "help": (PROVIDER, MUTUAL),
    },
    "updates": {
        "title": _("Les mises à jour faites"),
        "why": _(
            "Les attaquants utilisent les failles connues dans les jours qui suivent leur "
            "publication."
        ),
        "how": _(
            "Mises à jour automatiques sur les postes ; un mois au plus pour les serveurs, par le "
            "prestataire."
        ),
        "help": (PROVIDER,),
    },
    "provider_contract": {
        "title": _("Un contrat de prestataire qui prévoit la sécurité"),
        "why": _(
            "C'est le contrat qui dit ce que le prestataire doit faire en cas d'attaque, et en "
            "combien de temps."
        ),
        "how": _(
            "Ajoutez les clauses type du centre : délai d'intervention, sauvegardes, alerte, "
            "réversibilité."
        ),
        "help": (CENTRE, MUTUAL),
    },
    "mail_protection": {
        "title": _("Une messagerie protégée"),
        "why": _(
            "Sans SPF, DKIM et DMARC, n'importe qui peut écrire en se faisant passer pour vous."
        ),
        "how": _(
            "Le prestataire publie ces trois réglages ; le scan d'exposition de Carbet les vérifie."
        ),
        "help": (PROVIDER, CENTRE),
    },
    "staff_awareness": {
        "title": _("Un personnel sensibilisé"),
        "why": _(
            "Une personne qui reconnaît et signale un courriel piégé protège toute la structure."
        ),
        "how": _("Une simulation d'hameçonnage et une formation courte par an, avec le centre."),
        "help": (CENTRE,),
    },
    "exercise": {
        "title": _("Un exercice de crise"),
        "why": _("Le jour d'une attaque, on fait ce qu'on a déjà répété."),
        "how": _(
            "Deux heures autour d'une table avec le centre : l'informatique est arrêtée, que "
            "fait-on ?"
        ),
        "help": (CENTRE,),
    },
    "incident_reflex": {
        "title": _("La fiche réflexe incident"),
        "why": _(
            "Dans la première heure, les bons gestes limitent les dégâts : isoler, prévenir, ne "
            "pas éteindre."
        ),
        "how": _(
            "Imprimez la fiche réflexe du centre, affichez-la près des postes et à l'accueil."
        ),
        "help": (CENTRE,),
    },
    "care_record_decision": {
        "title": _("La décision de sécurité du dossier de soins"),
        "why": _(
            "Le dossier de soins est l'outil le plus sensible : la direction doit en connaître les"
            " risques."
        ),
        "how": _(
            "Décrivez-le dans « Services numériques », complétez les mesures, puis signez la "
            "décision."
        ),
        "help": (CENTRE, PROVIDER),
    },
    "crisis_contacts": {
        "title": _("Les contacts de crise"),
        "why": _("En crise, on perd des heures à chercher qui appeler."),
        "how": _(
            "Une liste papier : centre, prestataire, éditeur du dossier de soins, ARS, assureur, "
            "gendarmerie."
        ),
        "help": (CENTRE,),
    },
}

# The essentials a structure's own page links to (where the work is done in Carbet).
LINKS = {
    "care_record_decision": "bydesign:structure",
    "backups_tested": "roadmap:backups",
}
