"""The TLS checks of the registry (category "tls"): ids are a published contract."""

from __future__ import annotations

from carbet.engines.exposure.checks import define

ANSSI_TLS = "ANSSI, Recommandations de sécurité relatives à TLS v1.2"

TLS_PROTOCOL_SSL2 = define(
    id="tls.protocol.ssl2",
    category="tls",
    severity=4,
    title_fr="Protocole SSLv2 accepté",
    title_en="SSLv2 protocol accepted",
    remediation_fr=(
        "SSLv2 est cassé depuis des années ; sa seule présence permet de déchiffrer des échanges "
        "TLS protégés par la même clé (attaque DROWN). Demandez immédiatement sa désactivation, "
        "ou le remplacement de l'équipement s'il ne le permet pas."
    ),
    remediation_en=(
        "SSLv2 is broken; its mere presence lets attackers decrypt TLS sessions using the same "
        "key (DROWN). Disable it now, or replace the device."
    ),
    references=(ANSSI_TLS + " R3", "RFC 6176", "CVE-2016-0800"),
)


TLS_PROTOCOL_SSL3 = define(
    id="tls.protocol.ssl3",
    category="tls",
    severity=3,
    title_fr="Protocole SSLv3 accepté",
    title_en="SSLv3 protocol accepted",
    remediation_fr=(
        "SSLv3 est cassé depuis 2014 (attaque POODLE) : un attaquant placé sur le réseau peut "
        "déchiffrer une partie des échanges. Demandez à votre prestataire de désactiver SSLv3 sur "
        "ce service et de n'autoriser que TLS 1.2 et TLS 1.3."
    ),
    remediation_en=(
        "SSLv3 has been broken since 2014 (POODLE). Disable it; allow only TLS 1.2 and 1.3."
    ),
    references=(ANSSI_TLS + " R3", "RFC 7568"),
)


TLS_PROTOCOL_TLS10 = define(
    id="tls.protocol.tls10",
    category="tls",
    severity=2,
    title_fr="Protocole TLS 1.0 accepté",
    title_en="TLS 1.0 protocol accepted",
    remediation_fr=(
        "TLS 1.0 est obsolète (RFC 8996) et n'offre plus les garanties attendues. Demandez à votre "
        "prestataire de le désactiver : seuls TLS 1.2 et TLS 1.3 doivent rester ouverts."
    ),
    remediation_en="TLS 1.0 is deprecated (RFC 8996). Disable it; keep TLS 1.2 and 1.3 only.",
    references=(ANSSI_TLS + " R3", "RFC 8996"),
)


TLS_PROTOCOL_TLS11 = define(
    id="tls.protocol.tls11",
    category="tls",
    severity=2,
    title_fr="Protocole TLS 1.1 accepté",
    title_en="TLS 1.1 protocol accepted",
    remediation_fr=(
        "TLS 1.1 est obsolète (RFC 8996). Demandez à votre prestataire de le désactiver : seuls "
        "TLS 1.2 et TLS 1.3 doivent rester ouverts."
    ),
    remediation_en="TLS 1.1 is deprecated (RFC 8996). Disable it; keep TLS 1.2 and 1.3 only.",
    references=(ANSSI_TLS + " R3", "RFC 8996"),
)


TLS_PROTOCOL_TLS13_MISSING = define(
    id="tls.protocol.tls13_missing",
    category="tls",
    severity=0,
    title_fr="TLS 1.3 non proposé",
    title_en="TLS 1.3 not offered",
    remediation_fr=(
        "TLS 1.3 est la version la plus sûre et la plus rapide. Ce n'est pas urgent, mais à la "
        "prochaine mise à jour du serveur, demandez à l'activer."
    ),
    remediation_en=(
        "TLS 1.3 is the safest and fastest version; enable it at the next server update."
    ),
    references=(ANSSI_TLS + " R3",),
)


TLS_CIPHER_WEAK = define(
    id="tls.cipher.weak",
    category="tls",
    severity=3,
    title_fr="Suites de chiffrement faibles acceptées",
    title_en="Weak cipher suites accepted",
    remediation_fr=(
        "Le serveur accepte des algorithmes cassés ou volontairement affaiblis (RC4, DES, 3DES, "
        "export, NULL ou anonymes) : les échanges peuvent être déchiffrés ou détournés. Demandez "
        "à votre prestataire de retirer ces suites et de ne garder que des suites ECDHE avec "
        "AES-GCM ou ChaCha20."
    ),
    remediation_en=(
        "Broken or export-grade suites are accepted (RC4, DES, 3DES, export, NULL, anonymous). "
        "Remove them; keep ECDHE suites with AES-GCM or ChaCha20."
    ),
    references=(ANSSI_TLS + " R5-R8",),
)


