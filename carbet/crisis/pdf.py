"""The crisis service's PDF files.

* the **crisis kit** of a structure (WeasyPrint, a few pages): printed *before* any crisis, kept
  with the plan blanc; rebuilt whenever what it prints changes (the structure's contacts, the
  centre's number, the templates' reflexes): the cache key is a digest of that content, so an
  edited contact gives a new kit at the next download, without any signal to wire;
* the **case report** (WeasyPrint): phases, declarations, decisions, tasks, board, evidence,
  lessons;
* the **full main courante** (``pdf_text``): tens of thousands of entries in seconds.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from carbet.core.models import Contact, Structure
from carbet.crisis import selectors_pages as sel
from carbet.crisis.models import CrisisCase, Decision, Evidence, Indicator, Lesson, LogEntry

KIT_VERSION = "1"
KIT_CACHE_SECONDS = 7 * 24 * 3600


# ---- the crisis kit -----------------------------------------------------------------------


def _contacts(structure: Structure) -> list[Contact]:
    return list(Contact.objects.filter(structure=structure).order_by("role", "name"))


def kit_digest(structure: Structure) -> str:
    """What the kit prints, as a digest: any change of a contact changes it."""
    from carbet.crisis import library

    line = sel.hotline()
    content = {
        "version": KIT_VERSION,
        "lang": get_language(),
        "structure": [structure.name, structure.address, structure.postal_code, structure.city],
        "contacts": [
            [c.role, c.name, c.email, c.phone, c.organisation_name] for c in _contacts(structure)
        ],
        "hotline": [line.phone, line.email, line.hours],
        "templates": sorted(f"{t.code}:{t.version}" for t in library.all_templates().values()),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def kit_html(structure: Structure, *, site_url: str = "") -> str:
    from carbet.crisis import library

    reflexes = []
    for template in library.all_templates().values():
        items = [item for checklist in template.checklists for item in checklist.items][:8]
        reflexes.append({"title": template.title, "summary": template.summary, "items": items})
    return render_to_string(
        "crisis/kit_pdf.html",
        {
            "structure": structure,
            "contacts": _contacts(structure),
            "hotline": sel.hotline(),
            "reflexes": reflexes,
            "site_url": site_url,
            "generated": timezone.now(),
            "blank_rows": range(18),
            "board_rows": range(14),
        },
    )


def crisis_kit(structure: Structure, *, site_url: str = "") -> bytes:
    """The kit as a PDF, from the cache while its content is unchanged."""
    from carbet.core.pdf import html_to_pdf

    site = hashlib.sha256(site_url.encode()).hexdigest()[:12]
    key = f"crisis-kit:{structure.pk}:{kit_digest(structure)}:{site}"
    data = cache.get(key)
    if data is None:
        data = html_to_pdf(kit_html(structure, site_url=site_url))
        cache.set(key, data, KIT_CACHE_SECONDS)
    return data


# ---- the case report ----------------------------------------------------------------------


def case_report_html(case: CrisisCase) -> str:
    last = list(LogEntry.objects.filter(case=case).order_by("-sequence")[:40])
    last.reverse()
    return render_to_string(
        "crisis/case_pdf.html",
        {
            "case": case,
            "spans": sel.phase_spans(case),
            "clock": sel.clock_rows(case),
            "decisions": Decision.objects.filter(case=case).order_by("decided_at")[:200],
            "groups": sel.tasks_by_workstream(case),
            "board": sel.board_summary(case),
            "evidence": Evidence.objects.filter(case=case).order_by("added_at")[:200],
            "indicator_count": Indicator.objects.filter(case=case).count(),
            "lessons": Lesson.objects.filter(case=case).order_by("kind", "pk"),
            "entries": list(sel.with_corrections(case, last)),
            "entry_total": LogEntry.objects.filter(case=case).count(),
            "chain": _verify(case),
            "generated": timezone.now(),
        },
    )


def case_report_pdf(case: CrisisCase) -> bytes:
    from carbet.core.pdf import html_to_pdf

    return html_to_pdf(case_report_html(case))


def _verify(case: CrisisCase) -> Any:
    from carbet.crisis import services_log

    return services_log.verify_log(case)


# ---- the full main courante -----------------------------------------------------------------


def _stamp(value: Any) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


def log_pdf(case: CrisisCase, filters: sel.LogFilters | None = None) -> bytes:
    """Every entry (or those the filters keep), in order, corrections shown as such."""
    from carbet.crisis.choices import EntryKind
    from carbet.crisis.pdf_text import TextPdf

    kinds = dict(EntryKind.choices)
    title = _("Main courante %(ref)s") % {"ref": case.reference}
    doc = TextPdf(
        title,
        lang=(get_language() or "fr")[:2],
        footer=f"Carbet · {case.structure.name} · {case.reference}",
    )
    doc.heading(f"{title} — {case.title}")
    chain = _verify(case)
    doc.paragraph(
        _("%(structure)s · édition du %(now)s · %(state)s")
        % {
            "structure": case.structure.name,
            "now": _stamp(timezone.now()),
            "state": _("chaîne vérifiée (%(n)d entrées scellées)") % {"n": chain.checked}
            if chain.ok
            else _("CHAÎNE ROMPUE : la main courante a été altérée hors de Carbet"),
        },
        size=9,
    )
    if filters is not None and filters.active:
        doc.paragraph(_("Extrait filtré de la main courante."), size=9)
    entries = sel.log_entries(case, filters).iterator(chunk_size=2000)
    for entry in sel.with_corrections(case, entries):
        head = " · ".join(
            part
            for part in (
                f"n° {entry.sequence}",
                str(kinds.get(entry.kind, entry.kind)),
                _("événement %(t)s") % {"t": _stamp(entry.event_at)},
                _("noté %(t)s") % {"t": _stamp(entry.recorded_at)},
                entry.author_label,
                _("source : %(s)s") % {"s": entry.source} if entry.source else "",
                _("vérifié") if entry.verified else _("non vérifié"),
                _("corrige le n° %(n)s") % {"n": entry.corrects} if entry.corrects else "",
                _("CORRIGÉE par le n° %(n)s") % {"n": entry.corrected_by}
                if entry.corrected_by
                else "",
            )
            if part
        )
        doc.paragraph(f"{head}\n{entry.text}", strike_from=1 if entry.corrected_by else -1)
    return doc.render()
