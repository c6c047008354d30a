"""The mail/DNS checks in the spirit of internet.nl's mail and connection tests: DNSSEC of
the MX hosts' zones, DANE (TLSA) on the MX hosts, and IPv6 parity of MX and NS hosts.

Imported by :mod:`.checks` (the registry's module for the "mail" category), so they are
registered whenever the mail checks are.
"""

from __future__ import annotations

from carbet.engines.exposure.checks import define

INTERNET_NL = "internet.nl — test e-mail et connexion"
RFC7672 = "RFC 7672 (DANE pour SMTP)"
RFC6698 = "RFC 6698 (TLSA)"
RFC4035 = "RFC 4035 (DNSSEC)"
RFC3901 = "RFC 3901 (DNS et IPv6)"


MAIL_MX_DNSSEC_MISSING = define(
    id="mail.mx.dnssec.missing",
    category="mail",
    severity=2,
    title_fr="Zone du serveur de messagerie non signée (pas de DNSSEC)",
    title_en="Mail server's zone not signed (no DNSSEC)",
    remediation_fr=(
        "Le nom de votre serveur de messagerie (MX) est dans une zone DNS non signée : un "
        "attaquant qui falsifie les réponses DNS peut détourner le courrier qui vous est destiné, "
        "et DANE (qui protège le chiffrement des courriels) est impossible. Demandez à votre "
        "hébergeur de messagerie d'activer DNSSEC sur cette zone."
    ),
    remediation_en=(
        "Your mail server's (MX) name is in an unsigned DNS zone: forged DNS answers can divert "
        "your incoming mail, and DANE is impossible. Ask your mail provider to sign the zone."
    ),
    references=(INTERNET_NL, RFC4035),
)


MAIL_MX_DNSSEC_BOGUS = define(
    id="mail.mx.dnssec.bogus",
    category="mail",
    severity=3,
    title_fr="DNSSEC en erreur sur la zone du serveur de messagerie",
    title_en="Broken DNSSEC on the mail server's zone",
    remediation_fr=(
        "Les signatures DNSSEC de la zone de votre serveur de messagerie ne se vérifient pas : "
        "les serveurs d'envoi qui valident DNSSEC ne trouvent plus votre MX et le courrier "
        "n'arrive plus. Faites corriger en urgence par le gestionnaire de cette zone."
    ),
    remediation_en=(
        "The DNSSEC signatures of your mail server's zone do not verify: validating senders "
        "cannot find your MX and mail stops arriving. Have the zone fixed urgently."
    ),
    references=(INTERNET_NL, RFC4035),
)


MAIL_DANE_MISSING = define(
    id="mail.dane.missing",
    category="mail",
    severity=1,
    title_fr="Pas de DANE (TLSA) sur le serveur de messagerie",
    title_en="No DANE (TLSA) on the mail server",
    remediation_fr=(
        "Sans enregistrement TLSA (DANE) publié pour votre serveur de messagerie, un attaquant "
        "placé sur le chemin peut empêcher le chiffrement des courriels qui vous sont envoyés "
        "ou présenter un faux certificat. Une fois DNSSEC en place, demandez à votre "
        "prestataire de publier un TLSA « 3 1 1 » sur _25._tcp.<votre MX>."
    ),
    remediation_en=(
        "Without a TLSA (DANE) record for your mail server, an on-path attacker can strip "
        "encryption of mail sent to you. Once DNSSEC is in place, publish a '3 1 1' TLSA record "
        "at _25._tcp.<your MX>."
    ),
    references=(INTERNET_NL, RFC7672, RFC6698),
)


MAIL_DANE_UNVALIDATED = define(
    id="mail.dane.unvalidated",
    category="mail",
    severity=2,
    title_fr="Enregistrement TLSA non protégé par DNSSEC",
    title_en="TLSA record not protected by DNSSEC",
    remediation_fr=(
        "Un enregistrement TLSA est publié pour votre serveur de messagerie, mais sa zone n'est "
        "pas signée (ou la signature ne se vérifie pas) : les serveurs d'envoi l'ignorent, DANE "
        "ne protège donc rien. Faites signer la zone (DNSSEC) ou retirez l'enregistrement."
    ),
    remediation_en=(
        "A TLSA record is published but its zone is not (validly) signed: senders ignore it, so "
        "DANE protects nothing. Sign the zone or remove the record."
    ),
    references=(INTERNET_NL, RFC7672),
)


