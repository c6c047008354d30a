"""The mail and DNS checks (category "mail"): ids, titles, severities, plain-French fixes."""

from __future__ import annotations

from carbet.engines.exposure.checks import define

RFC7208 = "RFC 7208 (SPF)"
RFC7489 = "RFC 7489 (DMARC)"
ANSSI_MAIL = "ANSSI — Recommandations de sécurité relatives à la messagerie"


MAIL_SPF_MISSING = define(
    id="mail.spf.missing",
    category="mail",
    severity=3,
    title_fr="Aucun enregistrement SPF",
    title_en="No SPF record",
    remediation_fr=(
        "N'importe qui peut envoyer des courriels en se faisant passer pour votre domaine, par "
        "exemple une fausse facture au nom de l'établissement. Demandez à votre prestataire de "
        "publier un enregistrement SPF qui liste vos serveurs d'envoi et se termine par « -all »."
    ),
    remediation_en=(
        "Anyone can send mail pretending to be your domain. Publish an SPF record listing your "
        "sending servers and ending with -all."
    ),
    references=(RFC7208, ANSSI_MAIL),
)


MAIL_SPF_PERMISSIVE = define(
    id="mail.spf.permissive",
    category="mail",
    severity=3,
    title_fr="SPF trop permissif (+all, ?all ou pas de « all »)",
    title_en="Permissive SPF (+all, ?all or no all)",
    remediation_fr=(
        "Votre SPF autorise tout le monde (ou ne dit rien) pour les serveurs qu'il ne liste pas : "
        "il ne protège donc pas contre l'usurpation. Demandez qu'il se termine par « -all » (ou "
        "« ~all » le temps de vérifier)."
    ),
    remediation_en=(
        "Your SPF allows (or says nothing about) unlisted servers, so it does not stop spoofing. "
        "End it with -all (or ~all while you check)."
    ),
    references=(RFC7208,),
)


MAIL_SPF_TOO_MANY_LOOKUPS = define(
    id="mail.spf.too_many_lookups",
    category="mail",
    severity=2,
    title_fr="SPF : plus de 10 consultations DNS",
    title_en="SPF: more than 10 DNS lookups",
    remediation_fr=(
        "Au-delà de 10 consultations DNS (include, a, mx...), les serveurs destinataires "
        "considèrent votre SPF comme en erreur et vos courriels légitimes peuvent être rejetés. "
        "Demandez à votre prestataire d'aplatir ou de simplifier l'enregistrement."
    ),
    remediation_en=(
        "Over 10 DNS lookups, receivers treat your SPF as an error. Flatten or simplify it."
    ),
    references=(RFC7208,),
)


MAIL_SPF_SYNTAX = define(
    id="mail.spf.syntax",
    category="mail",
    severity=2,
    title_fr="SPF mal écrit ou en double",
    title_en="Malformed or duplicate SPF",
    remediation_fr=(
        "Une erreur de syntaxe, ou deux enregistrements SPF au lieu d'un, et les serveurs "
        "destinataires ignorent votre SPF. Demandez à votre prestataire de le corriger (un seul "
        "enregistrement commençant par « v=spf1 »)."
    ),
    remediation_en=(
        "A syntax error, or two SPF records instead of one, makes receivers ignore your SPF. "
        "Keep a single valid v=spf1 record."
    ),
    references=(RFC7208,),
)


MAIL_SPF_VOID_LOOKUPS = define(
    id="mail.spf.void_lookups",
    category="mail",
    severity=1,
    title_fr="SPF : plus de 2 consultations sans réponse",
    title_en="SPF: more than 2 void lookups",
    remediation_fr=(
        "Votre SPF cite des noms qui n'existent plus : au-delà de deux, les destinataires le "
        "considèrent comme en erreur. Retirez les mentions d'anciens services."
    ),
    remediation_en=(
        "Your SPF names domains that no longer exist; over two, receivers treat it as an error. "
        "Remove the stale entries."
    ),
    references=(RFC7208,),
)