TLS_CIPHER_LEGACY = define(
    id="tls.cipher.legacy",
    category="tls",
    severity=1,
    title_fr="Suites de chiffrement anciennes (CBC avec SHA-1) acceptées",
    title_en="Legacy cipher suites (CBC with SHA-1) accepted",
    remediation_fr=(
        "Ces suites ne sont pas cassées, mais l'ANSSI recommande de les retirer au profit des "
        "suites AEAD (AES-GCM, ChaCha20). À planifier avec votre prestataire."
    ),
    remediation_en="CBC/SHA-1 suites are legacy; prefer AEAD suites (AES-GCM, ChaCha20).",
    references=(ANSSI_TLS + " R8",),
)


TLS_NO_FORWARD_SECRECY = define(
    id="tls.no_forward_secrecy",
    category="tls",
    severity=2,
    title_fr="Échange de clés sans confidentialité persistante",
    title_en="Key exchange without forward secrecy",
    remediation_fr=(
        "Avec ces suites, quiconque obtient un jour la clé privée du serveur pourra déchiffrer "
        "tous les échanges enregistrés auparavant. Demandez à votre prestataire de n'autoriser que "
        "les échanges de clés ECDHE (ou DHE)."
    ),
    remediation_en=(
        "Without forward secrecy, a future key compromise decrypts past traffic. Allow ECDHE "
        "(or DHE) key exchange only."
    ),
    references=(ANSSI_TLS + " R6",),
)


TLS_DH_WEAK = define(
    id="tls.dh.weak",
    category="tls",
    severity=2,
    title_fr="Paramètres Diffie-Hellman trop courts",
    title_en="Diffie-Hellman parameters too short",
    remediation_fr=(
        "Le groupe Diffie-Hellman utilisé fait moins de 2048 bits : il peut être attaqué (Logjam). "
        "Demandez un groupe d'au moins 2048 bits (3072 recommandé) ou l'usage d'ECDHE."
    ),
    remediation_en="The DHE group is under 2048 bits (Logjam). Use ≥ 2048-bit groups or ECDHE.",
    references=(ANSSI_TLS + " R7",),
)


TLS_COMPRESSION = define(
    id="tls.compression",
    category="tls",
    severity=2,
    title_fr="Compression TLS activée",
    title_en="TLS compression enabled",
    remediation_fr=(
        "La compression au niveau TLS permet de retrouver des secrets (cookies de session) en "
        "observant la taille des échanges (attaque CRIME). Demandez sa désactivation."
    ),
    remediation_en="TLS-level compression leaks secrets through sizes (CRIME). Disable it.",
    references=(ANSSI_TLS, "CVE-2012-4929"),
)


TLS_RENEGOTIATION_INSECURE = define(
    id="tls.renegotiation.insecure",
    category="tls",
    severity=2,
    title_fr="Renégociation TLS non sécurisée",
    title_en="Insecure TLS renegotiation",
    remediation_fr=(
        "Le serveur ne prend pas en charge la renégociation sécurisée (RFC 5746) : un attaquant "
        "placé sur le réseau peut injecter des données dans une session. Demandez la mise à jour "
        "du logiciel TLS du serveur."
    ),
    remediation_en="The server lacks secure renegotiation (RFC 5746): update its TLS software.",
    references=(ANSSI_TLS, "RFC 5746"),
)


TLS_CERT_EXPIRED = define(
    id="tls.cert.expired",
    category="tls",
    severity=3,
    title_fr="Certificat expiré",
    title_en="Certificate expired",
    remediation_fr=(
        "Le certificat n'est plus valide : les navigateurs affichent une alerte et les usagers "
        "prennent l'habitude de l'ignorer. Faites renouveler le certificat dès maintenant et "
        "mettez en place un renouvellement automatique."
    ),
    remediation_en="The certificate has expired. Renew it now and automate renewal.",
    references=("RFC 5280 §4.1.2.5",),
)


