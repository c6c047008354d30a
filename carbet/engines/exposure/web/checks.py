"""The web checks of the registry (category "web"): ids are a published contract."""

from __future__ import annotations

from .checks import CheckDef, register

MOZILLA = "Mozilla Web Security Guidelines"
ANSSI_WEB = "ANSSI, Recommandations pour la sécurisation des sites web"

register(
    CheckDef(
        "web.https.missing",
        "web",
        3,
        "Site accessible sans HTTPS",
        "Site served without HTTPS",
        "Le site n'est proposé qu'en clair : mots de passe et formulaires peuvent être lus ou "
        "modifiés sur le réseau. Demandez à votre prestataire d'installer un certificat (gratuit) "
        "et de rediriger tout le trafic vers HTTPS.",
        "The site is served in clear text only. Install a certificate and redirect to HTTPS.",
        (ANSSI_WEB, MOZILLA),
    ),
    CheckDef(
        "web.https.no_redirect",
        "web",
        2,
        "Pas de redirection de HTTP vers HTTPS",
        "No redirection from HTTP to HTTPS",
        "Le site existe en HTTPS mais la version en clair ne renvoie pas vers lui : les visiteurs "
        "qui tapent l'adresse sans « https » restent en clair. Demandez une redirection "
        "permanente (301) de HTTP vers HTTPS.",
        "HTTPS exists but HTTP does not redirect to it. Add a permanent (301) redirect.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.hsts.missing",
        "web",
        2,
        "En-tête HSTS absent",
        "HSTS header missing",
        "Sans HSTS, un attaquant peut ramener un visiteur vers la version en clair du site. "
        "Demandez l'en-tête Strict-Transport-Security avec une durée d'au moins un an.",
        "Without HSTS, visitors can be downgraded to HTTP. Send Strict-Transport-Security "
        "with max-age of at least one year.",
        ("RFC 6797", MOZILLA),
    ),
    CheckDef(
        "web.hsts.short",
        "web",
        1,
        "Durée HSTS trop courte",
        "HSTS max-age too short",
        "L'en-tête HSTS est présent mais sa durée est inférieure à six mois. Demandez "
        "max-age=31536000 (un an).",
        "HSTS max-age is under six months. Use max-age=31536000 (one year).",
        ("RFC 6797", MOZILLA),
    ),
    CheckDef(
        "web.csp.missing",
        "web",
        1,
        "Politique de sécurité du contenu (CSP) absente",
        "Content Security Policy missing",
        "La CSP limite ce qu'une page peut charger et exécuter : elle réduit fortement l'impact "
        "d'une faille de type injection de script. Demandez à l'éditeur du site d'en définir une.",
        "A CSP limits what a page may load and run, containing script injection. Define one.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.csp.unsafe",
        "web",
        1,
        "CSP permissive (unsafe-inline / unsafe-eval)",
        "Permissive CSP (unsafe-inline / unsafe-eval)",
        "La CSP autorise les scripts en ligne ou eval() : elle ne protège presque plus contre "
        "l'injection de script. Demandez à l'éditeur de retirer 'unsafe-inline' et 'unsafe-eval'.",
        "The CSP allows inline scripts or eval(), defeating its purpose. Remove them.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.xfo.missing",
        "web",
        1,
        "Protection contre l'intégration du site (clickjacking) absente",
        "Framing protection (clickjacking) missing",
        "Un autre site peut afficher celui-ci dans un cadre invisible pour piéger les clics. "
        "Demandez l'en-tête X-Frame-Options: DENY ou la directive CSP frame-ancestors.",
        "Another site can frame this one. Send X-Frame-Options: DENY or CSP frame-ancestors.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.xcto.missing",
        "web",
        1,
        "En-tête X-Content-Type-Options absent",
        "X-Content-Type-Options header missing",
        "Sans cet en-tête, un navigateur peut interpréter un fichier comme un script. Demandez "
        "X-Content-Type-Options: nosniff (une ligne de configuration).",
        "Browsers may sniff content types. Send X-Content-Type-Options: nosniff.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.referrer.missing",
        "web",
        0,
        "Politique de référent (Referrer-Policy) absente ou permissive",
        "Referrer-Policy missing or unsafe",
        "Les adresses consultées sur le site peuvent être transmises aux sites externes. "
        "Demandez Referrer-Policy: strict-origin-when-cross-origin.",
        "Visited URLs may leak to other sites. Send Referrer-Policy: "
        "strict-origin-when-cross-origin.",
        (MOZILLA,),
    ),
    CheckDef(
        "web.cookie.insecure",
        "web",
        2,
        "Cookies sans protections (Secure, HttpOnly, SameSite)",
        "Cookies without protections (Secure, HttpOnly, SameSite)",
        "Un cookie de session sans l'attribut Secure peut circuler en clair, sans HttpOnly il "
        "peut être volé par un script injecté. Demandez à l'éditeur de poser Secure, HttpOnly et "
        "SameSite sur les cookies de session.",
        "Session cookies lack Secure/HttpOnly/SameSite. Set all three on session cookies.",
        (MOZILLA, "RFC 6265"),
    ),
    CheckDef(
        "web.securitytxt.missing",
        "web",
        0,
        "Fichier security.txt absent",
        "security.txt file missing",
        "Ce fichier indique à qui signaler une faille découverte sur le site. Publiez "
        "/.well-known/security.txt avec une adresse de contact (RFC 9116).",
        "Publish /.well-known/security.txt with a contact address (RFC 9116).",
        ("RFC 9116",),
    ),
    CheckDef(
        "web.version_disclosure",
        "web",
        1,
        "Version du logiciel serveur divulguée",
        "Server software version disclosed",
        "Le serveur annonce son logiciel et sa version : un attaquant sait immédiatement quelles "
        "failles essayer. Demandez de masquer la version (en-têtes Server, X-Powered-By).",
        "The server announces its software version. Hide it (Server, X-Powered-By headers).",
        (ANSSI_WEB,),
    ),
    CheckDef(
        "web.sensitive_path",
        "web",
        4,
        "Fichier sensible accessible publiquement",
        "Sensitive file publicly reachable",
        "Un fichier qui ne devrait jamais être public (dépôt de code, fichier de configuration "
        "avec mots de passe, sauvegarde de base de données) est téléchargeable par n'importe qui. "
        "Demandez immédiatement son retrait, puis changez les mots de passe qu'il contient.",
        "A file that must never be public (code repository, configuration with passwords, "
        "database backup) can be downloaded. Remove it now and rotate the secrets it holds.",
        (ANSSI_WEB,),
    ),
    CheckDef(
        "web.directory_listing",
        "web",
        2,
        "Listage de répertoire activé",
        "Directory listing enabled",
        "Le serveur affiche la liste des fichiers d'un répertoire : des documents non destinés au "
        "public peuvent être découverts. Demandez de désactiver le listage des répertoires.",
        "The server lists directory contents. Disable directory listing.",
        (ANSSI_WEB,),
    ),
)
