"""The checks the service probes emit: exposed remote access, file sharing, databases, medical.

Declared here (keyword-only, ``define``); ``ports.verdicts`` turns what a probe identified
into observations of them. Ids are a published contract: never change what one means.
Remediation texts are written for a director without IT staff: why it matters first, then what
to ask the IT provider for.
"""

from __future__ import annotations

from carbet.engines.exposure.checks import define

ANSSI_INTERNET = (
    "https://cyber.gouv.fr/publications/"
    "recommandations-relatives-linterconnexion-dun-systeme-dinformation-internet"
)
ANSSI_REMOTE = "https://cyber.gouv.fr/publications/recommandations-sur-le-nomadisme-numerique"
FIREWALL_FR = (
    "Demandez à votre prestataire informatique de fermer ce port sur le pare-feu (il ne doit "
    "pas être joignable depuis internet) et de réserver l'accès à distance à un VPN avec "
    "double authentification."
)
FIREWALL_EN = (
    "Ask your IT provider to close this port on the firewall (it must not be reachable from the "
    "internet) and to offer remote access only through a VPN with two-factor authentication."
)

PORT_RDP = define(
    id="port.rdp",
    category="exposure",
    severity=4,
    title_fr="Bureau à distance Windows (RDP) ouvert sur internet",
    title_en="Windows Remote Desktop (RDP) open to the internet",
    remediation_fr=(
        "Le bureau à distance exposé est la première porte d'entrée des rançongiciels qui ont "
        "paralysé des hôpitaux : des robots essaient des mots de passe jour et nuit. " + FIREWALL_FR
    ),
    remediation_en=(
        "Exposed remote desktop is the first entry point of the ransomware that crippled "
        "hospitals: bots try passwords day and night. " + FIREWALL_EN
    ),
    references=(ANSSI_REMOTE, "https://nvd.nist.gov/vuln/detail/CVE-2019-0708"),
    tags=("remote-access",),
)


PORT_RDP_NO_NLA = define(
    id="port.rdp.no_nla",
    category="exposure",
    severity=3,
    title_fr="Bureau à distance sans authentification préalable (NLA)",
    title_en="Remote desktop without Network Level Authentication (NLA)",
    remediation_fr=(
        "Sans NLA, le serveur ouvre une session graphique avant même de vérifier l'identité : "
        "il est plus exposé aux failles et aux attaques par saturation. Demandez l'activation "
        "de NLA, et surtout la fermeture du port sur internet."
    ),
    remediation_en=(
        "Without NLA the server starts a graphical session before checking who connects: it is "
        "more exposed to flaws and denial of service. Ask for NLA to be enforced and, above "
        "all, the port to be closed to the internet."
    ),
    references=(
        "https://learn.microsoft.com/en-us/windows-server/remote/remote-desktop-services/",
    ),
    tags=("remote-access",),
)


PORT_SMB = define(
    id="port.smb",
    category="exposure",
    severity=4,
    title_fr="Partage de fichiers Windows (SMB) ouvert sur internet",
    title_en="Windows file sharing (SMB) open to the internet",
    remediation_fr=(
        "Le partage de fichiers n'est jamais fait pour internet : des vers comme WannaCry s'y "
        "sont propagés en quelques heures. Demandez de bloquer les ports 139 et 445 sur le "
        "pare-feu."
    ),
    remediation_en=(
        "File sharing is never meant for the internet: worms such as WannaCry spread through it "
        "within hours. Ask for ports 139 and 445 to be blocked on the firewall."
    ),
    references=(ANSSI_INTERNET, "https://nvd.nist.gov/vuln/detail/CVE-2017-0144"),
    tags=("remote-access",),
)


PORT_SMB_V1 = define(
    id="port.smb.v1",
    category="exposure",
    severity=4,
    title_fr="Ancienne version SMBv1 activée",
    title_en="Legacy SMBv1 enabled",
    remediation_fr=(
        "SMBv1 est la version exploitée par WannaCry et NotPetya ; Microsoft la désactive depuis "
        "2017. Demandez sa désactivation sur tous les serveurs et postes."
    ),
    remediation_en=(
        "SMBv1 is the version WannaCry and NotPetya exploited; Microsoft has disabled it since "
        "2017. Ask for it to be disabled on every server and workstation."
    ),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2017-0144",),
)


