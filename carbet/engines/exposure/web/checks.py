"""The web checks of the registry (category "web"): ids are a published contract."""

from __future__ import annotations

from carbet.engines.exposure.checks import define

MOZILLA = "Mozilla Web Security Guidelines"
ANSSI_WEB = "ANSSI, Recommandations pour la sécurisation des sites web"

WEB_HTTPS_MISSING = define(
    id="web.https.missing",
    category="web",
    severity=3,
    title_fr="Site accessible sans HTTPS",
    title_en="Site served without HTTPS",
    remediation_fr=(
        "Le site n'est proposé qu'en clair : mots de passe et formulaires peuvent être lus ou "
        "modifiés sur le réseau. Demandez à votre prestataire d'installer un certificat (gratuit) "
        "et de rediriger tout le trafic vers HTTPS."
    ),
    remediation_en=(
        "The site is served in clear text only. Install a certificate and redirect to HTTPS."
    ),
    references=(ANSSI_WEB, MOZILLA),
)


WEB_HTTPS_NO_REDIRECT = define(
    id="web.https.no_redirect",
    category="web",
    severity=2,
    title_fr="Pas de redirection de HTTP vers HTTPS",
    title_en="No redirection from HTTP to HTTPS",
    remediation_fr=(
        "Le site existe en HTTPS mais la version en clair ne renvoie pas vers lui : les visiteurs "
        "qui tapent l'adresse sans « https » restent en clair. Demandez une redirection "
        "permanente (301) de HTTP vers HTTPS."
    ),
    remediation_en="HTTPS exists but HTTP does not redirect to it. Add a permanent (301) redirect.",
    references=(MOZILLA,),
)


WEB_HSTS_MISSING = define(
    id="web.hsts.missing",
    category="web",
    severity=2,
    title_fr="En-tête HSTS absent",
    title_en="HSTS header missing",
    remediation_fr=(
        "Sans HSTS, un attaquant peut ramener un visiteur vers la version en clair du site. "
        "Demandez l'en-tête Strict-Transport-Security avec une durée d'au moins un an."
    ),
    remediation_en=(
        "Without HSTS, visitors can be downgraded to HTTP. Send Strict-Transport-Security "
        "with max-age of at least one year."
    ),
    references=("RFC 6797", MOZILLA),
)


WEB_HSTS_SHORT = define(
    id="web.hsts.short",
    category="web",
    severity=1,
    title_fr="Durée HSTS trop courte",
    title_en="HSTS max-age too short",
    remediation_fr=(
        "L'en-tête HSTS est présent mais sa durée est inférieure à six mois. Demandez "
        "max-age=31536000 (un an)."
    ),
    remediation_en="HSTS max-age is under six months. Use max-age=31536000 (one year).",
    references=("RFC 6797", MOZILLA),
)


WEB_CSP_MISSING = define(
    id="web.csp.missing",
    category="web",
    severity=1,
    title_fr="Politique de sécurité du contenu (CSP) absente",
    title_en="Content Security Policy missing",
    remediation_fr=(
        "La CSP limite ce qu'une page peut charger et exécuter : elle réduit fortement l'impact "
        "d'une faille de type injection de script. Demandez à l'éditeur du site d'en définir une."
    ),
    remediation_en=(
        "A CSP limits what a page may load and run, containing script injection. Define one."
    ),
    references=(MOZILLA,),
)


WEB_CSP_UNSAFE = define(
    id="web.csp.unsafe",
    category="web",
    severity=1,
    title_fr="CSP permissive (unsafe-inline / unsafe-eval)",
    title_en="Permissive CSP (unsafe-inline / unsafe-eval)",
    remediation_fr=(
        "La CSP autorise les scripts en ligne ou eval() : elle ne protège presque plus contre "
        "l'injection de script. Demandez à l'éditeur de retirer 'unsafe-inline' et 'unsafe-eval'."
    ),
    remediation_en="The CSP allows inline scripts or eval(), defeating its purpose. Remove them.",
    references=(MOZILLA,),
)


WEB_XFO_MISSING = define(
    id="web.xfo.missing",
    category="web",
    severity=1,
    title_fr="Protection contre l'intégration du site (clickjacking) absente",
    title_en="Framing protection (clickjacking) missing",
    remediation_fr=(
        "Un autre site peut afficher celui-ci dans un cadre invisible pour piéger les clics. "
        "Demandez l'en-tête X-Frame-Options: DENY ou la directive CSP frame-ancestors."
    ),
    remediation_en=(
        "Another site can frame this one. Send X-Frame-Options: DENY or CSP frame-ancestors."
    ),
    references=(MOZILLA,),
)


