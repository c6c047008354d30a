"""What the demo region's findings are: a catalogue of weaknesses and each structure's history.

Pure data, like ``carbet.demo.region``: ``carbet.demo.findings`` replays it through the real
services. Each weakness of the catalogue is written once, in plain French (what it is, why it
matters, how to fix it), with the check id the exposure and directory services use for it.
Each structure's profile says which weaknesses it had, on which of its assets, when they were
first seen and when a later scan or audit stopped seeing them, in days before the load.

The structures differ on purpose, so that the dashboards, the heatmap and the peer comparisons
show something: a few are in a bad way, most have a handful of ordinary weaknesses, and the two
without a mandate have nothing (nobody may scan them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carbet.directory.service import DIRECTORY_SOURCE
from carbet.exposure.service import EXPOSURE_SOURCE
from carbet.findings.choices import Severity, Source

# Days (before the load) of the complete exposure scans and directory audits, of the nightly
# posture snapshots drawn in the trends, and of the regional campaign on the shared CVE.
EXPOSURE_SCAN_DAYS = (84, 70, 56, 42, 28, 14, 3)
DIRECTORY_AUDIT_DAYS = (77, 21)
SNAPSHOT_DAYS = (84, 77, 70, 63, 56, 49, 42, 35, 28, 21, 14, 7, 0)
# Second audit visits: they go through the whole checklist again (a complete run), so what
# was fixed since the first visit is closed.
FOLLOW_UP_VISITS = {"ssr-bois-cannelle": (21,)}

KEV_CVE = "CVE-2024-21762"

IMPORT_LABELS = {
    "cert-sante": "Signalement du CERT Santé",
    "assureur": "Rapport d'audit de l'assureur cyber",
}


@dataclass(frozen=True)
class Weakness:
    """One kind of weakness, as the check that finds it describes it."""

    rule: str
    source: str
    severity: int
    title: str
    description: str
    remediation: str
    references: tuple[str, ...] = ()
    cve: str = ""
    cvss: float | None = None
    kev: bool = False
    product: str = ""
    # Values are formatted with ``asset`` (the asset's value), ``domain``, ``range_host`` (an
    # address of the structure's public range), ``expiry`` and ``expired`` (dates).
    evidence: dict[str, Any] = field(default_factory=dict)


E, D, M = EXPOSURE_SOURCE, DIRECTORY_SOURCE, Source.MANUAL
W = Weakness

# One weakness per entry, laid out by hand to stay readable.
# fmt: off
CATALOGUE: dict[str, Weakness] = {
    "rdp": W(
        "port.rdp", E, Severity.CRITICAL,
        "Bureau à distance (RDP, port 3389) accessible depuis internet",
        "Le bureau à distance de Windows répond sur le port 3389 de cette adresse, depuis "
        "n'importe où sur internet. C'est la porte d'entrée préférée des rançongiciels : des "
        "robots y essaient des mots de passe jour et nuit, et une seule réussite suffit pour "
        "prendre la main sur le serveur.",
        "Faites fermer le port 3389 sur le pare-feu (ou la box) qui protège cette adresse. Pour "
        "travailler à distance, passez par le VPN de l'établissement avec double "
        "authentification. Demandez ensuite à votre prestataire de vérifier dans les journaux "
        "de connexion de Windows qu'aucune connexion inconnue n'a réussi.",
        evidence={"port": 3389, "service": "RDP (bureau à distance Windows)", "adresse": "{asset}"},
    ),
    "smb": W(
        "port.smb", E, Severity.CRITICAL,
        "Partage de fichiers Windows (SMB, port 445) accessible depuis internet",
        "Le partage de fichiers de Windows répond sur le port 445 depuis internet. Ce service "
        "n'est pas fait pour être exposé : des failles graves l'ont déjà visé (le rançongiciel "
        "WannaCry s'est propagé ainsi) et il laisse essayer des mots de passe sans fin.",
        "Faites bloquer les ports 445 et 139 sur le pare-feu pour tout ce qui vient "
        "d'internet. Si des fichiers doivent être partagés avec l'extérieur, utilisez un "
        "service prévu pour cela, derrière le VPN.",
        evidence={"port": 445, "service": "SMB (partage Windows)", "adresse": "{asset}"},
    ),
    "ftp": W(
        "port.ftp", E, Severity.HIGH,
        "Serveur FTP accessible depuis internet, sans chiffrement",
        "Un serveur FTP répond sur le port 21. Avec FTP, les identifiants et les fichiers "
        "circulent en clair : quiconque se trouve sur le chemin peut les lire, et des robots y "
        "essaient des mots de passe en permanence.",
        "Si ce serveur ne sert plus, faites-le arrêter. Sinon, remplacez-le par un transfert "
        "chiffré (SFTP ou un service d'échange de fichiers sécurisé) et limitez son accès aux "
        "seules adresses qui en ont besoin.",
        evidence={"port": 21, "service": "FTP", "adresse": "{asset}"},
    ),
    "tls10": W(
        "tls.protocol.tls10", E, Severity.MEDIUM,
        "Ancien protocole de chiffrement TLS 1.0 encore accepté",
        "Ce serveur accepte encore TLS 1.0, une version du chiffrement des connexions que les "
        "navigateurs ont abandonnée en 2020. Elle a des faiblesses connues : un attaquant placé "
        "sur le chemin des échanges peut, dans certains cas, lire des identifiants ou des "
        "données.",
        "Demandez à votre prestataire ou à votre hébergeur de désactiver TLS 1.0 et TLS 1.1 et "
        "de ne garder que TLS 1.2 et TLS 1.3. Vérifiez ensuite avec lui que les anciens postes "
        "ou logiciels qui se connectent à ce serveur fonctionnent toujours.",
        evidence={"adresse": "{asset}", "port": 443, "protocoles acceptés": ["TLS 1.0", "TLS 1.2"]},
    ),
    "cert": W(
        "tls.cert.expiring", E, Severity.LOW,
        "Certificat de sécurité bientôt expiré",
        "Le certificat qui protège les connexions à ce site expire dans moins de 30 jours. "
        "Passé cette date, les navigateurs afficheront une alerte de sécurité : le personnel et "
        "les familles ne pourront plus se connecter sans risque, ou prendront l'habitude "
        "d'ignorer les alertes.",
        "Demandez à votre prestataire ou à votre hébergeur de renouveler le certificat avant la "
        "date indiquée et, si possible, de rendre son renouvellement automatique.",
        evidence={"adresse": "{asset}", "expire le": "{expiry}"},
    ),
    "cert_expired": W(
        "tls.cert.expired", E, Severity.HIGH,
        "Certificat de sécurité expiré",
        "Le certificat qui protège les connexions à ce service a expiré. Les navigateurs "
        "affichent une alerte de sécurité à chaque visite : le personnel prend l'habitude de "
        "l'ignorer et ne fera plus la différence avec un vrai piège.",
        "Faites renouveler le certificat au plus vite par votre prestataire ou votre hébergeur, "
        "et rendez son renouvellement automatique.",
        evidence={"adresse": "{asset}", "expiré le": "{expired}"},
    ),
    "https_missing": W(
        "web.https.missing", E, Severity.MEDIUM,
        "Site internet sans connexion chiffrée (HTTPS)",
        "Le site ne propose pas de connexion chiffrée : ce que les visiteurs y écrivent "
        "(formulaire de contact, demande d'admission) circule en clair, et les navigateurs "
        "le signalent comme « non sécurisé ».",
        "Demandez à votre hébergeur d'activer HTTPS avec un certificat renouvelé "
        "automatiquement, puis de rediriger toutes les pages vers leur version HTTPS.",
        evidence={"adresse": "http://{asset}/", "HTTPS": "pas de réponse sur le port 443"},
    ),
    "dmarc": W(
        "mail.dmarc.missing", E, Severity.MEDIUM,
        "Pas de politique DMARC pour la messagerie",
        "Le domaine de messagerie n'a pas d'enregistrement DMARC : rien n'indique aux "
        "messageries des destinataires quoi faire d'un courriel qui se fait passer pour "
        "l'établissement. Un escroc peut envoyer de faux messages « de la direction » ou « de la "
        "comptabilité » aux familles, aux fournisseurs et aux agents.",
        "Demandez à la personne qui gère votre nom de domaine d'ajouter un enregistrement DMARC, "
        "d'abord en observation (p=none, avec une adresse qui reçoit les rapports), puis, après "
        "quelques semaines sans problème, en quarantaine ou en rejet (p=quarantine ou p=reject).",
        evidence={"enregistrement cherché": "_dmarc.{domain}", "réponse": "aucun enregistrement"},
    ),
    "spf": W(
        "mail.spf.permissive", E, Severity.MEDIUM,
        "Règle SPF trop large : tout le monde peut envoyer des courriels au nom du domaine",
        "L'enregistrement SPF du domaine se termine par « +all » : il autorise tous les "
        "serveurs du monde à envoyer des courriels au nom de l'établissement. Les faux messages "
        "à votre nom passent alors plus facilement les filtres.",
        "Listez les services qui envoient vraiment vos courriels (messagerie, logiciel de "
        "facturation, lettre d'information…), inscrivez-les dans l'enregistrement SPF et "
        "terminez-le par « -all » (ou « ~all » le temps de vérifier que rien ne manque).",
        evidence={"enregistrement": "v=spf1 mx include:_spf.{domain} +all"},
    ),
    "dicom": W(
        "medical.dicom.exposed", E, Severity.CRITICAL,
        "Serveur d'imagerie médicale (DICOM, port 104) accessible depuis internet",
        "Un serveur d'images médicales (PACS) répond au protocole DICOM depuis internet. Ce "
        "protocole n'a souvent ni chiffrement ni mot de passe : des images et des données de "
        "patients (nom, date de naissance, examen) peuvent être consultées ou copiées par "
        "n'importe qui.",
        "Faites fermer tout de suite l'accès au port 104 depuis internet sur le pare-feu. Les "
        "échanges d'images avec l'extérieur doivent passer par un VPN ou par la plateforme "
        "régionale d'échange d'imagerie. Prévenez votre délégué à la protection des données : "
        "il dira si une notification à la CNIL est nécessaire.",
        evidence={"adresse": "{range_host}", "port": 104, "service": "DICOM (PACS)"},
    ),
    "kev": W(
        "vuln.kev", E, Severity.CRITICAL,
        f"VPN Fortinet touché par une faille activement exploitée ({KEV_CVE})",
        "Le boîtier d'accès à distance (VPN SSL Fortinet) fonctionne avec une version de "
        f"FortiOS touchée par la faille {KEV_CVE}. Elle permet à un attaquant, sans mot de "
        "passe, de prendre le contrôle du boîtier depuis internet, et donc d'entrer dans le "
        "réseau de l'établissement. Des attaquants s'en servent déjà : elle figure sur la liste "
        "des failles activement exploitées (KEV) de l'agence américaine CISA.",
        "Faites mettre à jour FortiOS vers une version corrigée (7.2.7 ou plus récente pour la "
        "branche 7.2) en suivant l'avis de sécurité de Fortinet FG-IR-24-015. Si la mise à "
        "jour ne peut pas être faite tout de suite, désactivez le VPN SSL en attendant. Après "
        "la mise à jour, demandez à votre prestataire de vérifier qu'aucun compte ni aucune "
        "règle n'a été ajouté sur le boîtier.",
        references=(
            KEV_CVE,
            "https://www.fortiguard.com/psirt/FG-IR-24-015",
            "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
        ),
        cve=KEV_CVE,
        cvss=9.8,
        kev=True,
        product="Fortinet FortiOS (VPN SSL)",
        evidence={"adresse": "{asset}", "produit": "FortiOS", "version détectée": "7.2.5"},
    ),
    "admin_page": W(
        "web.sensitive_path", E, Severity.MEDIUM,
        "Page d'administration du site accessible depuis internet",
        "L'adresse /admin du site internet répond depuis internet. Si c'est l'interface "
        "d'administration du site, des robots peuvent y essayer des mots de passe ou y "
        "exploiter une faille du logiciel du site.",
        "Vérifiez avec l'hébergeur du site ce qu'est cette page. Si c'est bien "
        "l'administration du site, limitez son accès aux adresses de l'établissement ou "
        "protégez-la par double authentification.",
        evidence={"adresse": "https://{asset}/admin", "code de réponse": 200},
    ),
    "hsts": W(
        "web.hsts.missing", E, Severity.LOW,
        "Le site n'impose pas les connexions chiffrées (HSTS absent)",
        "Le site fonctionne en HTTPS mais ne demande pas aux navigateurs de toujours "
        "l'utiliser. Sur un wifi public, un attaquant peut ramener un visiteur vers la version "
        "non chiffrée du site.",
        "Demandez à l'hébergeur d'ajouter l'en-tête « Strict-Transport-Security » une fois que "
        "tout le site fonctionne en HTTPS.",
        evidence={"adresse": "https://{asset}/", "en-tête Strict-Transport-Security": "absent"},
    ),
    "dnssec": W(
        "dns.dnssec.missing", E, Severity.INFO,
        "Nom de domaine sans signature DNSSEC",
        "Le domaine n'est pas signé avec DNSSEC. Ce n'est pas une faille en soi, mais cette "
        "protection empêche de détourner les visiteurs ou les courriels vers un faux serveur en "
        "falsifiant l'annuaire d'internet (le DNS).",
        "Au prochain échange avec le gestionnaire de votre nom de domaine, demandez "
        "l'activation de DNSSEC : c'est souvent une simple option.",
        evidence={"domaine": "{domain}", "DNSSEC": "non signé"},
    ),
    "krbtgt": W(
        "vuln2_krbtgt", D, Severity.HIGH,
        "Mot de passe du compte krbtgt inchangé depuis des années",
        "Le compte krbtgt signe tous les tickets d'accès de l'annuaire (Kerberos). Son mot de "
        "passe n'a pas changé depuis des années. Si un attaquant l'a obtenu un jour, il peut se "
        "fabriquer des accès d'administrateur valables (« golden ticket ») tant que ce mot de "
        "passe ne change pas.",
        "Faites changer le mot de passe du compte krbtgt deux fois, à au moins 24 heures "
        "d'intervalle (le temps que les tickets en cours expirent), en suivant la procédure de "
        "Microsoft. Prévoyez ensuite de le renouveler au moins une fois par an.",
        references=("ANSSI vuln2_krbtgt",),
        evidence={"domaine": "{asset}"},
    ),
    "dont_expire": W(
        "vuln2_dont_expire", D, Severity.MEDIUM,
        "Comptes dont le mot de passe n'expire jamais",
        "Plusieurs comptes de l'annuaire ont l'option « le mot de passe n'expire jamais ». "
        "Leurs mots de passe, souvent anciens et connus de plusieurs personnes (anciens "
        "salariés, prestataires), restent valables indéfiniment.",
        "Passez en revue la liste des comptes avec votre prestataire : supprimez ceux qui ne "
        "servent plus, retirez l'option pour les comptes de personnes et, pour les comptes de "
        "service, utilisez des mots de passe longs et tirés au sort (ou des comptes de service "
        "gérés, gMSA).",
        references=("ANSSI vuln2_dont_expire",),
        evidence={"domaine": "{asset}"},
    ),
    "spn_priv": W(
        "vuln1_spn_priv", D, Severity.CRITICAL,
        "Comptes d'administration exposés au « kerberoasting »",
        "Des comptes membres des groupes d'administration portent un nom de service (SPN). "
        "N'importe quel utilisateur du domaine peut demander un ticket pour ces comptes et "
        "chercher leur mot de passe hors ligne, sans limite d'essais : un mot de passe faible "
        "donne directement les droits d'administrateur du domaine.",
        "Retirez ces comptes des groupes d'administration s'ils n'en ont pas besoin, ou "
        "supprimez leur SPN. Si le compte de service doit rester privilégié, donnez-lui un mot "
        "de passe tiré au sort d'au moins 30 caractères ou remplacez-le par un compte de "
        "service géré (gMSA).",
        references=("ANSSI vuln1_spn_priv",),
        evidence={"domaine": "{asset}", "groupe": "Admins du domaine"},
    ),
    "offline_backup": W(
        "backup.offline.missing", M, Severity.HIGH,
        "Aucune copie des sauvegardes hors ligne",
        "Toutes les sauvegardes sont sur des disques ou des serveurs branchés en permanence au "
        "réseau. Lors d'une attaque par rançongiciel, les attaquants chiffrent ou effacent "
        "d'abord les sauvegardes : l'établissement n'aurait alors plus aucun moyen de retrouver "
        "ses données (dossiers de soins, paie, facturation).",
        "Gardez au moins une copie récente des données importantes débranchée du réseau : deux "
        "disques externes utilisés en alternance et rangés sous clé, ou un service de "
        "sauvegarde externe dont les copies ne peuvent pas être effacées. Demandez à votre "
        "prestataire d'appliquer la règle « 3-2-1 » : 3 copies, sur 2 supports différents, dont "
        "1 hors ligne ou hors du site.",
        references=("ANSSI — guide d'hygiène informatique, sauvegardes",),
    ),
    "restore_untested": W(
        "backup.restore.untested", M, Severity.MEDIUM,
        "Restauration des sauvegardes jamais testée",
        "Personne n'a vérifié récemment qu'on sait remettre les données en service à partir des "
        "sauvegardes. Beaucoup d'établissements découvrent le jour d'une panne ou d'une attaque "
        "que la sauvegarde était incomplète ou illisible, ou que la restauration prend des "
        "semaines.",
        "Faites au moins une fois par an un essai de restauration avec votre prestataire : "
        "choisissez une application importante (le logiciel de soins par exemple), "
        "restaurez-la sur une machine à part et vérifiez avec un utilisateur que les données "
        "sont complètes. Notez la durée de l'opération et gardez le compte rendu.",
        references=("ANSSI — guide d'hygiène informatique, sauvegardes",),
    ),
    "webmail_mfa": W(
        "access.mfa.webmail", M, Severity.HIGH,
        "Messagerie accessible depuis internet sans double authentification",
        "Le webmail s'ouvre avec un identifiant et un mot de passe seulement. Un mot de passe "
        "volé par un faux courriel suffit alors pour lire les messages, y compris ceux qui "
        "contiennent des données de patients, et pour écrire au nom de l'établissement.",
        "Activez la double authentification (code reçu sur le téléphone ou application) pour "
        "tous les comptes de messagerie, en commençant par la direction, la comptabilité et les "
        "secrétariats. Les hébergeurs de messagerie proposent en général cette option sans "
        "surcoût.",
    ),
    "laptops": W(
        "endpoint.disk.unencrypted", M, Severity.HIGH,
        "Ordinateurs portables des soignants non chiffrés",
        "Les ordinateurs portables emportés au domicile des patients n'ont pas de chiffrement "
        "du disque. En cas de perte ou de vol, n'importe qui peut lire les dossiers de soins "
        "qu'ils contiennent : c'est une violation de données à déclarer à la CNIL.",
        "Faites activer le chiffrement du disque (BitLocker sous Windows) sur chaque portable, "
        "avec une clé de secours conservée par votre prestataire. Commencez par les postes qui "
        "sortent de l'établissement.",
    ),
    "incident_sheet": W(
        "governance.incident.procedure", M, Severity.LOW,
        "Pas de fiche réflexe en cas de cyberattaque",
        "L'établissement n'a pas de consigne écrite qui dise quoi faire et qui appeler en cas "
        "de cyberattaque (écran de rançon, ordinateurs bloqués, messages étranges). Les "
        "premières heures sont alors perdues, et les mauvais gestes (éteindre, rebrancher, "
        "payer) sont fréquents.",
        "Affichez près des postes une fiche d'une page : débrancher le câble réseau sans "
        "éteindre l'ordinateur, prévenir la direction et le prestataire, appeler le centre "
        "régional de ressources cyber, déclarer l'incident au CERT Santé. Le centre vous "
        "fournit un modèle.",
    ),
}
# fmt: on
del W


@dataclass(frozen=True)
class Seen:
    """One weakness of one structure: on which asset, seen from ``since`` days before the load
    until a scan ``until`` days before the load no longer saw it (``None``: still there).

    ``via`` names the imported report it came from (``IMPORT_LABELS``); ``detail`` adds to
    the catalogue's evidence."""

    weakness: str
    asset: str = ""  # site, mail, webmail, gateway, vpn, range, ad (see findings._asset_roles)
    since: int = EXPOSURE_SCAN_DAYS[0]
    until: int | None = None
    via: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return Source.IMPORT if self.via else CATALOGUE[self.weakness].source