PORT_SMB_SIGNING_NOT_REQUIRED = define(
    id="port.smb.signing_not_required",
    category="exposure",
    severity=2,
    title_fr="Signature SMB non exigée",
    title_en="SMB signing not required",
    remediation_fr=(
        "Sans signature obligatoire, un attaquant placé sur le chemin peut relayer une "
        "authentification et se faire passer pour un utilisateur. Demandez d'exiger la "
        "signature SMB."
    ),
    remediation_en=(
        "Without mandatory signing, an attacker on the path can relay an authentication and act "
        "as a user. Ask for SMB signing to be required."
    ),
    references=(
        "https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/overview-server-message-block-signing",
    ),
)


PORT_TELNET = define(
    id="port.telnet",
    category="exposure",
    severity=3,
    title_fr="Telnet ouvert sur internet (mots de passe en clair)",
    title_en="Telnet open to the internet (clear-text passwords)",
    remediation_fr=(
        "Telnet transmet identifiants et commandes sans chiffrement, et vise souvent des "
        "équipements (routeurs, caméras) aux mots de passe par défaut. Demandez de le "
        "désactiver et d'utiliser SSH, derrière un VPN."
    ),
    remediation_en=(
        "Telnet carries logins and commands unencrypted and often fronts devices (routers, "
        "cameras) with default passwords. Ask for it to be disabled and SSH used, behind a VPN."
    ),
    references=(ANSSI_INTERNET, "https://www.rfc-editor.org/rfc/rfc854"),
    tags=("remote-access",),
)


PORT_FTP = define(
    id="port.ftp",
    category="exposure",
    severity=2,
    title_fr="Serveur FTP ouvert sur internet",
    title_en="FTP server open to the internet",
    remediation_fr=(
        "FTP transmet les mots de passe et les fichiers en clair. Demandez de le remplacer par "
        "un partage chiffré (SFTP ou HTTPS) ou de le fermer s'il ne sert plus."
    ),
    remediation_en=(
        "FTP sends passwords and files in clear text. Ask for it to be replaced by an encrypted "
        "transfer (SFTP or HTTPS) or closed if no longer used."
    ),
    references=(ANSSI_INTERNET,),
)


PORT_VNC = define(
    id="port.vnc",
    category="exposure",
    severity=4,
    title_fr="Prise de main à distance VNC ouverte sur internet",
    title_en="VNC remote control open to the internet",
    remediation_fr=(
        "VNC donne le contrôle complet d'un écran ; ses mots de passe sont courts et souvent "
        "faibles. " + FIREWALL_FR
    ),
    remediation_en=(
        "VNC gives full control of a screen; its passwords are short and often weak. " + FIREWALL_EN
    ),
    references=(ANSSI_REMOTE, "https://www.rfc-editor.org/rfc/rfc6143"),
    tags=("remote-access",),
)


PORT_VNC_NOAUTH = define(
    id="port.vnc.noauth",
    category="exposure",
    severity=4,
    title_fr="VNC accessible sans aucun mot de passe",
    title_en="VNC reachable without any password",
    remediation_fr=(
        "N'importe qui sur internet peut prendre le contrôle de cet écran, sans mot de passe. "
        "Demandez une coupure immédiate du port, puis un mot de passe et un VPN."
    ),
    remediation_en=(
        "Anyone on the internet can take control of this screen without a password. Ask for the "
        "port to be closed at once, then a password and a VPN."
    ),
    references=("https://www.rfc-editor.org/rfc/rfc6143#section-7.2",),
    points=60,
    tags=("remote-access",),
)


PORT_SSH = define(
    id="port.ssh",
    category="exposure",
    severity=1,
    title_fr="Administration à distance SSH ouverte sur internet",
    title_en="SSH remote administration open to the internet",
    remediation_fr=(
        "SSH est chiffré mais subit des essais de mots de passe en continu. Demandez que seules "
        "les clés soient acceptées, ou que l'accès passe par un VPN."
    ),
    remediation_en=(
        "SSH is encrypted but faces constant password guessing. Ask for key-only logins, or for "
        "access through a VPN."
    ),
    references=("https://cyber.gouv.fr/publications/usage-securise-dopenssh",),
    tags=("remote-access",),
)


