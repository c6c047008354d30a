"""The library side: lures and landing pages, written here or imported, always checked.

A lure is refused when it plays on pay, bonuses or sanctions; a landing page is stored only
after the sanitiser rebuilt it (no password field keeps a name, no form posts elsewhere).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness.models import EmailTemplate, LandingPage
from carbet.core.tenancy import Actor
from carbet.engines.awareness import eml, landing, lures
from carbet.engines.awareness.phishscale import PremiseAlignment, rate


class TemplateError(ValueError):
    """The lure or page cannot be accepted; the message says why, in French."""


def check_lure(*texts: str) -> None:
    themes = lures.forbidden_themes(*texts)
    if themes:
        raise TemplateError(
            _(
                "Ce message joue sur un thème exclu par la charte régionale (%(themes)s) : "
                "pas de leurre sur la paie, les primes ou les sanctions."
            )
            % {"themes": ", ".join(themes)}
        )


def rate_template(template: EmailTemplate) -> str:
    premise = PremiseAlignment(
        template.premise_process,
        template.premise_relevance,
        template.premise_events,
        template.premise_concern,
        template.premise_training,
    )
    return str(rate(template.cues, premise))


def save_template(actor: Actor, template: EmailTemplate, *, ip: str | None = None) -> EmailTemplate:
    check_lure(template.subject, template.text_body, template.html_body)
    if template.html_body:
        template.html_body = landing.sanitize(template.html_body, "#").html
    template.difficulty = rate_template(template)
    created = template.pk is None
    template.save()
    audit.record(
        actor,
        "awareness.template.create" if created else "awareness.template.update",
        template,
        ip=ip,
    )
    return template


def import_eml(actor: Actor, data: bytes, name: str, *, ip: str | None = None) -> EmailTemplate:
    """Turn an uploaded ``.eml`` into a template (links become the simulation's link)."""
    parsed = eml.parse_eml(data)
    if not parsed.ok:
        raise TemplateError(parsed.error)
    text = parsed.text or landing.sanitize(parsed.html, "#").html
    template = EmailTemplate(
        name=name[:150] or parsed.subject[:150] or _("Message importé"),
        subject=parsed.subject[:200] or _("(sans objet)"),
        sender_name=(parsed.sender.split("<")[0].strip().strip('"') or _("Expéditeur"))[:100],
        text_body=text,
        html_body=parsed.html,
        imported=True,
    )
    if EmailTemplate.objects.filter(name=template.name).exists():
        raise TemplateError(_("Un modèle porte déjà ce nom."))
    return save_template(actor, template, ip=ip)


def save_landing_page(
    actor: Actor, name: str, html: str, *, page: LandingPage | None = None, ip: str | None = None
) -> LandingPage:
    check_lure(html)
    clean = landing.sanitize(html, "#")
    page = page or LandingPage(name=name)
    page.name = name
    page.html = clean.html
    page.save()
    audit.record(
        actor,
        "awareness.landing.save",
        page,
        ip=ip,
        changes={"field_names_stripped": clean.stripped_names},
    )
    return page