MAIL_DMARC_MISSING = define(
    id="mail.dmarc.missing",
    category="mail",
    severity=3,
    title_fr="Aucune politique DMARC",
    title_en="No DMARC policy",
    remediation_fr=(
        "Sans DMARC, les serveurs destinataires ne savent pas quoi faire d'un courriel qui usurpe "
        "votre domaine, et vous n'en êtes jamais informé. Demandez la publication d'un "
        "enregistrement DMARC, d'abord en observation (p=none avec rua) puis en rejet."
    ),
    remediation_en=(
        "Without DMARC, receivers do not know what to do with mail spoofing your domain. Publish "
        "a DMARC record, first observing then rejecting."
    ),
    references=(RFC7489, ANSSI_MAIL),
)


MAIL_DMARC_NONE = define(
    id="mail.dmarc.none",
    category="mail",
    severity=2,
    title_fr="DMARC en simple observation (p=none)",
    title_en="DMARC in monitoring mode only (p=none)",
    remediation_fr=(
        "Votre DMARC observe mais ne bloque rien : les courriels usurpant votre domaine sont "
        "toujours distribués. Une fois vos envois légitimes vérifiés dans les rapports, passez à "
        "p=quarantine puis p=reject."
    ),
    remediation_en=(
        "Your DMARC only monitors: spoofed mail is still delivered. Move to quarantine, then "
        "reject."
    ),
    references=(RFC7489,),
)


MAIL_DMARC_INVALID = define(
    id="mail.dmarc.invalid",
    category="mail",
    severity=2,
    title_fr="DMARC mal écrit",
    title_en="Malformed DMARC record",
    remediation_fr=(
        "Votre enregistrement DMARC contient une erreur et peut être ignoré par les "
        "destinataires. Demandez à votre prestataire de le corriger."
    ),
    remediation_en="Your DMARC record has an error and may be ignored. Fix it.",
    references=(RFC7489,),
)


MAIL_DMARC_PCT = define(
    id="mail.dmarc.pct",
    category="mail",
    severity=1,
    title_fr="DMARC appliqué à une partie des courriels seulement (pct<100)",
    title_en="DMARC applied to a share of mail only (pct<100)",
    remediation_fr=(
        "Votre politique DMARC ne s'applique qu'à une partie des courriels. Une fois la "
        "transition terminée, retirez pct ou mettez-le à 100."
    ),
    remediation_en=(
        "Your DMARC policy applies to a share of mail only. Remove pct or set it to 100."
    ),
    references=(RFC7489,),
)


MAIL_DMARC_SP_NONE = define(
    id="mail.dmarc.sp_none",
    category="mail",
    severity=1,
    title_fr="DMARC : sous-domaines non protégés (sp=none)",
    title_en="DMARC: subdomains unprotected (sp=none)",
    remediation_fr=(
        "Vos sous-domaines peuvent être usurpés même si le domaine principal est protégé. "
        "Retirez sp=none ou mettez sp=reject."
    ),
    remediation_en="Your subdomains can still be spoofed. Remove sp=none or set sp=reject.",
    references=(RFC7489,),
)


MAIL_DMARC_RUA_UNAUTHORISED = define(
    id="mail.dmarc.rua_unauthorised",
    category="mail",
    severity=1,
    title_fr="DMARC : adresse de rapports externe non autorisée",
    title_en="DMARC: external report address not authorised",
    remediation_fr=(
        "Les rapports DMARC sont envoyés à un domaine extérieur qui n'a pas publié son "
        "autorisation : ils sont perdus et vous ne voyez pas les usurpations. Demandez au "
        "destinataire des rapports de publier l'enregistrement d'autorisation, ou changez "
        "d'adresse."
    ),
    remediation_en=(
        "Reports go to an external domain that has not authorised them, so they are dropped. "
        "Ask it to publish the _report._dmarc record."
    ),
    references=("RFC 7489 §7.1",),
)


MAIL_DKIM_MISSING = define(
    id="mail.dkim.missing",
    category="mail",
    severity=2,
    title_fr="Aucune signature DKIM trouvée",
    title_en="No DKIM found",
    remediation_fr=(
        "Sans signature DKIM, vos courriels sont plus souvent classés comme indésirables et "
        "DMARC ne peut s'appuyer que sur SPF. Demandez à votre messagerie (ou prestataire) "
        "d'activer la signature DKIM."
    ),
    remediation_en=(
        "Without DKIM your mail is more often junked and DMARC relies on SPF alone. Turn DKIM "
        "signing on."
    ),
    references=("RFC 6376 (DKIM)",),
)