PORT_SSH_V1 = define(
    id="port.ssh.v1",
    category="exposure",
    severity=3,
    title_fr="Ancien protocole SSH version 1 accepté",
    title_en="Legacy SSH protocol version 1 accepted",
    remediation_fr=(
        "La version 1 de SSH est cassée depuis plus de vingt ans. Demandez la mise à jour ou "
        "la reconfiguration de l'équipement pour n'accepter que SSH 2."
    ),
    remediation_en=(
        "SSH version 1 has been broken for over twenty years. Ask for the device to be updated "
        "or configured to accept SSH 2 only."
    ),
    references=("https://www.rfc-editor.org/rfc/rfc4253",),
    tags=("remote-access",),
)


PORT_DATABASE = define(
    id="port.database",
    category="exposure",
    severity=3,
    title_fr="Base de données joignable depuis internet",
    title_en="Database reachable from the internet",
    remediation_fr=(
        "Une base de données contient les informations les plus sensibles et ne doit parler "
        "qu'aux applications internes. Demandez de fermer son port sur le pare-feu."
    ),
    remediation_en=(
        "A database holds the most sensitive information and must only talk to internal "
        "applications. Ask for its port to be closed on the firewall."
    ),
    references=(ANSSI_INTERNET,),
)


PORT_REDIS_NOAUTH = define(
    id="port.redis.noauth",
    category="exposure",
    severity=4,
    title_fr="Redis sans mot de passe",
    title_en="Redis without a password",
    remediation_fr=(
        "Ce serveur Redis répond à n'importe qui sans mot de passe : ses données peuvent être "
        "lues, effacées, et il sert souvent à prendre la main sur le serveur. Demandez une "
        "fermeture immédiate du port et un mot de passe."
    ),
    remediation_en=(
        "This Redis server answers anyone without a password: its data can be read or wiped, "
        "and it is a common way to take over the server. Ask for the port to be closed at once "
        "and a password set."
    ),
    references=("https://redis.io/docs/latest/operate/oss_and_stack/management/security/",),
    points=60,
)


PORT_MONGODB_NOAUTH = define(
    id="port.mongodb.noauth",
    category="exposure",
    severity=4,
    title_fr="MongoDB sans authentification",
    title_en="MongoDB without authentication",
    remediation_fr=(
        "N'importe qui peut lister et lire les bases de ce serveur MongoDB ; des robots les "
        "vident et demandent une rançon. Demandez une fermeture immédiate du port et "
        "l'activation de l'authentification."
    ),
    remediation_en=(
        "Anyone can list and read this MongoDB server's databases; bots wipe them and ask for "
        "a ransom. Ask for the port to be closed at once and authentication enabled."
    ),
    references=("https://www.mongodb.com/docs/manual/administration/security-checklist/",),
    points=60,
)


PORT_ELASTICSEARCH_OPEN = define(
    id="port.elasticsearch.open",
    category="exposure",
    severity=4,
    title_fr="Elasticsearch ouvert sans authentification",
    title_en="Elasticsearch open without authentication",
    remediation_fr=(
        "Cet index de recherche répond sans mot de passe : les documents qu'il contient "
        "peuvent être lus par tous. Demandez une fermeture immédiate du port et l'activation "
        "de la sécurité."
    ),
    remediation_en=(
        "This search index answers without a password: the documents it holds can be read by "
        "anyone. Ask for the port to be closed at once and security enabled."
    ),
    references=(
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/secure-cluster.html",
    ),
    points=60,
)


PORT_VPN_PORTAL = define(
    id="port.vpn.portal",
    category="exposure",
    severity=0,
    title_fr="Portail VPN ou passerelle d'accès à distance identifié",
    title_en="VPN portal or remote-access gateway identified",
    remediation_fr=(
        "Ces passerelles sont la cible favorite des attaquants dès qu'une faille est publiée. "
        "Vérifiez avec votre prestataire que les mises à jour sont appliquées sous 48 heures "
        "et que la double authentification est exigée."
    ),
    remediation_en=(
        "Attackers target these gateways as soon as a flaw is published. Check with your IT "
        "provider that updates are applied within 48 hours and two-factor authentication is "
        "required."
    ),
    references=("https://www.cisa.gov/known-exploited-vulnerabilities-catalog",),
    tags=("remote-access",),
)