TLS_CERT_NOT_YET_VALID = define(
    id="tls.cert.not_yet_valid",
    category="tls",
    severity=2,
    title_fr="Certificat pas encore valide",
    title_en="Certificate not yet valid",
    remediation_fr=(
        "La date de début de validité du certificat est dans le futur : vérifiez l'horloge du "
        "serveur et le certificat installé."
    ),
    remediation_en=(
        "The certificate's validity starts in the future: check the server clock and certificate."
    ),
    references=("RFC 5280 §4.1.2.5",),
)


TLS_CERT_EXPIRING = define(
    id="tls.cert.expiring",
    category="tls",
    severity=2,
    title_fr="Certificat expirant dans moins de 30 jours",
    title_en="Certificate expiring within 30 days",
    remediation_fr=(
        "Le certificat expire bientôt : sans renouvellement, le service affichera une alerte de "
        "sécurité. Faites-le renouveler maintenant, idéalement automatiquement."
    ),
    remediation_en="The certificate expires within 30 days. Renew it, ideally automatically.",
    references=("RFC 5280 §4.1.2.5",),
)


TLS_CERT_SELF_SIGNED = define(
    id="tls.cert.self_signed",
    category="tls",
    severity=3,
    title_fr="Certificat auto-signé",
    title_en="Self-signed certificate",
    remediation_fr=(
        "Personne ne garantit l'identité de ce serveur : un usurpateur pourrait présenter le sien. "
        "Demandez un certificat émis par une autorité reconnue (par exemple gratuite, renouvelée "
        "automatiquement)."
    ),
    remediation_en=(
        "Nobody vouches for this server's identity. Use a certificate from a recognised CA."
    ),
    references=(ANSSI_TLS + " R11",),
)


TLS_CERT_UNTRUSTED = define(
    id="tls.cert.untrusted",
    category="tls",
    severity=3,
    title_fr="Chaîne de certification non reconnue",
    title_en="Certificate chain not trusted",
    remediation_fr=(
        "Le certificat ne se rattache à aucune autorité de confiance : il a été émis par une "
        "autorité inconnue des navigateurs (autorité interne, ou fournisseur non reconnu). "
        "Demandez à votre prestataire un certificat d'une autorité reconnue. (Un certificat "
        "intermédiaire seulement oublié par le serveur est un autre constat : "
        "tls.cert.chain_incomplete.)"
    ),
    remediation_en=(
        "The chain does not lead to a trusted CA (an internal or unknown authority). Get a "
        "certificate from a recognised CA. (A merely missing intermediate is "
        "tls.cert.chain_incomplete.)"
    ),
    references=(ANSSI_TLS + " R11",),
)


TLS_CERT_HOSTNAME_MISMATCH = define(
    id="tls.cert.hostname_mismatch",
    category="tls",
    severity=3,
    title_fr="Certificat émis pour un autre nom",
    title_en="Certificate issued for another name",
    remediation_fr=(
        "Le certificat ne couvre pas le nom du site : les navigateurs affichent une alerte. "
        "Demandez un certificat qui contient ce nom."
    ),
    remediation_en="The certificate does not cover this host name. Get one that lists it.",
    references=("RFC 6125",),
)


TLS_CERT_WEAK_KEY = define(
    id="tls.cert.weak_key",
    category="tls",
    severity=3,
    title_fr="Clé du certificat trop courte",
    title_en="Certificate key too short",
    remediation_fr=(
        "La clé du certificat est trop courte pour résister aux attaques actuelles "
        "(l'ANSSI demande au moins 2048 bits en RSA, 3072 recommandés, ou 256 bits en "
        "courbe elliptique). "
        "Faites générer une nouvelle clé et un nouveau certificat."
    ),
    remediation_en="The key is too short (ANSSI: RSA ≥ 2048, 3072 recommended; EC ≥ 256). Reissue.",
    references=(ANSSI_TLS + " R10",),
)


TLS_CERT_SHA1_SIGNATURE = define(
    id="tls.cert.sha1_signature",
    category="tls",
    severity=2,
    title_fr="Certificat signé avec un algorithme obsolète (SHA-1/MD5)",
    title_en="Certificate signed with an obsolete hash (SHA-1/MD5)",
    remediation_fr=(
        "La signature du certificat repose sur un algorithme cassé : un faux certificat pourrait "
        "être fabriqué. Faites émettre un certificat signé en SHA-256 ou plus."
    ),
    remediation_en=(
        "The certificate signature uses a broken hash. Reissue it with SHA-256 or better."
    ),
    references=(ANSSI_TLS + " R12",),
)