MAIL_MTASTS_MISSING = define(
    id="mail.mtasts.missing",
    category="mail",
    severity=1,
    title_fr="Pas de MTA-STS",
    title_en="No MTA-STS",
    remediation_fr=(
        "Sans MTA-STS, un attaquant placé sur le réseau peut forcer la réception de vos courriels "
        "sans chiffrement. Demandez la publication d'une politique MTA-STS en mode « enforce »."
    ),
    remediation_en=(
        "Without MTA-STS, an attacker on the path can downgrade mail delivery to plain text. "
        "Publish an enforcing MTA-STS policy."
    ),
    references=("RFC 8461 (MTA-STS)",),
)


MAIL_MTASTS_INVALID = define(
    id="mail.mtasts.invalid",
    category="mail",
    severity=2,
    title_fr="MTA-STS annoncé mais politique illisible",
    title_en="MTA-STS announced but its policy is unreadable",
    remediation_fr=(
        "Le domaine annonce MTA-STS mais la politique n'est pas lisible en HTTPS (certificat, "
        "contenu ou serveur en défaut) : la protection ne fonctionne pas. Faites vérifier le "
        "site mta-sts de votre domaine."
    ),
    remediation_en=(
        "MTA-STS is announced but the policy cannot be fetched over HTTPS; it does not protect."
    ),
    references=("RFC 8461 (MTA-STS)",),
)


MAIL_MTASTS_TESTING = define(
    id="mail.mtasts.testing",
    category="mail",
    severity=1,
    title_fr="MTA-STS en mode test",
    title_en="MTA-STS in testing mode",
    remediation_fr=(
        "La politique MTA-STS est en mode test : elle ne protège pas encore. Passez-la en "
        "« enforce » une fois les rapports TLS vérifiés."
    ),
    remediation_en="The MTA-STS policy is in testing mode and does not protect yet.",
    references=("RFC 8461 (MTA-STS)",),
)


MAIL_MTASTS_MX_NOT_COVERED = define(
    id="mail.mtasts.mx_not_covered",
    category="mail",
    severity=2,
    title_fr="MTA-STS : un serveur de messagerie n'est pas couvert",
    title_en="MTA-STS: a mail server is not covered",
    remediation_fr=(
        "Un de vos serveurs de messagerie (MX) n'est pas listé dans la politique MTA-STS : les "
        "expéditeurs qui l'appliquent refuseront de lui livrer. Mettez la politique à jour."
    ),
    remediation_en=(
        "An MX is not listed in the MTA-STS policy; enforcing senders will refuse to deliver."
    ),
    references=("RFC 8461 (MTA-STS)",),
)


MAIL_TLSRPT_MISSING = define(
    id="mail.tlsrpt.missing",
    category="mail",
    severity=0,
    title_fr="Pas de rapports TLS (TLS-RPT)",
    title_en="No TLS reporting (TLS-RPT)",
    remediation_fr=(
        "Sans TLS-RPT, vous n'êtes pas prévenu quand des courriels ne peuvent pas vous être livrés "
        "de façon chiffrée. Publiez un enregistrement _smtp._tls avec une adresse de rapports."
    ),
    remediation_en="Without TLS-RPT you are not told when mail cannot reach you encrypted.",
    references=("RFC 8460 (TLS-RPT)",),
)


MAIL_STARTTLS_MISSING = define(
    id="mail.starttls.missing",
    category="mail",
    severity=3,
    title_fr="Serveur de messagerie sans chiffrement (pas de STARTTLS)",
    title_en="Mail server without encryption (no STARTTLS)",
    remediation_fr=(
        "Les courriels reçus par ce serveur circulent en clair sur internet et peuvent être lus "
        "en route, y compris des données de santé. Demandez à votre prestataire d'activer "
        "STARTTLS avec un certificat valide."
    ),
    remediation_en=(
        "Mail to this server travels in clear text. Turn STARTTLS on with a valid certificate."
    ),
    references=("RFC 3207", ANSSI_MAIL),
)


MAIL_STARTTLS_CERT_INVALID = define(
    id="mail.starttls.cert_invalid",
    category="mail",
    severity=2,
    title_fr="Certificat du serveur de messagerie non valide",
    title_en="Mail server certificate not valid",
    remediation_fr=(
        "Le chiffrement est proposé mais le certificat n'est pas reconnu (expiré, auto-signé ou au "
        "mauvais nom) : les expéditeurs exigeants refusent de livrer et les autres ne sont pas "
        "protégés contre l'interception. Faites installer un certificat valide."
    ),
    remediation_en=(
        "STARTTLS is offered but the certificate does not verify (expired, self-signed or wrong "
        "name). Install a valid certificate."
    ),
    references=("RFC 8461 (MTA-STS)",),
)