MAIL_DANE_MISMATCH = define(
    id="mail.dane.mismatch",
    category="mail",
    severity=3,
    title_fr="DANE : le certificat du serveur de messagerie ne correspond pas au TLSA",
    title_en="DANE: the mail server's certificate does not match its TLSA",
    remediation_fr=(
        "Votre serveur de messagerie publie un TLSA (DANE) que son certificat ne respecte pas "
        "(certificat renouvelé sans mettre le TLSA à jour, le plus souvent) : les serveurs "
        "d'envoi qui appliquent DANE refusent de vous remettre le courrier. Mettez à jour le "
        "TLSA avant tout renouvellement de certificat, ou retirez-le."
    ),
    remediation_en=(
        "Your mail server's certificate does not match its published TLSA record (usually a "
        "certificate renewed without updating TLSA): DANE-enforcing senders refuse to deliver. "
        "Update the TLSA record, or remove it."
    ),
    references=(INTERNET_NL, RFC7672, RFC6698),
)


MAIL_MX_IPV6_UNREACHABLE = define(
    id="mail.mx.ipv6_unreachable",
    category="mail",
    severity=2,
    title_fr="Serveur de messagerie annoncé en IPv6 mais injoignable en IPv6",
    title_en="Mail server announced over IPv6 but unreachable over IPv6",
    remediation_fr=(
        "Le DNS annonce une adresse IPv6 (AAAA) pour votre serveur de messagerie, mais il ne "
        "répond pas sur cette adresse : les expéditeurs en IPv6 voient leurs courriels retardés "
        "ou rejetés. Faites ouvrir le port 25 en IPv6, ou retirez l'enregistrement AAAA."
    ),
    remediation_en=(
        "DNS announces an IPv6 (AAAA) address for your mail server but it does not answer "
        "there: IPv6 senders' mail is delayed or lost. Open port 25 over IPv6 or remove the AAAA."
    ),
    references=(INTERNET_NL, "RFC 5321"),
)


MAIL_MX_IPV6_DIFFERS = define(
    id="mail.mx.ipv6_differs",
    category="mail",
    severity=2,
    title_fr="Serveur de messagerie différent en IPv6 et en IPv4",
    title_en="Mail server answers differently over IPv6 and IPv4",
    remediation_fr=(
        "Votre serveur de messagerie ne se comporte pas de la même façon en IPv6 et en IPv4 "
        "(chiffrement STARTTLS absent d'un côté, ou certificat différent) : le courrier reçu "
        "en IPv6 est moins protégé. Alignez la configuration des deux adresses."
    ),
    remediation_en=(
        "Your mail server behaves differently over IPv6 and IPv4 (STARTTLS or certificate): "
        "mail over one of them is less protected. Align both configurations."
    ),
    references=(INTERNET_NL,),
)


DNS_NS_IPV6_UNREACHABLE = define(
    id="dns.ns.ipv6_unreachable",
    category="mail",
    severity=2,
    title_fr="Serveur DNS annoncé en IPv6 mais injoignable en IPv6",
    title_en="Name server announced over IPv6 but unreachable over IPv6",
    remediation_fr=(
        "Un serveur DNS de votre domaine a une adresse IPv6 (AAAA) qui ne répond pas : les "
        "résolutions depuis l'IPv6 ralentissent ou échouent (site et courriel moins "
        "joignables). Demandez à votre hébergeur DNS de corriger ou de retirer cette adresse."
    ),
    remediation_en=(
        "A name server of your domain has an IPv6 (AAAA) address that does not answer: "
        "lookups over IPv6 slow down or fail. Fix or remove that address."
    ),
    references=(INTERNET_NL, RFC3901),
)


DNS_NS_IPV6_DIFFERS = define(
    id="dns.ns.ipv6_differs",
    category="mail",
    severity=2,
    title_fr="Serveur DNS : réponses différentes en IPv6 et en IPv4",
    title_en="Name server answers differently over IPv6 and IPv4",
    remediation_fr=(
        "Un serveur DNS de votre domaine ne donne pas la même version de la zone (numéro de "
        "série SOA) en IPv6 et en IPv4 : selon le chemin, les visiteurs obtiennent des "
        "informations anciennes. Demandez à votre hébergeur DNS de synchroniser ses serveurs."
    ),
    remediation_en=(
        "A name server gives a different zone version (SOA serial) over IPv6 and IPv4: some "
        "visitors get stale data. Have the servers synchronised."
    ),
    references=(INTERNET_NL, RFC3901),
)
