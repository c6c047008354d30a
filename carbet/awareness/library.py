"""The regional library: lures, landing pages and training written by the centre, in French.

Every lure plays on the daily work of a health structure (a shared medical record document, a
badge renewal, a PACS viewer update, a patient's appointment request) and never on pay,
bonuses or sanctions (``carbet.engines.awareness.lures``). Training modules adapt the ideas of
the Cybermalveillance.gouv.fr awareness kit (Licence Ouverte / Etalab 2.0), rewritten here.

``install`` is idempotent (keyed on names and slugs) and runs from a data migration, so every
installation has the library; the centre adds its own templates beside it.
"""

from __future__ import annotations

from typing import Any

ATTRIBUTION = (
    "Adapté du kit de sensibilisation de Cybermalveillance.gouv.fr (Licence Ouverte / Etalab 2.0)."
)

LANDING_PAGES = [
    {
        "name": "Portail de connexion générique",
        "html": (
            '<main class="lp-card"><h1>Espace documentaire sécurisé</h1>'
            "<p>Pour consulter le document partagé, identifiez-vous avec votre compte "
            'professionnel.</p><form><label for="lp-user">Identifiant</label>'
            '<input id="lp-user" type="text">'
            '<label for="lp-pass">Mot de passe</label><input id="lp-pass" type="password">'
            '<button type="submit">Se connecter</button></form></main>'
        ),
    },
    {
        "name": "Formulaire de renouvellement de badge",
        "html": (
            '<main class="lp-card"><h1>Renouvellement de votre badge</h1>'
            "<p>Confirmez vos informations pour recevoir votre nouveau badge d'accès.</p><form>"
            '<label for="lp-name">Nom</label><input id="lp-name" type="text">'
            '<label for="lp-service">Service</label>'
            '<input id="lp-service" type="text">'
            '<label for="lp-pass">Mot de passe de session</label>'
            '<input id="lp-pass" type="password">'
            '<button type="submit">Valider</button></form></main>'
        ),
    },
]

TEMPLATES = [
    {
        "name": "Document partagé dans le DMP",
        "subject": "Nouveau document partagé pour un de vos patients",
        "sender_name": "Mon espace santé - Professionnels",
        "landing": "Portail de connexion générique",
        "text": (
            "Bonjour {{nom}},\n\nUn compte rendu a été déposé pour un patient que vous suivez. "
            "Pour le consulter avant la fin de la journée, connectez-vous :\n{{lien}}\n\n"
            "Le service des dossiers patients"
        ),
        "clues": [
            "L'adresse de l'expéditeur ne correspond pas au domaine officiel du DMP.",
            "Le lien mène à un site qui n'est pas celui de votre établissement.",
            "Le message crée une urgence (« avant la fin de la journée »).",
            "Un vrai dépôt dans le DMP se consulte depuis votre logiciel métier, pas par un lien.",
        ],
        "cues": 6,
        "premise": (6, 7, 4, 5, 0),
    },
    {
        "name": "Renouvellement du badge d'accès",
        "subject": "Votre badge d'accès expire vendredi",
        "sender_name": "Service sécurité - Accès",
        "landing": "Formulaire de renouvellement de badge",
        "text": (
            "Bonjour {{nom}},\n\nVotre badge d'accès aux services arrive à expiration. Sans "
            "renouvellement, l'accès aux unités sera bloqué. Remplissez le formulaire :\n"
            "{{lien}}\n\nLe service sécurité"
        ),
        "clues": [
            "Le service sécurité ne demande jamais de mot de passe pour un badge.",
            "La menace d'un blocage pousse à agir sans réfléchir.",
            "L'expéditeur n'utilise pas l'adresse habituelle de l'établissement.",
        ],
        "cues": 9,
        "premise": (5, 5, 3, 5, 0),
    },
    {
        "name": "Mise à jour de la visionneuse PACS",
        "subject": "Mise à jour obligatoire de la visionneuse d'imagerie",
        "sender_name": "Support imagerie",
        "landing": "Portail de connexion générique",
        "text": (
            "Bonjour,\n\nUne mise à jour de la visionneuse PACS doit être installée sur votre "
            "poste. Téléchargez-la ici :\n{{lien}}\n\nSupport imagerie"
        ),
        "clues": [
            "Les mises à jour sont installées par le service informatique, jamais par vous.",
            "Le message ne vous appelle pas par votre nom.",
            "Le lien pointe vers un site inconnu.",
        ],
        "cues": 11,
        "premise": (4, 6, 2, 3, 0),
    },
    {
        "name": "Demande de rendez-vous d'un patient",
        "subject": "Demande de rendez-vous - pièce jointe",
        "sender_name": "Mme Line Marchand",
        "landing": "Portail de connexion générique",
        "text": (
            "Bonjour,\n\nJe souhaite prendre rendez-vous pour ma mère. Vous trouverez son "
            "ordonnance en ligne :\n{{lien}}\n\nMerci d'avance,\nLine Marchand"
        ),
        "clues": [
            "Une ordonnance ne se partage pas par un lien vers un site inconnu.",
            "L'expéditrice vous est inconnue et l'adresse est personnelle.",
            "Le site demande vos identifiants pour voir un document externe.",
        ],
        "cues": 7,
        "premise": (3, 6, 3, 2, 0),
    },
]