_KRBTGT = "dernier changement du mot de passe"
_ACCOUNTS = "comptes concernés"

PROFILES: dict[str, tuple[Seen, ...]] = {
    # The CHU's mandate covers its web site and its remote-access gateway only.
    "chu-mornevert": (
        Seen("smb", "gateway", until=70),
        Seen("tls10", "site", until=42),
        Seen("cert", "site", since=14),
        Seen("hsts", "site", until=14),
        Seen("dnssec", "site"),
        Seen("krbtgt", "ad", since=77, detail={_KRBTGT: "02/09/2016"}),
        Seen("dont_expire", "ad", since=77, detail={_ACCOUNTS: 14}),
        Seen("spn_priv", "ad", since=77, until=21, detail={"comptes": ["svc_sql_dpi"]}),
        Seen("restore_untested", since=77),
    ),
    "ch-anse-bleue": (
        Seen("rdp", "gateway", until=70),
        Seen("ftp", "gateway", until=56),
        Seen("dicom", "range", since=42),
        Seen("dmarc", "mail", until=14),
        Seen("tls10", "webmail", until=28),
        Seen("krbtgt", "ad", since=77, until=21, detail={_KRBTGT: "11/01/2015"}),
        Seen(
            "dont_expire",
            "ad",
            since=77,
            detail={_ACCOUNTS: 6, "exemples": ["svc_pacs", "svc_labo"]},
        ),
    ),
    "ch-saint-ilet": (
        Seen("rdp", "gateway", until=56),
        Seen("kev", "vpn", since=28, until=14),
        Seen("spf", "mail", until=14),
        Seen("cert", "webmail", since=14),
        Seen("dnssec", "site"),
        Seen("dont_expire", "ad", since=77, until=21, detail={_ACCOUNTS: 9}),
    ),
    # The region's worst: remote desktop open, the exploited VPN flaw, a weak directory.
    "ch-fleuve": (
        Seen("smb", "gateway", until=42),
        Seen("rdp", "gateway", until=3),
        Seen("kev", "vpn", since=14),
        Seen("tls10", "webmail", until=3),
        Seen("dmarc", "mail"),
        Seen("spf", "mail", until=3),
        Seen("spn_priv", "ad", since=77, detail={"comptes": ["svc_backup", "svc_sql"]}),
        Seen("krbtgt", "ad", since=77, detail={_KRBTGT: "23/06/2012"}),
        Seen("dont_expire", "ad", since=77, detail={_ACCOUNTS: 31}),
        Seen("offline_backup"),
        Seen("restore_untested"),
    ),
    "epsm-pointe": (
        Seen("admin_page", "site"),
        Seen("cert_expired", "webmail", until=70),
        Seen("dmarc", "mail", until=28),
        Seen("dnssec", "site"),
        Seen("dont_expire", "ad", since=77, until=21, detail={_ACCOUNTS: 4}),
    ),
    # No validated asset to scan: what is known comes from reports the centre imported.
    "clinique-alizes": (
        Seen("spf", "mail", since=75, via="assureur"),
        Seen("tls10", "webmail", since=75, via="assureur"),
        Seen("webmail_mfa", "webmail", since=75, via="assureur"),
    ),
    "clinique-lagon": (
        Seen("dmarc", "mail", since=60, via="assureur"),
        Seen("kev", "vpn", since=16, via="cert-sante"),
    ),
    # The follow-up visit (FOLLOW_UP_VISITS) found the offline copy in place.
    "ssr-bois-cannelle": (
        Seen("offline_backup", since=77, until=21),
        Seen("restore_untested", since=77),
    ),
    "had-caraibe": (
        Seen("laptops", since=70),
        Seen("restore_untested", since=70),
    ),
    "ehpad-flamboyants": (
        Seen("rdp", "gateway", since=56, until=54),
        Seen("https_missing", "site", until=28),
        Seen("dmarc", "mail", until=28),
        Seen("cert", "webmail", since=21),
        Seen("dnssec", "site"),
    ),
    # Its mandate ended 35 days ago: nothing has been scanned since, nothing was fixed.
    "ehpad-corossol": (
        Seen("tls10", "webmail"),
        Seen("spf", "mail"),
        Seen("rdp", "gateway"),
        Seen("cert_expired", "site"),
    ),
    "ehpad-hibiscus": (
        Seen("ftp", "gateway", until=56),
        Seen("dmarc", "mail"),
        Seen("spf", "mail", until=45),
        Seen("hsts", "site", until=3),
        Seen("dnssec", "site"),
        Seen("offline_backup", since=63),
        Seen("restore_untested", since=63),
    ),
    "ehpad-ti-kaz": (Seen("kev", "gateway", since=16, via="cert-sante"),),
    "ime-colibris": (
        Seen("restore_untested", since=63),
        Seen("incident_sheet", since=63),
    ),
}


# The regional campaign on the flaw several structures share.
CAMPAIGN_TITLE = f"Faille {KEV_CVE} : mettre à jour les VPN Fortinet"
CAMPAIGN_DESCRIPTION = (
    "Plusieurs établissements de la région ont un VPN Fortinet dont la version de FortiOS est "
    f"touchée par la faille {KEV_CVE}, activement exploitée : elle permet de prendre le "
    "contrôle du boîtier depuis internet, sans mot de passe."
)
CAMPAIGN_NOTICE = (
    "Votre boîtier d'accès à distance Fortinet (VPN SSL) utilise une version de FortiOS "
    f"touchée par une faille grave que des attaquants utilisent déjà ({KEV_CVE}). Demandez à "
    "votre prestataire informatique de le mettre à jour cette semaine vers une version "
    "corrigée, ou de désactiver le VPN SSL en attendant. Le centre peut vous aider : "
    "contactez-le si vous avez le moindre doute."
)
