"""The mail and DNS checks (category "mail"): ids, titles, severities, plain-French fixes."""

from __future__ import annotations

from .checks import CheckDef, register

RFC7208 = "RFC 7208 (SPF)"
RFC7489 = "RFC 7489 (DMARC)"
ANSSI_MAIL = "ANSSI — Recommandations de sécurité relatives à la messagerie"


def _mail(
    id_: str,
    severity: int,
    title_fr: str,
    title_en: str,
    fix_fr: str,
    fix_en: str,
    *references: str,
) -> CheckDef:
    return CheckDef(id_, "mail", severity, title_fr, title_en, fix_fr, fix_en, references)


register(
    _mail(
        "mail.spf.missing",
        3,
        "Aucun enregistrement SPF",
        "No SPF record",
        "N'importe qui peut envoyer des courriels en se faisant passer pour votre domaine, par "
        "exemple une fausse facture au nom de l'établissement. Demandez à votre prestataire de "
        "publier un enregistrement SPF qui liste vos serveurs d'envoi et se termine par « -all ».",
        "Anyone can send mail pretending to be your domain. Publish an SPF record listing your "
        "sending servers and ending with -all.",
        RFC7208,
        ANSSI_MAIL,
    ),
    _mail(
        "mail.spf.permissive",
        3,
        "SPF trop permissif (+all, ?all ou pas de « all »)",
        "Permissive SPF (+all, ?all or no all)",
        "Votre SPF autorise tout le monde (ou ne dit rien) pour les serveurs qu'il ne liste pas : "
        "il ne protège donc pas contre l'usurpation. Demandez qu'il se termine par « -all » (ou "
        "« ~all » le temps de vérifier).",
        "Your SPF allows (or says nothing about) unlisted servers, so it does not stop spoofing. "
        "End it with -all (or ~all while you check).",
        RFC7208,
    ),
    _mail(
        "mail.spf.too_many_lookups",
        2,
        "SPF : plus de 10 consultations DNS",
        "SPF: more than 10 DNS lookups",
        "Au-delà de 10 consultations DNS (include, a, mx...), les serveurs destinataires "
        "considèrent votre SPF comme en erreur et vos courriels légitimes peuvent être rejetés. "
        "Demandez à votre prestataire d'aplatir ou de simplifier l'enregistrement.",
        "Over 10 DNS lookups, receivers treat your SPF as an error. Flatten or simplify it.",
        RFC7208,
    ),
    _mail(
        "mail.spf.syntax",
        2,
        "SPF mal écrit ou en double",
        "Malformed or duplicate SPF",
        "Une erreur de syntaxe, ou deux enregistrements SPF au lieu d'un, et les serveurs "
        "destinataires ignorent votre SPF. Demandez à votre prestataire de le corriger (un seul "
        "enregistrement commençant par « v=spf1 »).",
        "A syntax error, or two SPF records instead of one, makes receivers ignore your SPF. "
        "Keep a single valid v=spf1 record.",
        RFC7208,
    ),
    _mail(
        "mail.spf.void_lookups",
        1,
        "SPF : plus de 2 consultations sans réponse",
        "SPF: more than 2 void lookups",
        "Votre SPF cite des noms qui n'existent plus : au-delà de deux, les destinataires le "
        "considèrent comme en erreur. Retirez les mentions d'anciens services.",
        "Your SPF names domains that no longer exist; over two, receivers treat it as an error. "
        "Remove the stale entries.",
        RFC7208,
    ),
    _mail(
        "mail.dmarc.missing",
        3,
        "Aucune politique DMARC",
        "No DMARC policy",
        "Sans DMARC, les serveurs destinataires ne savent pas quoi faire d'un courriel qui usurpe "
        "votre domaine, et vous n'en êtes jamais informé. Demandez la publication d'un "
        "enregistrement DMARC, d'abord en observation (p=none avec rua) puis en rejet.",
        "Without DMARC, receivers do not know what to do with mail spoofing your domain. Publish "
        "a DMARC record, first observing then rejecting.",
        RFC7489,
        ANSSI_MAIL,
    ),
    _mail(
        "mail.dmarc.none",
        2,
        "DMARC en simple observation (p=none)",
        "DMARC in monitoring mode only (p=none)",
        "Votre DMARC observe mais ne bloque rien : les courriels usurpant votre domaine sont "
        "toujours distribués. Une fois vos envois légitimes vérifiés dans les rapports, passez à "
        "p=quarantine puis p=reject.",
        "Your DMARC only monitors: spoofed mail is still delivered. Move to quarantine, then "
        "reject.",
        RFC7489,
    ),
    _mail(
        "mail.dmarc.invalid",
        2,
        "DMARC mal écrit",
        "Malformed DMARC record",
        "Votre enregistrement DMARC contient une erreur et peut être ignoré par les "
        "destinataires. Demandez à votre prestataire de le corriger.",
        "Your DMARC record has an error and may be ignored. Fix it.",
        RFC7489,
    ),
    _mail(
        "mail.dmarc.pct",
        1,
        "DMARC appliqué à une partie des courriels seulement (pct<100)",
        "DMARC applied to a share of mail only (pct<100)",
        "Votre politique DMARC ne s'applique qu'à une partie des courriels. Une fois la "
        "transition terminée, retirez pct ou mettez-le à 100.",
        "Your DMARC policy applies to a share of mail only. Remove pct or set it to 100.",
        RFC7489,
    ),
    _mail(
        "mail.dmarc.sp_none",
        1,
        "DMARC : sous-domaines non protégés (sp=none)",
        "DMARC: subdomains unprotected (sp=none)",
        "Vos sous-domaines peuvent être usurpés même si le domaine principal est protégé. "
        "Retirez sp=none ou mettez sp=reject.",
        "Your subdomains can still be spoofed. Remove sp=none or set sp=reject.",
        RFC7489,
    ),
    _mail(
        "mail.dmarc.rua_unauthorised",
        1,
        "DMARC : adresse de rapports externe non autorisée",
        "DMARC: external report address not authorised",
        "Les rapports DMARC sont envoyés à un domaine extérieur qui n'a pas publié son "
        "autorisation : ils sont perdus et vous ne voyez pas les usurpations. Demandez au "
        "destinataire des rapports de publier l'enregistrement d'autorisation, ou changez "
        "d'adresse.",
        "Reports go to an external domain that has not authorised them, so they are dropped. "
        "Ask it to publish the _report._dmarc record.",
        "RFC 7489 §7.1",
    ),
    _mail(
        "mail.dkim.missing",
        2,
        "Aucune signature DKIM trouvée",
        "No DKIM found",
        "Sans signature DKIM, vos courriels sont plus souvent classés comme indésirables et "
        "DMARC ne peut s'appuyer que sur SPF. Demandez à votre messagerie (ou prestataire) "
        "d'activer la signature DKIM.",
        "Without DKIM your mail is more often junked and DMARC relies on SPF alone. Turn DKIM "
        "signing on.",
        "RFC 6376 (DKIM)",
    ),
    _mail(
        "mail.mtasts.missing",
        1,
        "Pas de MTA-STS",
        "No MTA-STS",
        "Sans MTA-STS, un attaquant placé sur le réseau peut forcer la réception de vos courriels "
        "sans chiffrement. Demandez la publication d'une politique MTA-STS en mode « enforce ».",
        "Without MTA-STS, an attacker on the path can downgrade mail delivery to plain text. "
        "Publish an enforcing MTA-STS policy.",
        "RFC 8461 (MTA-STS)",
    ),
    _mail(
        "mail.mtasts.invalid",
        2,
        "MTA-STS annoncé mais politique illisible",
        "MTA-STS announced but its policy is unreadable",
        "Le domaine annonce MTA-STS mais la politique n'est pas lisible en HTTPS (certificat, "
        "contenu ou serveur en défaut) : la protection ne fonctionne pas. Faites vérifier le "
        "site mta-sts de votre domaine.",
        "MTA-STS is announced but the policy cannot be fetched over HTTPS; it does not protect.",
        "RFC 8461 (MTA-STS)",
    ),
    _mail(
        "mail.mtasts.testing",
        1,
        "MTA-STS en mode test",
        "MTA-STS in testing mode",
        "La politique MTA-STS est en mode test : elle ne protège pas encore. Passez-la en "
        "« enforce » une fois les rapports TLS vérifiés.",
        "The MTA-STS policy is in testing mode and does not protect yet.",
        "RFC 8461 (MTA-STS)",
    ),
    _mail(
        "mail.mtasts.mx_not_covered",
        2,
        "MTA-STS : un serveur de messagerie n'est pas couvert",
        "MTA-STS: a mail server is not covered",
        "Un de vos serveurs de messagerie (MX) n'est pas listé dans la politique MTA-STS : les "
        "expéditeurs qui l'appliquent refuseront de lui livrer. Mettez la politique à jour.",
        "An MX is not listed in the MTA-STS policy; enforcing senders will refuse to deliver.",
        "RFC 8461 (MTA-STS)",
    ),
    _mail(
        "mail.tlsrpt.missing",
        0,
        "Pas de rapports TLS (TLS-RPT)",
        "No TLS reporting (TLS-RPT)",
        "Sans TLS-RPT, vous n'êtes pas prévenu quand des courriels ne peuvent pas vous être livrés "
        "de façon chiffrée. Publiez un enregistrement _smtp._tls avec une adresse de rapports.",
        "Without TLS-RPT you are not told when mail cannot reach you encrypted.",
        "RFC 8460 (TLS-RPT)",
    ),
    _mail(
        "mail.starttls.missing",
        3,
        "Serveur de messagerie sans chiffrement (pas de STARTTLS)",
        "Mail server without encryption (no STARTTLS)",
        "Les courriels reçus par ce serveur circulent en clair sur internet et peuvent être lus "
        "en route, y compris des données de santé. Demandez à votre prestataire d'activer "
        "STARTTLS avec un certificat valide.",
        "Mail to this server travels in clear text. Turn STARTTLS on with a valid certificate.",
        "RFC 3207",
        ANSSI_MAIL,
    ),
    _mail(
        "mail.starttls.cert_invalid",
        2,
        "Certificat du serveur de messagerie non valide",
        "Mail server certificate not valid",
        "Le chiffrement est proposé mais le certificat n'est pas reconnu (expiré, auto-signé ou au "
        "mauvais nom) : les expéditeurs exigeants refusent de livrer et les autres ne sont pas "
        "protégés contre l'interception. Faites installer un certificat valide.",
        "STARTTLS is offered but the certificate does not verify (expired, self-signed or wrong "
        "name). Install a valid certificate.",
        "RFC 8461 (MTA-STS)",
    ),
    _mail(
        "mail.mx.unreachable",
        1,
        "Serveur de messagerie injoignable",
        "Mail server unreachable",
        "Un serveur de messagerie annoncé ne répond pas : des courriels peuvent être retardés ou "
        "perdus, et sa sécurité n'a pas pu être vérifiée. Vérifiez la liste de vos MX.",
        "An announced mail server does not answer; its security could not be checked.",
        "RFC 5321",
    ),
    _mail(
        "dns.dnssec.missing",
        2,
        "Domaine non signé (pas de DNSSEC)",
        "Domain not signed (no DNSSEC)",
        "Sans DNSSEC, les réponses DNS de votre domaine peuvent être falsifiées pour détourner "
        "vos visiteurs ou vos courriels. Demandez à votre registrar ou hébergeur DNS d'activer "
        "DNSSEC.",
        "Without DNSSEC, your DNS answers can be forged to divert visitors or mail. Ask your "
        "DNS host to sign the zone.",
        "RFC 4033 (DNSSEC)",
    ),
    _mail(
        "dns.dnssec.incomplete",
        2,
        "DNSSEC incomplet (zone signée, pas de DS chez le parent)",
        "Incomplete DNSSEC (signed zone without a DS at the parent)",
        "La zone est signée mais l'enregistrement DS n'a pas été publié chez le registrar : la "
        "signature n'est vérifiée par personne. Demandez la publication du DS.",
        "The zone is signed but no DS is published at the parent, so nobody validates it.",
        "RFC 4035",
    ),
    _mail(
        "dns.dnssec.bogus",
        3,
        "DNSSEC en erreur (signatures invalides)",
        "Broken DNSSEC (invalid signatures)",
        "Les signatures DNSSEC de la zone ne se vérifient pas : les résolveurs qui valident ne "
        "trouvent plus votre domaine (site et courriel injoignables). Faites corriger en urgence.",
        "The zone's DNSSEC signatures do not verify: validating resolvers cannot reach you.",
        "RFC 4035",
    ),
    _mail(
        "dns.caa.missing",
        0,
        "Pas d'enregistrement CAA",
        "No CAA record",
        "Un enregistrement CAA indique quelles autorités peuvent délivrer des certificats pour "
        "votre domaine ; sans lui, n'importe laquelle le peut. Publiez-en un qui nomme votre "
        "fournisseur de certificats.",
        "A CAA record says which authorities may issue certificates for you. Publish one.",
        "RFC 8659 (CAA)",
    ),
    _mail(
        "dns.cname.dangling",
        3,
        "Alias DNS orphelin (risque de prise de contrôle)",
        "Dangling DNS alias (takeover risk)",
        "Un nom de votre domaine pointe vers un service qui n'existe plus : quelqu'un pourrait le "
        "réserver et publier un faux site à votre nom. Supprimez l'alias ou recréez le service.",
        "A name points to a service that no longer exists; someone could claim it and publish "
        "a fake site under your name. Remove the alias.",
        "OWASP subdomain takeover",
    ),
)