TLS_CERT_CHAIN_INCOMPLETE = define(
    id="tls.cert.chain_incomplete",
    category="tls",
    severity=2,
    title_fr="Chaîne de certificats incomplète (certificat intermédiaire non envoyé)",
    title_en="Incomplete certificate chain (intermediate not sent)",
    remediation_fr=(
        "Le certificat vient bien d'une autorité reconnue, mais le serveur n'envoie pas le "
        "certificat intermédiaire qui le relie à cette autorité : certains navigateurs, les "
        "téléphones et la plupart des logiciels (messagerie, applications métier) refusent "
        "alors la connexion. Demandez à votre prestataire d'installer sur le serveur la chaîne "
        "complète (le fichier « fullchain » fourni par l'autorité), sans changer de certificat."
    ),
    remediation_en=(
        "The certificate comes from a trusted CA, but the server does not send the intermediate "
        "certificate linking it to that CA: many clients then refuse it. Install the full chain "
        '(the CA\'s "fullchain" file) on the server; the certificate itself can stay.'
    ),
    references=(ANSSI_TLS + " R11", "RFC 8446 §4.4.2", "RFC 5280 §4.2.2.1"),
)


TLS_OCSP_STAPLING_MISSING = define(
    id="tls.ocsp.stapling_missing",
    category="tls",
    severity=0,
    title_fr="Agrafage OCSP non proposé",
    title_en="OCSP stapling not offered",
    remediation_fr=(
        "Le serveur n'agrafe pas la preuve de validité de son certificat (OCSP stapling) : "
        "chaque visiteur doit la demander lui-même à l'autorité, ce qui ralentit la connexion "
        "et renseigne l'autorité sur les visites. Demandez l'activation de l'agrafage OCSP "
        "si le logiciel du serveur le permet."
    ),
    remediation_en=(
        "The server does not staple an OCSP response: each client must ask the CA itself. "
        "Enable OCSP stapling where the server software allows it."
    ),
    references=("RFC 6066 §8", "RFC 6961"),
)


TLS_OCSP_MUST_STAPLE_MISSING = define(
    id="tls.ocsp.must_staple_missing",
    category="tls",
    severity=3,
    title_fr="Certificat « Must-Staple » servi sans réponse OCSP agrafée",
    title_en="Must-Staple certificate served without a stapled OCSP response",
    remediation_fr=(
        "Le certificat exige que le serveur joigne une preuve de validité (extension « OCSP "
        "Must-Staple »), mais le serveur ne la joint pas : les navigateurs qui respectent "
        "cette exigence refusent le site. Demandez l'activation de l'agrafage OCSP sur le "
        "serveur, ou un certificat sans cette exigence."
    ),
    remediation_en=(
        'The certificate requires a stapled OCSP response (TLS Feature "status_request", '
        "Must-Staple) but the server sends none: strict clients refuse the site. Enable OCSP "
        "stapling, or use a certificate without Must-Staple."
    ),
    references=("RFC 7633", "RFC 6066 §8"),
)


# Ports whose protocol stays unknown after every probe, TLS hellos included (tls/identify.py
# makes that last try, so both checks are declared here, beside their emitter).
TLS_UNIDENTIFIED = define(
    id="tls.unidentified",
    category="tls",
    severity=2,
    title_fr="Port chiffré (TLS) attendu, protocole non identifié",
    title_en="TLS port whose protocol could not be identified",
    remediation_fr=(
        "Ce port est d'ordinaire chiffré (HTTPS...), mais aucune poignée de main TLS n'a abouti, "
        "même avec les anciennes versions : le chiffrement de ce service n'a donc pas pu être "
        "vérifié, et rien ne permet de dire qu'il est correct. Demandez à votre prestataire "
        "quel service écoute sur ce port, et fermez-le s'il n'est pas utile."
    ),
    remediation_en=(
        "This port normally speaks TLS, but no TLS handshake succeeded, even with old versions: "
        "its encryption could not be checked at all. Find out what listens there; close it "
        "if unneeded."
    ),
    references=(ANSSI_TLS,),
)