TRAINING = [
    {
        "slug": "reconnaitre-hameconnage",
        "title": "Reconnaître un message d'hameçonnage",
        "summary": "Cinq minutes pour repérer les signes d'un faux message et savoir réagir.",
        "minutes": 5,
        "lessons": [
            {
                "title": "Pourquoi on vous vise",
                "body": (
                    "Un établissement de santé détient des données précieuses et ne peut pas "
                    "s'arrêter. Un seul mot de passe volé suffit parfois à bloquer les soins."
                ),
            },
            {
                "title": "Les signes qui doivent alerter",
                "body": (
                    "Une urgence inhabituelle, une adresse d'expéditeur étrange, un lien qui ne "
                    "mène pas au site habituel, une demande de mot de passe : prenez une minute."
                ),
            },
            {
                "title": "Le bon réflexe : signaler",
                "body": (
                    "Transférez le message à l'adresse de signalement de votre établissement, "
                    "puis supprimez-le. Signaler vite protège vos collègues."
                ),
            },
        ],
        "quiz": [
            {
                "question": "Un message vous demande votre mot de passe pour voir un document.",
                "choices": ["Je me connecte vite", "Je signale le message", "Je réponds"],
                "answer": 1,
                "explanation": "Aucun service sérieux ne demande votre mot de passe par e-mail.",
            },
            {
                "question": "Qu'est-ce qui doit vous alerter dans un message ?",
                "choices": [
                    "Une urgence et une menace de blocage",
                    "Le logo de l'établissement",
                    "La politesse du message",
                ],
                "answer": 0,
                "explanation": "L'urgence empêche de réfléchir : c'est voulu.",
            },
            {
                "question": "Vous avez cliqué sur un lien douteux. Que faire ?",
                "choices": ["Rien", "Prévenir le référent informatique", "Éteindre l'écran"],
                "answer": 1,
                "explanation": "Prévenir tôt permet d'agir avant que l'attaque ne s'étende.",
            },
        ],
    },
    {
        "slug": "mots-de-passe",
        "title": "Un mot de passe solide",
        "summary": "Pourquoi et comment protéger vos mots de passe au travail.",
        "minutes": 4,
        "lessons": [
            {
                "title": "Un mot de passe par usage",
                "body": (
                    "Si un site personnel est piraté, le même mot de passe ouvrirait votre "
                    "session professionnelle. Un mot de passe différent pour chaque compte."
                ),
            },
            {
                "title": "Long plutôt que compliqué",
                "body": (
                    "Une phrase de plusieurs mots est plus solide et plus facile à retenir "
                    "qu'un mot court plein de symboles."
                ),
            },
        ],
        "quiz": [
            {
                "question": "Quel mot de passe est le plus solide ?",
                "choices": ["P@ss2024", "cafe-rouge-velo-marine-12", "123456"],
                "answer": 1,
                "explanation": "La longueur compte davantage que les symboles.",
            },
            {
                "question": "Un collègue vous demande votre mot de passe pour dépanner.",
                "choices": ["Je le donne", "Je refuse et j'appelle le support", "Je l'écris"],
                "answer": 1,
                "explanation": "Votre mot de passe est personnel, même pour un collègue.",
            },
        ],
    },
]


def install(models: Any) -> dict[str, int]:
    """Create what is missing of the library. ``models`` maps names to model classes (the
    migration's historical models, or the real ones)."""
    from carbet.engines.awareness.landing import sanitize
    from carbet.engines.awareness.phishscale import PremiseAlignment, rate

    landing_model = models["LandingPage"]
    template_model = models["EmailTemplate"]
    training_model = models["TrainingModule"]
    created = {"landing_pages": 0, "templates": 0, "modules": 0}
    pages = {}
    for spec in LANDING_PAGES:
        clean = sanitize(spec["html"], "#")
        page, new = landing_model.objects.get_or_create(
            name=spec["name"],
            defaults={"html": clean.html, "from_library": True},
        )
        pages[spec["name"]] = page
        created["landing_pages"] += int(new)
    for spec in TEMPLATES:
        process, relevance, events, concern, training = spec["premise"]
        premise = PremiseAlignment(process, relevance, events, concern, training)
        _obj, new = template_model.objects.get_or_create(
            name=spec["name"],
            defaults={
                "subject": spec["subject"],
                "sender_name": spec["sender_name"],
                "text_body": spec["text"],
                "landing_page": pages.get(spec["landing"]),
                "clues": spec["clues"],
                "cues": spec["cues"],
                "premise_process": process,
                "premise_relevance": relevance,
                "premise_events": events,
                "premise_concern": concern,
                "premise_training": training,
                "difficulty": str(rate(spec["cues"], premise)),
                "from_library": True,
            },
        )
        created["templates"] += int(new)
    for spec in TRAINING:
        _obj, new = training_model.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "summary": spec["summary"],
                "lessons": spec["lessons"],
                "quiz": spec["quiz"],
                "minutes": spec["minutes"],
                "attribution": ATTRIBUTION,
            },
        )
        created["modules"] += int(new)
    return created