MEDICAL_DICOM_EXPOSED = define(
    id="medical.dicom.exposed",
    category="exposure",
    severity=4,
    title_fr="Serveur d'imagerie médicale (DICOM / PACS) joignable depuis internet",
    title_en="Medical imaging server (DICOM / PACS) reachable from the internet",
    remediation_fr=(
        "Les images des patients et leurs données d'identité circulent en DICOM sans "
        "chiffrement ; un PACS ne doit jamais être joignable depuis internet. Demandez à "
        "votre prestataire ou au fournisseur du PACS de fermer ce port et de passer par un VPN "
        "pour les téléradiologues."
    ),
    remediation_en=(
        "Patient images and identities travel over DICOM unencrypted; a PACS must never be "
        "reachable from the internet. Ask your IT provider or PACS vendor to close this port "
        "and to use a VPN for teleradiology."
    ),
    references=("https://www.dicomstandard.org/using/security", ANSSI_INTERNET),
    points=60,
    tags=("medical",),
)


MEDICAL_DICOM_ANY_AE_ACCEPTED = define(
    id="medical.dicom.any_ae_accepted",
    category="exposure",
    severity=4,
    title_fr="Le serveur DICOM accepte n'importe quel correspondant",
    title_en="The DICOM server accepts any calling application",
    remediation_fr=(
        "Le serveur a accepté une connexion d'un nom d'application inventé : n'importe qui "
        "peut donc lui demander ou lui envoyer des images de patients. Demandez la fermeture "
        "du port et une liste blanche des correspondants autorisés."
    ),
    remediation_en=(
        "The server accepted an association from a made-up application title: anyone can "
        "query or send it patient images. Ask for the port to be closed and an allow-list of "
        "known peers."
    ),
    references=("https://www.dicomstandard.org/using/security",),
    points=40,
    tags=("medical",),
)


MEDICAL_HL7_EXPOSED = define(
    id="medical.hl7.exposed",
    category="exposure",
    severity=4,
    title_fr="Interface HL7 (flux patients) joignable depuis internet",
    title_en="HL7 interface (patient feeds) reachable from the internet",
    remediation_fr=(
        "Les messages HL7 portent les admissions, résultats et identités des patients, en "
        "clair. Ce port ne doit parler qu'aux applications internes. Demandez sa fermeture "
        "immédiate sur le pare-feu."
    ),
    remediation_en=(
        "HL7 messages carry admissions, results and patient identities in clear text. This "
        "port must only talk to internal applications. Ask for it to be closed on the firewall "
        "at once."
    ),
    references=("https://www.hl7.org/implement/standards/product_brief.cfm?product_id=185",),
    points=60,
    tags=("medical",),
)


MEDICAL_FHIR_OPEN = define(
    id="medical.fhir.open",
    category="exposure",
    severity=3,
    title_fr="Serveur FHIR (données de santé) répondant sans authentification",
    title_en="FHIR server (health data) answering without authentication",
    remediation_fr=(
        "Un serveur FHIR publie des données de santé par une API web ; il a répondu sans "
        "qu'on s'identifie. Vérifiez avec l'éditeur que chaque accès exige une authentification "
        "(SMART on FHIR / OAuth) et que l'API n'est ouverte qu'aux partenaires prévus."
    ),
    remediation_en=(
        "A FHIR server publishes health data through a web API; it answered without any "
        "identification. Check with the vendor that every access requires authentication "
        "(SMART on FHIR / OAuth) and that the API is open only to the intended partners."
    ),
    references=("https://hl7.org/fhir/security.html",),
    tags=("medical",),
)


SERVICE_CHECKS = (
    PORT_RDP,
    PORT_RDP_NO_NLA,
    PORT_SMB,
    PORT_SMB_V1,
    PORT_SMB_SIGNING_NOT_REQUIRED,
    PORT_TELNET,
    PORT_FTP,
    PORT_VNC,
    PORT_VNC_NOAUTH,
    PORT_SSH,
    PORT_SSH_V1,
    PORT_DATABASE,
    PORT_REDIS_NOAUTH,
    PORT_MONGODB_NOAUTH,
    PORT_ELASTICSEARCH_OPEN,
    PORT_VPN_PORTAL,
    MEDICAL_DICOM_EXPOSED,
    MEDICAL_DICOM_ANY_AE_ACCEPTED,
    MEDICAL_HL7_EXPOSED,
    MEDICAL_FHIR_OPEN,
)