PORT_UNIDENTIFIED = define(
    id="port.unidentified",
    category="exposure",
    severity=1,
    title_fr="Port ouvert, service non identifié",
    title_en="Open port, service not identified",
    remediation_fr=(
        "Un service répond sur ce port, mais aucune des sondes de Carbet (bannière, HTTP, TLS, "
        "protocoles médicaux et bases de données) ne l'a reconnu : il n'a donc pas pu être "
        "vérifié. Demandez à votre prestataire ce qui écoute ici ; tout port ouvert sans "
        "raison connue doit être fermé."
    ),
    remediation_en=(
        "Something answers on this port but no probe recognised it, so it could not be checked. "
        "Find out what it is; close any open port without a known purpose."
    ),
    references=("ANSSI, Guide d'hygiène informatique",),
)


# Attack probes (tls/attacks.py), in the manner of SSLyze and testssl.sh.
TLS_HEARTBLEED = define(
    id="tls.heartbleed",
    category="tls",
    severity=4,
    title_fr="Faille Heartbleed : la mémoire du serveur peut être lue à distance",
    title_en="Heartbleed: the server's memory can be read remotely",
    remediation_fr=(
        "Le serveur répond à une requête « heartbeat » malformée : n'importe qui sur internet peut "
        "lire des morceaux de sa mémoire (mots de passe, clés privées, données de patients). "
        "Mettez à jour OpenSSL (ou l'équipement) immédiatement, puis faites émettre un nouveau "
        "certificat avec une nouvelle clé et changez les mots de passe qui ont transité."
    ),
    remediation_en=(
        "The server answers a malformed heartbeat request: anyone can read its memory (passwords, "
        "private keys). Update OpenSSL or the device now, then rekey, reissue the certificate and "
        "change passwords."
    ),
    references=("CVE-2014-0160", "RFC 6520"),
)


TLS_FALLBACK_SCSV_MISSING = define(
    id="tls.fallback_scsv.missing",
    category="tls",
    severity=1,
    title_fr="Protection contre le repli de version (TLS_FALLBACK_SCSV) absente",
    title_en="No downgrade protection (TLS_FALLBACK_SCSV)",
    remediation_fr=(
        "Le serveur accepte plusieurs versions de TLS mais n'empêche pas un attaquant de forcer "
        "un client à se replier sur la plus ancienne. Le mieux est de ne garder que TLS 1.2 et "
        "1.3 ; sinon, demandez la mise à jour du logiciel TLS, qui gère ce signal depuis 2014."
    ),
    remediation_en=(
        "The server accepts several TLS versions but ignores the fallback signal, so a client can "
        "be pushed down to the oldest. Keep TLS 1.2/1.3 only, or update the TLS software."
    ),
    references=("RFC 7507", ANSSI_TLS),
)


TLS_EMS_MISSING = define(
    id="tls.ems.missing",
    category="tls",
    severity=1,
    title_fr="Extension « Extended Master Secret » non prise en charge",
    title_en="Extended Master Secret not supported",
    remediation_fr=(
        "En TLS 1.2 et avant, le serveur ne lie pas la clé de session à l'échange complet "
        "(RFC 7627) : cela ouvre la porte à l'attaque « triple handshake ». Demandez la mise à "
        "jour du logiciel TLS du serveur, ou le passage à TLS 1.3."
    ),
    remediation_en=(
        "Under TLS ≤ 1.2 the server does not bind the session key to the whole handshake "
        "(RFC 7627, triple handshake attack). Update the TLS software or move to TLS 1.3."
    ),
    references=("RFC 7627", ANSSI_TLS),
)


TLS_STARTTLS_MISSING = define(
    id="tls.starttls.missing",
    category="tls",
    severity=3,
    title_fr="Messagerie, annuaire ou base de données sans chiffrement (STARTTLS refusé)",
    title_en="Mail, directory or database service without encryption (STARTTLS refused)",
    remediation_fr=(
        "Ce service (IMAP, POP3, LDAP, PostgreSQL ou XMPP) refuse de passer en chiffré : les mots "
        "de passe et les données (courriels, annuaire, base) circulent en clair sur internet. "
        "Demandez à votre prestataire d'activer TLS avec un certificat valide et de refuser les "
        "connexions non chiffrées, ou de fermer ce port s'il n'a pas à être joignable."
    ),
    remediation_en=(
        "This service (IMAP, POP3, LDAP, PostgreSQL or XMPP) refuses to switch to TLS: passwords "
        "and data travel in clear text. Enable TLS with a valid certificate and refuse clear "
        "connections, or close the port."
    ),
    references=(ANSSI_TLS, "RFC 8314", "RFC 2595", "RFC 4513"),
)


