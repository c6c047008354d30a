"""The TLS checks of the registry (category "tls"): ids are a published contract."""

from __future__ import annotations

from .checks import CheckDef, register

ANSSI_TLS = "ANSSI, Recommandations de sécurité relatives à TLS v1.2"

register(
    CheckDef(
        "tls.protocol.ssl2",
        "tls",
        4,
        "Protocole SSLv2 accepté",
        "SSLv2 protocol accepted",
        "SSLv2 est cassé depuis des années ; sa seule présence permet de déchiffrer des échanges "
        "TLS protégés par la même clé (attaque DROWN). Demandez immédiatement sa désactivation, "
        "ou le remplacement de l'équipement s'il ne le permet pas.",
        "SSLv2 is broken; its mere presence lets attackers decrypt TLS sessions using the same "
        "key (DROWN). Disable it now, or replace the device.",
        (ANSSI_TLS + " R3", "RFC 6176", "CVE-2016-0800"),
    ),
    CheckDef(
        "tls.protocol.ssl3",
        "tls",
        3,
        "Protocole SSLv3 accepté",
        "SSLv3 protocol accepted",
        "SSLv3 est cassé depuis 2014 (attaque POODLE) : un attaquant placé sur le réseau peut "
        "déchiffrer une partie des échanges. Demandez à votre prestataire de désactiver SSLv3 sur "
        "ce service et de n'autoriser que TLS 1.2 et TLS 1.3.",
        "SSLv3 has been broken since 2014 (POODLE). Disable it; allow only TLS 1.2 and 1.3.",
        (ANSSI_TLS + " R3", "RFC 7568"),
    ),
    CheckDef(
        "tls.protocol.tls10",
        "tls",
        2,
        "Protocole TLS 1.0 accepté",
        "TLS 1.0 protocol accepted",
        "TLS 1.0 est obsolète (RFC 8996) et n'offre plus les garanties attendues. Demandez à votre "
        "prestataire de le désactiver : seuls TLS 1.2 et TLS 1.3 doivent rester ouverts.",
        "TLS 1.0 is deprecated (RFC 8996). Disable it; keep TLS 1.2 and 1.3 only.",
        (ANSSI_TLS + " R3", "RFC 8996"),
    ),
    CheckDef(
        "tls.protocol.tls11",
        "tls",
        2,
        "Protocole TLS 1.1 accepté",
        "TLS 1.1 protocol accepted",
        "TLS 1.1 est obsolète (RFC 8996). Demandez à votre prestataire de le désactiver : seuls "
        "TLS 1.2 et TLS 1.3 doivent rester ouverts.",
        "TLS 1.1 is deprecated (RFC 8996). Disable it; keep TLS 1.2 and 1.3 only.",
        (ANSSI_TLS + " R3", "RFC 8996"),
    ),
    CheckDef(
        "tls.protocol.tls13_missing",
        "tls",
        0,
        "TLS 1.3 non proposé",
        "TLS 1.3 not offered",
        "TLS 1.3 est la version la plus sûre et la plus rapide. Ce n'est pas urgent, mais à la "
        "prochaine mise à jour du serveur, demandez à l'activer.",
        "TLS 1.3 is the safest and fastest version; enable it at the next server update.",
        (ANSSI_TLS + " R3",),
    ),
    CheckDef(
        "tls.cipher.weak",
        "tls",
        3,
        "Suites de chiffrement faibles acceptées",
        "Weak cipher suites accepted",
        "Le serveur accepte des algorithmes cassés ou volontairement affaiblis (RC4, DES, 3DES, "
        "export, NULL ou anonymes) : les échanges peuvent être déchiffrés ou détournés. Demandez "
        "à votre prestataire de retirer ces suites et de ne garder que des suites ECDHE avec "
        "AES-GCM ou ChaCha20.",
        "Broken or export-grade suites are accepted (RC4, DES, 3DES, export, NULL, anonymous). "
        "Remove them; keep ECDHE suites with AES-GCM or ChaCha20.",
        (ANSSI_TLS + " R5-R8",),
    ),
    CheckDef(
        "tls.cipher.legacy",
        "tls",
        1,
        "Suites de chiffrement anciennes (CBC avec SHA-1) acceptées",
        "Legacy cipher suites (CBC with SHA-1) accepted",
        "Ces suites ne sont pas cassées, mais l'ANSSI recommande de les retirer au profit des "
        "suites AEAD (AES-GCM, ChaCha20). À planifier avec votre prestataire.",
        "CBC/SHA-1 suites are legacy; prefer AEAD suites (AES-GCM, ChaCha20).",
        (ANSSI_TLS + " R8",),
    ),
    CheckDef(
        "tls.no_forward_secrecy",
        "tls",
        2,
        "Échange de clés sans confidentialité persistante",
        "Key exchange without forward secrecy",
        "Avec ces suites, quiconque obtient un jour la clé privée du serveur pourra déchiffrer "
        "tous les échanges enregistrés auparavant. Demandez à votre prestataire de n'autoriser que "
        "les échanges de clés ECDHE (ou DHE).",
        "Without forward secrecy, a future key compromise decrypts past traffic. Allow ECDHE "
        "(or DHE) key exchange only.",
        (ANSSI_TLS + " R6",),
    ),
    CheckDef(
        "tls.dh.weak",
        "tls",
        2,
        "Paramètres Diffie-Hellman trop courts",
        "Diffie-Hellman parameters too short",
        "Le groupe Diffie-Hellman utilisé fait moins de 2048 bits : il peut être attaqué (Logjam). "
        "Demandez un groupe d'au moins 2048 bits (3072 recommandé) ou l'usage d'ECDHE.",
        "The DHE group is under 2048 bits (Logjam). Use ≥ 2048-bit groups or ECDHE.",
        (ANSSI_TLS + " R7",),
    ),
    CheckDef(
        "tls.compression",
        "tls",
        2,
        "Compression TLS activée",
        "TLS compression enabled",
        "La compression au niveau TLS permet de retrouver des secrets (cookies de session) en "
        "observant la taille des échanges (attaque CRIME). Demandez sa désactivation.",
        "TLS-level compression leaks secrets through sizes (CRIME). Disable it.",
        (ANSSI_TLS, "CVE-2012-4929"),
    ),
    CheckDef(
        "tls.renegotiation.insecure",
        "tls",
        2,
        "Renégociation TLS non sécurisée",
        "Insecure TLS renegotiation",
        "Le serveur ne prend pas en charge la renégociation sécurisée (RFC 5746) : un attaquant "
        "placé sur le réseau peut injecter des données dans une session. Demandez la mise à jour "
        "du logiciel TLS du serveur.",
        "The server lacks secure renegotiation (RFC 5746): update its TLS software.",
        (ANSSI_TLS, "RFC 5746"),
    ),
    CheckDef(
        "tls.cert.expired",
        "tls",
        3,
        "Certificat expiré",
        "Certificate expired",
        "Le certificat n'est plus valide : les navigateurs affichent une alerte et les usagers "
        "prennent l'habitude de l'ignorer. Faites renouveler le certificat dès maintenant et "
        "mettez en place un renouvellement automatique.",
        "The certificate has expired. Renew it now and automate renewal.",
        ("RFC 5280 §4.1.2.5",),
    ),
    CheckDef(
        "tls.cert.not_yet_valid",
        "tls",
        2,
        "Certificat pas encore valide",
        "Certificate not yet valid",
        "La date de début de validité du certificat est dans le futur : vérifiez l'horloge du "
        "serveur et le certificat installé.",
        "The certificate's validity starts in the future: check the server clock and certificate.",
        ("RFC 5280 §4.1.2.5",),
    ),
    CheckDef(
        "tls.cert.expiring",
        "tls",
        2,
        "Certificat expirant dans moins de 30 jours",
        "Certificate expiring within 30 days",
        "Le certificat expire bientôt : sans renouvellement, le service affichera une alerte de "
        "sécurité. Faites-le renouveler maintenant, idéalement automatiquement.",
        "The certificate expires within 30 days. Renew it, ideally automatically.",
        ("RFC 5280 §4.1.2.5",),
    ),
    CheckDef(
        "tls.cert.self_signed",
        "tls",
        3,
        "Certificat auto-signé",
        "Self-signed certificate",
        "Personne ne garantit l'identité de ce serveur : un usurpateur pourrait présenter le sien. "
        "Demandez un certificat émis par une autorité reconnue (par exemple gratuite, renouvelée "
        "automatiquement).",
        "Nobody vouches for this server's identity. Use a certificate from a recognised CA.",
        (ANSSI_TLS + " R11",),
    ),
    CheckDef(
        "tls.cert.untrusted",
        "tls",
        3,
        "Chaîne de certification non reconnue",
        "Certificate chain not trusted",
        "Le certificat ne se rattache pas à une autorité de confiance (autorité inconnue ou "
        "certificat intermédiaire manquant). Demandez à votre prestataire d'installer la chaîne "
        "complète fournie par l'autorité de certification.",
        "The chain does not lead to a trusted CA (unknown CA or missing intermediate). Install "
        "the full chain.",
        (ANSSI_TLS + " R11",),
    ),
    CheckDef(
        "tls.cert.hostname_mismatch",
        "tls",
        3,
        "Certificat émis pour un autre nom",
        "Certificate issued for another name",
        "Le certificat ne couvre pas le nom du site : les navigateurs affichent une alerte. "
        "Demandez un certificat qui contient ce nom.",
        "The certificate does not cover this host name. Get one that lists it.",
        ("RFC 6125",),
    ),
    CheckDef(
        "tls.cert.weak_key",
        "tls",
        3,
        "Clé du certificat trop courte",
        "Certificate key too short",
        "La clé du certificat est trop courte pour résister aux attaques actuelles "
        "(l'ANSSI demande au moins 2048 bits en RSA, 3072 recommandés, ou 256 bits en "
        "courbe elliptique). "
        "Faites générer une nouvelle clé et un nouveau certificat.",
        "The key is too short (ANSSI: RSA ≥ 2048, 3072 recommended; EC ≥ 256). Reissue.",
        (ANSSI_TLS + " R10",),
    ),
    CheckDef(
        "tls.cert.sha1_signature",
        "tls",
        2,
        "Certificat signé avec un algorithme obsolète (SHA-1/MD5)",
        "Certificate signed with an obsolete hash (SHA-1/MD5)",
        "La signature du certificat repose sur un algorithme cassé : un faux certificat pourrait "
        "être fabriqué. Faites émettre un certificat signé en SHA-256 ou plus.",
        "The certificate signature uses a broken hash. Reissue it with SHA-256 or better.",
        (ANSSI_TLS + " R12",),
    ),
)
