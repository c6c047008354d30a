"""The checks the service probes emit: exposed remote access, file sharing, databases, medical.

Imported by ``services`` (so ``checks.all_checks()`` sees them). Ids are a published contract:
never change what one means. Remediation texts are written for a director without IT staff:
why it matters first, then what to ask the IT provider for.
"""

from __future__ import annotations

from typing import Any

from .checks import CheckDef, register
from .core import Observation, ServiceInfo
from .services_medparsers import DICOM_CALLED_AE, DICOM_CALLING_AE

DATABASES = {"mysql", "postgresql", "mssql", "oracle", "redis", "mongodb", "elasticsearch"}

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

SERVICE_CHECKS = (
    CheckDef(
        "port.rdp", "exposure", 4,
        "Bureau à distance Windows (RDP) ouvert sur internet",
        "Windows Remote Desktop (RDP) open to the internet",
        "Le bureau à distance exposé est la première porte d'entrée des rançongiciels qui ont "
        "paralysé des hôpitaux : des robots essaient des mots de passe jour et nuit. "
        + FIREWALL_FR,
        "Exposed remote desktop is the first entry point of the ransomware that crippled "
        "hospitals: bots try passwords day and night. " + FIREWALL_EN,
        (ANSSI_REMOTE, "https://nvd.nist.gov/vuln/detail/CVE-2019-0708"),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.rdp.no_nla", "exposure", 3,
        "Bureau à distance sans authentification préalable (NLA)",
        "Remote desktop without Network Level Authentication (NLA)",
        "Sans NLA, le serveur ouvre une session graphique avant même de vérifier l'identité : "
        "il est plus exposé aux failles et aux attaques par saturation. Demandez l'activation "
        "de NLA, et surtout la fermeture du port sur internet.",
        "Without NLA the server starts a graphical session before checking who connects: it is "
        "more exposed to flaws and denial of service. Ask for NLA to be enforced and, above "
        "all, the port to be closed to the internet.",
        ("https://learn.microsoft.com/en-us/windows-server/remote/remote-desktop-services/",),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.smb", "exposure", 4,
        "Partage de fichiers Windows (SMB) ouvert sur internet",
        "Windows file sharing (SMB) open to the internet",
        "Le partage de fichiers n'est jamais fait pour internet : des vers comme WannaCry s'y "
        "sont propagés en quelques heures. Demandez de bloquer les ports 139 et 445 sur le "
        "pare-feu.",
        "File sharing is never meant for the internet: worms such as WannaCry spread through it "
        "within hours. Ask for ports 139 and 445 to be blocked on the firewall.",
        (ANSSI_INTERNET, "https://nvd.nist.gov/vuln/detail/CVE-2017-0144"),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.smb.v1", "exposure", 4,
        "Ancienne version SMBv1 activée",
        "Legacy SMBv1 enabled",
        "SMBv1 est la version exploitée par WannaCry et NotPetya ; Microsoft la désactive depuis "
        "2017. Demandez sa désactivation sur tous les serveurs et postes.",
        "SMBv1 is the version WannaCry and NotPetya exploited; Microsoft has disabled it since "
        "2017. Ask for it to be disabled on every server and workstation.",
        ("https://nvd.nist.gov/vuln/detail/CVE-2017-0144",),
    ),
    CheckDef(
        "port.smb.signing_not_required", "exposure", 2,
        "Signature SMB non exigée",
        "SMB signing not required",
        "Sans signature obligatoire, un attaquant placé sur le chemin peut relayer une "
        "authentification et se faire passer pour un utilisateur. Demandez d'exiger la "
        "signature SMB.",
        "Without mandatory signing, an attacker on the path can relay an authentication and act "
        "as a user. Ask for SMB signing to be required.",
        ("https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/overview-server-message-block-signing",),
    ),
    CheckDef(
        "port.telnet", "exposure", 3,
        "Telnet ouvert sur internet (mots de passe en clair)",
        "Telnet open to the internet (clear-text passwords)",
        "Telnet transmet identifiants et commandes sans chiffrement, et vise souvent des "
        "équipements (routeurs, caméras) aux mots de passe par défaut. Demandez de le "
        "désactiver et d'utiliser SSH, derrière un VPN.",
        "Telnet carries logins and commands unencrypted and often fronts devices (routers, "
        "cameras) with default passwords. Ask for it to be disabled and SSH used, behind a VPN.",
        (ANSSI_INTERNET, "https://www.rfc-editor.org/rfc/rfc854"),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.ftp", "exposure", 2,
        "Serveur FTP ouvert sur internet",
        "FTP server open to the internet",
        "FTP transmet les mots de passe et les fichiers en clair. Demandez de le remplacer par "
        "un partage chiffré (SFTP ou HTTPS) ou de le fermer s'il ne sert plus.",
        "FTP sends passwords and files in clear text. Ask for it to be replaced by an encrypted "
        "transfer (SFTP or HTTPS) or closed if no longer used.",
        (ANSSI_INTERNET,),
    ),
    CheckDef(
        "port.vnc", "exposure", 4,
        "Prise de main à distance VNC ouverte sur internet",
        "VNC remote control open to the internet",
        "VNC donne le contrôle complet d'un écran ; ses mots de passe sont courts et souvent "
        "faibles. " + FIREWALL_FR,
        "VNC gives full control of a screen; its passwords are short and often weak. "
        + FIREWALL_EN,
        (ANSSI_REMOTE, "https://www.rfc-editor.org/rfc/rfc6143"),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.vnc.noauth", "exposure", 4,
        "VNC accessible sans aucun mot de passe",
        "VNC reachable without any password",
        "N'importe qui sur internet peut prendre le contrôle de cet écran, sans mot de passe. "
        "Demandez une coupure immédiate du port, puis un mot de passe et un VPN.",
        "Anyone on the internet can take control of this screen without a password. Ask for the "
        "port to be closed at once, then a password and a VPN.",
        ("https://www.rfc-editor.org/rfc/rfc6143#section-7.2",),
        points=60,
        tags=("remote-access",),
    ),
    CheckDef(
        "port.ssh", "exposure", 1,
        "Administration à distance SSH ouverte sur internet",
        "SSH remote administration open to the internet",
        "SSH est chiffré mais subit des essais de mots de passe en continu. Demandez que seules "
        "les clés soient acceptées, ou que l'accès passe par un VPN.",
        "SSH is encrypted but faces constant password guessing. Ask for key-only logins, or for "
        "access through a VPN.",
        ("https://cyber.gouv.fr/publications/usage-securise-dopenssh",),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.ssh.v1", "exposure", 3,
        "Ancien protocole SSH version 1 accepté",
        "Legacy SSH protocol version 1 accepted",
        "La version 1 de SSH est cassée depuis plus de vingt ans. Demandez la mise à jour ou "
        "la reconfiguration de l'équipement pour n'accepter que SSH 2.",
        "SSH version 1 has been broken for over twenty years. Ask for the device to be updated "
        "or configured to accept SSH 2 only.",
        ("https://www.rfc-editor.org/rfc/rfc4253",),
        tags=("remote-access",),
    ),
    CheckDef(
        "port.database", "exposure", 3,
        "Base de données joignable depuis internet",
        "Database reachable from the internet",
        "Une base de données contient les informations les plus sensibles et ne doit parler "
        "qu'aux applications internes. Demandez de fermer son port sur le pare-feu.",
        "A database holds the most sensitive information and must only talk to internal "
        "applications. Ask for its port to be closed on the firewall.",
        (ANSSI_INTERNET,),
    ),
    CheckDef(
        "port.redis.noauth", "exposure", 4,
        "Redis sans mot de passe",
        "Redis without a password",
        "Ce serveur Redis répond à n'importe qui sans mot de passe : ses données peuvent être "
        "lues, effacées, et il sert souvent à prendre la main sur le serveur. Demandez une "
        "fermeture immédiate du port et un mot de passe.",
        "This Redis server answers anyone without a password: its data can be read or wiped, "
        "and it is a common way to take over the server. Ask for the port to be closed at once "
        "and a password set.",
        ("https://redis.io/docs/latest/operate/oss_and_stack/management/security/",),
        points=60,
    ),
    CheckDef(
        "port.mongodb.noauth", "exposure", 4,
        "MongoDB sans authentification",
        "MongoDB without authentication",
        "N'importe qui peut lister et lire les bases de ce serveur MongoDB ; des robots les "
        "vident et demandent une rançon. Demandez une fermeture immédiate du port et "
        "l'activation de l'authentification.",
        "Anyone can list and read this MongoDB server's databases; bots wipe them and ask for "
        "a ransom. Ask for the port to be closed at once and authentication enabled.",
        ("https://www.mongodb.com/docs/manual/administration/security-checklist/",),
        points=60,
    ),
    CheckDef(
        "port.elasticsearch.open", "exposure", 4,
        "Elasticsearch ouvert sans authentification",
        "Elasticsearch open without authentication",
        "Cet index de recherche répond sans mot de passe : les documents qu'il contient "
        "peuvent être lus par tous. Demandez une fermeture immédiate du port et l'activation "
        "de la sécurité.",
        "This search index answers without a password: the documents it holds can be read by "
        "anyone. Ask for the port to be closed at once and security enabled.",
        (
            "https://www.elastic.co/guide/en/elasticsearch/reference/current/"
            "secure-cluster.html",
        ),
        points=60,
    ),
    CheckDef(
        "port.vpn.portal", "exposure", 0,
        "Portail VPN ou passerelle d'accès à distance identifié",
        "VPN portal or remote-access gateway identified",
        "Ces passerelles sont la cible favorite des attaquants dès qu'une faille est publiée. "
        "Vérifiez avec votre prestataire que les mises à jour sont appliquées sous 48 heures "
        "et que la double authentification est exigée.",
        "Attackers target these gateways as soon as a flaw is published. Check with your IT "
        "provider that updates are applied within 48 hours and two-factor authentication is "
        "required.",
        ("https://www.cisa.gov/known-exploited-vulnerabilities-catalog",),
        tags=("remote-access",),
    ),
    CheckDef(
        "medical.dicom.exposed", "exposure", 4,
        "Serveur d'imagerie médicale (DICOM / PACS) joignable depuis internet",
        "Medical imaging server (DICOM / PACS) reachable from the internet",
        "Les images des patients et leurs données d'identité circulent en DICOM sans "
        "chiffrement ; un PACS ne doit jamais être joignable depuis internet. Demandez à "
        "votre prestataire ou au fournisseur du PACS de fermer ce port et de passer par un VPN "
        "pour les téléradiologues.",
        "Patient images and identities travel over DICOM unencrypted; a PACS must never be "
        "reachable from the internet. Ask your IT provider or PACS vendor to close this port "
        "and to use a VPN for teleradiology.",
        ("https://www.dicomstandard.org/using/security", ANSSI_INTERNET),
        points=60,
        tags=("medical",),
    ),
    CheckDef(
        "medical.dicom.any_ae_accepted", "exposure", 4,
        "Le serveur DICOM accepte n'importe quel correspondant",
        "The DICOM server accepts any calling application",
        "Le serveur a accepté une connexion d'un nom d'application inventé : n'importe qui "
        "peut donc lui demander ou lui envoyer des images de patients. Demandez la fermeture "
        "du port et une liste blanche des correspondants autorisés.",
        "The server accepted an association from a made-up application title: anyone can "
        "query or send it patient images. Ask for the port to be closed and an allow-list of "
        "known peers.",
        ("https://www.dicomstandard.org/using/security",),
        points=40,
        tags=("medical",),
    ),
    CheckDef(
        "medical.hl7.exposed", "exposure", 4,
        "Interface HL7 (flux patients) joignable depuis internet",
        "HL7 interface (patient feeds) reachable from the internet",
        "Les messages HL7 portent les admissions, résultats et identités des patients, en "
        "clair. Ce port ne doit parler qu'aux applications internes. Demandez sa fermeture "
        "immédiate sur le pare-feu.",
        "HL7 messages carry admissions, results and patient identities in clear text. This "
        "port must only talk to internal applications. Ask for it to be closed on the firewall "
        "at once.",
        ("https://www.hl7.org/implement/standards/product_brief.cfm?product_id=185",),
        points=60,
        tags=("medical",),
    ),
    CheckDef(
        "medical.fhir.open", "exposure", 3,
        "Serveur FHIR (données de santé) répondant sans authentification",
        "FHIR server (health data) answering without authentication",
        "Un serveur FHIR publie des données de santé par une API web ; il a répondu sans "
        "qu'on s'identifie. Vérifiez avec l'éditeur que chaque accès exige une authentification "
        "(SMART on FHIR / OAuth) et que l'API n'est ouverte qu'aux partenaires prévus.",
        "A FHIR server publishes health data through a web API; it answered without any "
        "identification. Check with the vendor that every access requires authentication "
        "(SMART on FHIR / OAuth) and that the API is open only to the intended partners.",
        ("https://hl7.org/fhir/security.html",),
        tags=("medical",),
    ),
)  # fmt: skip