MAIL_MX_UNREACHABLE = define(
    id="mail.mx.unreachable",
    category="mail",
    severity=1,
    title_fr="Serveur de messagerie injoignable",
    title_en="Mail server unreachable",
    remediation_fr=(
        "Un serveur de messagerie annoncé ne répond pas : des courriels peuvent être retardés ou "
        "perdus, et sa sécurité n'a pas pu être vérifiée. Vérifiez la liste de vos MX."
    ),
    remediation_en="An announced mail server does not answer; its security could not be checked.",
    references=("RFC 5321",),
)


DNS_DNSSEC_MISSING = define(
    id="dns.dnssec.missing",
    category="mail",
    severity=2,
    title_fr="Domaine non signé (pas de DNSSEC)",
    title_en="Domain not signed (no DNSSEC)",
    remediation_fr=(
        "Sans DNSSEC, les réponses DNS de votre domaine peuvent être falsifiées pour détourner "
        "vos visiteurs ou vos courriels. Demandez à votre registrar ou hébergeur DNS d'activer "
        "DNSSEC."
    ),
    remediation_en=(
        "Without DNSSEC, your DNS answers can be forged to divert visitors or mail. Ask your "
        "DNS host to sign the zone."
    ),
    references=("RFC 4033 (DNSSEC)",),
)


DNS_DNSSEC_INCOMPLETE = define(
    id="dns.dnssec.incomplete",
    category="mail",
    severity=2,
    title_fr="DNSSEC incomplet (zone signée, pas de DS chez le parent)",
    title_en="Incomplete DNSSEC (signed zone without a DS at the parent)",
    remediation_fr=(
        "La zone est signée mais l'enregistrement DS n'a pas été publié chez le registrar : la "
        "signature n'est vérifiée par personne. Demandez la publication du DS."
    ),
    remediation_en=(
        "The zone is signed but no DS is published at the parent, so nobody validates it."
    ),
    references=("RFC 4035",),
)


DNS_DNSSEC_BOGUS = define(
    id="dns.dnssec.bogus",
    category="mail",
    severity=3,
    title_fr="DNSSEC en erreur (signatures invalides)",
    title_en="Broken DNSSEC (invalid signatures)",
    remediation_fr=(
        "Les signatures DNSSEC de la zone ne se vérifient pas : les résolveurs qui valident ne "
        "trouvent plus votre domaine (site et courriel injoignables). Faites corriger en urgence."
    ),
    remediation_en=(
        "The zone's DNSSEC signatures do not verify: validating resolvers cannot reach you."
    ),
    references=("RFC 4035",),
)


DNS_CAA_MISSING = define(
    id="dns.caa.missing",
    category="mail",
    severity=0,
    title_fr="Pas d'enregistrement CAA",
    title_en="No CAA record",
    remediation_fr=(
        "Un enregistrement CAA indique quelles autorités peuvent délivrer des certificats pour "
        "votre domaine ; sans lui, n'importe laquelle le peut. Publiez-en un qui nomme votre "
        "fournisseur de certificats."
    ),
    remediation_en=(
        "A CAA record says which authorities may issue certificates for you. Publish one."
    ),
    references=("RFC 8659 (CAA)",),
)


DNS_CNAME_DANGLING = define(
    id="dns.cname.dangling",
    category="mail",
    severity=3,
    title_fr="Alias DNS orphelin (risque de prise de contrôle)",
    title_en="Dangling DNS alias (takeover risk)",
    remediation_fr=(
        "Un nom de votre domaine pointe vers un service qui n'existe plus : quelqu'un pourrait le "
        "réserver et publier un faux site à votre nom. Supprimez l'alias ou recréez le service."
    ),
    remediation_en=(
        "A name points to a service that no longer exists; someone could claim it and publish "
        "a fake site under your name. Remove the alias."
    ),
    references=("OWASP subdomain takeover",),
)


# DNSSEC of MX zones, DANE and IPv6 parity: declared next door (this module's size), and
# registered with the mail checks through this import.
from carbet.engines.exposure.mail import checks_transport as _transport  # noqa: E402, F401