TLS_CCS_INJECTION = define(
    id="tls.ccs_injection",
    category="tls",
    severity=3,
    title_fr="Faille « CCS injection » : les échanges chiffrés peuvent être interceptés",
    title_en="CCS injection: encrypted sessions can be intercepted",
    remediation_fr=(
        "Le serveur accepte un message « ChangeCipherSpec » avant l'échange de clés (OpenSSL "
        "antérieur à juin 2014) : un attaquant placé sur le réseau peut lire et modifier les "
        "échanges. Mettez à jour OpenSSL ou le logiciel de l'équipement sans attendre."
    ),
    remediation_en=(
        "The server accepts an early ChangeCipherSpec (OpenSSL before June 2014): an attacker on "
        "the network path can read and alter the traffic. Update OpenSSL or the device's software."
    ),
    references=("CVE-2014-0224", "https://www.openssl.org/news/secadv/20140605.txt", ANSSI_TLS),
)


TLS_RENEGOTIATION_CLIENT = define(
    id="tls.renegotiation.client_initiated",
    category="tls",
    severity=1,
    title_fr="Renégociation à l'initiative du client acceptée",
    title_en="Client-initiated renegotiation accepted",
    remediation_fr=(
        "Le serveur accepte qu'un client redemande une poignée de main au milieu d'une session : "
        "un seul poste peut ainsi lui faire refaire des calculs coûteux en boucle (déni de "
        "service), et, sans l'extension RFC 5746, injecter des données dans la session d'un "
        "autre. Demandez à votre prestataire de désactiver la renégociation initiée par le client "
        "(ou de passer à TLS 1.3, qui n'en a pas)."
    ),
    remediation_en=(
        "The server lets a client restart the handshake inside a session: one machine can make it "
        "redo costly work in a loop (denial of service) and, without RFC 5746, inject data into "
        "another's session. Disable client-initiated renegotiation, or move to TLS 1.3."
    ),
    references=("RFC 5746", "CVE-2009-3555", "CVE-2011-1473", ANSSI_TLS),
)


TLS_ROBOT = define(
    id="tls.robot",
    category="tls",
    severity=3,
    title_fr="Faille ROBOT : le chiffrement RSA du serveur peut être cassé",
    title_en="ROBOT: the server's RSA encryption can be broken",
    remediation_fr=(
        "Le serveur répond différemment selon qu'un échange de clés RSA est bien ou mal formé : "
        "un attaquant peut s'en servir pour déchiffrer des échanges enregistrés ou signer au nom "
        "du serveur. Demandez la mise à jour du logiciel de l'équipement, et la désactivation des "
        "suites à échange de clés RSA (celles sans ECDHE/DHE)."
    ),
    remediation_en=(
        "The server answers differently to well- and badly-formed RSA key exchanges: an attacker "
        "can decrypt recorded sessions or sign as the server. Update the device's software and "
        "disable RSA key exchange suites (those without ECDHE/DHE)."
    ),
    references=("CVE-2017-13099", "https://robotattack.org/", ANSSI_TLS),
)


TLS_EARLY_DATA = define(
    id="tls.early_data",
    category="tls",
    severity=1,
    title_fr="Données précoces TLS 1.3 (0-RTT) acceptées",
    title_en="TLS 1.3 early data (0-RTT) accepted",
    remediation_fr=(
        "Le serveur permet aux clients d'envoyer des données dès la reprise d'une session "
        "(0-RTT). Ces données peuvent être rejouées par quiconque les a interceptées : une même "
        "demande (un formulaire, une commande) pourrait être exécutée deux fois. Sauf besoin "
        "précis et applications prévues pour, demandez la désactivation du 0-RTT."
    ),
    remediation_en=(
        "The server lets clients send data at session resumption (0-RTT); that data can be "
        "replayed by anyone who captured it. Unless the applications are built for it, disable "
        "0-RTT."
    ),
    references=("RFC 8446 §8", ANSSI_TLS),
)