register(*SERVICE_CHECKS)


def is_http(service: ServiceInfo) -> bool:
    """Should the web checks run on this service (a web server, not an API like Elasticsearch)?"""
    return bool(service.extra.get("http")) and service.service != "elasticsearch"


def observations_for(service: ServiceInfo) -> list[Observation]:
    """The checks an identified service fires, with its evidence."""
    found: list[Observation] = []
    kind = service.service
    extra = service.extra
    evidence: dict[str, Any] = {"service": kind}
    for name in ("product", "version", "banner"):
        if getattr(service, name):
            evidence[name] = getattr(service, name)

    def fire(check: str, detail: str, **more: Any) -> None:
        severity = more.pop("severity", None)
        found.append(
            Observation(
                check,
                service.port,
                detail,
                {**evidence, **more},
                severity=severity,
                product=service.product,
            )
        )

    if kind == "rdp":
        fire("port.rdp", "RDP", selected_protocol=extra.get("selected_protocol", ""))
        if extra.get("nla") is False:
            fire(
                "port.rdp.no_nla",
                "NLA non exigée",
                selected_protocol=extra.get("selected_protocol", ""),
            )
    elif kind == "smb":
        fire("port.smb", f"SMB {extra.get('dialect', '')}".strip(), dialect=extra.get("dialect"))
        if extra.get("smb1"):
            fire("port.smb.v1", "SMBv1 accepté")
        if extra.get("signing_required") is False:
            fire("port.smb.signing_not_required", "signature non exigée")
    elif kind == "telnet":
        fire("port.telnet", "Telnet")
    elif kind == "ftp":
        fire("port.ftp", service.product or "FTP")
    elif kind == "vnc":
        fire(
            "port.vnc",
            f"RFB {extra.get('protocol', '')}",
            security_types=extra.get("security_names", extra.get("security_types", [])),
        )
        if extra.get("no_auth"):
            fire("port.vnc.noauth", "type de sécurité « None » proposé")
    elif kind == "ssh":
        fire("port.ssh", service.banner or "SSH")
        if str(extra.get("protocol", "")).startswith("1."):
            fire("port.ssh.v1", f"protocole SSH-{extra['protocol']}")
    elif kind == "smtp" and not service.starttls and "extensions" in extra:
        fire("mail.starttls.missing", "STARTTLS non proposé après EHLO")
    elif kind == "dicom":
        association = extra.get("association", "")
        fire(
            "medical.dicom.exposed",
            f"association DICOM {association}",
            association=association,
            reason=extra.get("reason", ""),
            implementation=extra.get("implementation_version", ""),
        )
        if association == "accepted":
            fire(
                "medical.dicom.any_ae_accepted",
                f"AE appelant « {DICOM_CALLING_AE} », appelé « {DICOM_CALLED_AE} » acceptés",
                calling_ae=DICOM_CALLING_AE,
                called_ae=DICOM_CALLED_AE,
            )
    elif kind == "hl7":
        fire(
            "medical.hl7.exposed",
            f"ACK HL7 {extra.get('ack_code', '')}".strip(),
            ack_code=extra.get("ack_code", ""),
            sending_application=extra.get("sending_application", ""),
            hl7_version=extra.get("hl7_version", ""),
        )
    if kind in DATABASES:
        fire("port.database", service.product or kind)
        if kind == "redis" and extra.get("auth_required") is False:
            fire("port.redis.noauth", "PING accepté sans mot de passe")
        if kind == "mongodb" and extra.get("auth_required") is False:
            fire(
                "port.mongodb.noauth",
                "listDatabases accepté sans authentification",
                database_count=extra.get("database_count"),
            )
        if kind == "elasticsearch":
            fire(
                "port.elasticsearch.open",
                "informations du cluster lues sans authentification",
                cluster_name=extra.get("cluster_name", ""),
            )
    fhir = extra.get("fhir")
    if fhir and fhir.get("open"):
        declared = fhir.get("security") or []
        fire(
            "medical.fhir.open",
            f"CapabilityStatement lisible sur {fhir.get('path')}",
            fhir_version=fhir.get("fhir_version", ""),
            declared_security=declared,
            severity=None if declared else 4,
        )
    if extra.get("appliance") == "vpn":
        fire("port.vpn.portal", service.product)
    return found