WEB_XCTO_MISSING = define(
    id="web.xcto.missing",
    category="web",
    severity=1,
    title_fr="En-tête X-Content-Type-Options absent",
    title_en="X-Content-Type-Options header missing",
    remediation_fr=(
        "Sans cet en-tête, un navigateur peut interpréter un fichier comme un script. Demandez "
        "X-Content-Type-Options: nosniff (une ligne de configuration)."
    ),
    remediation_en="Browsers may sniff content types. Send X-Content-Type-Options: nosniff.",
    references=(MOZILLA,),
)


WEB_REFERRER_MISSING = define(
    id="web.referrer.missing",
    category="web",
    severity=0,
    title_fr="Politique de référent (Referrer-Policy) absente ou permissive",
    title_en="Referrer-Policy missing or unsafe",
    remediation_fr=(
        "Les adresses consultées sur le site peuvent être transmises aux sites externes. "
        "Demandez Referrer-Policy: strict-origin-when-cross-origin."
    ),
    remediation_en=(
        "Visited URLs may leak to other sites. Send Referrer-Policy: "
        "strict-origin-when-cross-origin."
    ),
    references=(MOZILLA,),
)


WEB_COOKIE_INSECURE = define(
    id="web.cookie.insecure",
    category="web",
    severity=2,
    title_fr="Cookies sans protections (Secure, HttpOnly, SameSite)",
    title_en="Cookies without protections (Secure, HttpOnly, SameSite)",
    remediation_fr=(
        "Un cookie de session sans l'attribut Secure peut circuler en clair, sans HttpOnly il "
        "peut être volé par un script injecté. Demandez à l'éditeur de poser Secure, HttpOnly et "
        "SameSite sur les cookies de session."
    ),
    remediation_en=(
        "Session cookies lack Secure/HttpOnly/SameSite. Set all three on session cookies."
    ),
    references=(MOZILLA, "RFC 6265"),
)


WEB_SECURITYTXT_MISSING = define(
    id="web.securitytxt.missing",
    category="web",
    severity=0,
    title_fr="Fichier security.txt absent",
    title_en="security.txt file missing",
    remediation_fr=(
        "Ce fichier indique à qui signaler une faille découverte sur le site. Publiez "
        "/.well-known/security.txt avec une adresse de contact (RFC 9116)."
    ),
    remediation_en="Publish /.well-known/security.txt with a contact address (RFC 9116).",
    references=("RFC 9116",),
)


WEB_VERSION_DISCLOSURE = define(
    id="web.version_disclosure",
    category="web",
    severity=1,
    title_fr="Version du logiciel serveur divulguée",
    title_en="Server software version disclosed",
    remediation_fr=(
        "Le serveur annonce son logiciel et sa version : un attaquant sait immédiatement quelles "
        "failles essayer. Demandez de masquer la version (en-têtes Server, X-Powered-By)."
    ),
    remediation_en=(
        "The server announces its software version. Hide it (Server, X-Powered-By headers)."
    ),
    references=(ANSSI_WEB,),
)


WEB_SENSITIVE_PATH = define(
    id="web.sensitive_path",
    category="web",
    severity=4,
    title_fr="Fichier sensible accessible publiquement",
    title_en="Sensitive file publicly reachable",
    remediation_fr=(
        "Un fichier qui ne devrait jamais être public (dépôt de code, fichier de configuration "
        "avec mots de passe, sauvegarde de base de données) est téléchargeable par n'importe qui. "
        "Demandez immédiatement son retrait, puis changez les mots de passe qu'il contient."
    ),
    remediation_en=(
        "A file that must never be public (code repository, configuration with passwords, "
        "database backup) can be downloaded. Remove it now and rotate the secrets it holds."
    ),
    references=(ANSSI_WEB,),
)


WEB_DIRECTORY_LISTING = define(
    id="web.directory_listing",
    category="web",
    severity=2,
    title_fr="Listage de répertoire activé",
    title_en="Directory listing enabled",
    remediation_fr=(
        "Le serveur affiche la liste des fichiers d'un répertoire : des documents non destinés au "
        "public peuvent être découverts. Demandez de désactiver le listage des répertoires."
    ),
    remediation_en="The server lists directory contents. Disable directory listing.",
    references=(ANSSI_WEB,),
)


# IPv6 parity: declared next door, registered with the web checks through this import.
from carbet.engines.exposure.web import checks_ipv6 as _ipv6  # noqa: E402, F401
