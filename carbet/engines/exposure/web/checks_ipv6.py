"""IPv6 parity of a web host (internet.nl's "website reachable over IPv6, same content").

Imported by :mod:`.checks`, so they are registered with the web checks.
"""

from __future__ import annotations

from carbet.engines.exposure.checks import define

INTERNET_NL = "internet.nl — test site web (IPv6)"


WEB_IPV6_UNREACHABLE = define(
    id="web.ipv6.unreachable",
    category="web",
    severity=2,
    title_fr="Site annoncé en IPv6 mais injoignable en IPv6",
    title_en="Website announced over IPv6 but unreachable over IPv6",
    remediation_fr=(
        "Le DNS annonce une adresse IPv6 (AAAA) pour votre site, mais le site ne répond pas "
        "sur cette adresse : les visiteurs en IPv6 (de plus en plus nombreux, notamment sur "
        "mobile) attendent puis échouent. Faites ouvrir le site en IPv6, ou retirez "
        "l'enregistrement AAAA."
    ),
    remediation_en=(
        "DNS announces an IPv6 (AAAA) address for your website but it does not answer there: "
        "IPv6 visitors wait and fail. Serve the site over IPv6 or remove the AAAA record."
    ),
    references=(INTERNET_NL, "RFC 8200"),
)


WEB_IPV6_DIFFERS = define(
    id="web.ipv6.differs",
    category="web",
    severity=2,
    title_fr="Site différent en IPv6 et en IPv4",
    title_en="Website answers differently over IPv6 and IPv4",
    remediation_fr=(
        "Votre site ne répond pas de la même façon en IPv6 et en IPv4 (autre réponse, autre "
        "redirection ou autre certificat) : souvent un ancien serveur oublié derrière "
        "l'adresse IPv6, non mis à jour. Faites pointer les deux adresses vers le même "
        "serveur, ou alignez leur configuration."
    ),
    remediation_en=(
        "Your website answers differently over IPv6 and IPv4 (status, redirect or "
        "certificate), often a forgotten old server behind the IPv6 address. Align them."
    ),
    references=(INTERNET_NL,),
)
