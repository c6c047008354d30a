"""Centre pages of the awareness service: the library (lures, landing pages, training), the
sending profiles, the reporting mailboxes and the bot-click rules. Centre staff only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.awareness import imap_reporting, sending, services_templates
from carbet.awareness.forms import (
    EmlImportForm,
    LandingPageForm,
    MailboxForm,
    SettingsForm,
    SmtpProfileForm,
    TemplateForm,
    TestSendForm,
)
from carbet.awareness.models import (
    AwarenessSettings,
    EmailTemplate,
    LandingPage,
    ReportingMailbox,
    SmtpProfile,
    TrainingModule,
)
from carbet.awareness.service import AwarenessPerm
from carbet.core import access, uploads
from carbet.core.forms import apply_errors


@login_required
def library(request):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    return render(
        request,
        "awareness/library.html",
        {
            "templates": EmailTemplate.objects.select_related("landing_page"),
            "pages": LandingPage.objects.all(),
            "modules": TrainingModule.objects.all(),
        },
    )


@login_required
def template_edit(request, pk: int | None = None):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    template = get_object_or_404(EmailTemplate, pk=pk) if pk else EmailTemplate()
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services_templates.save_template(request.user, form.instance, ip=client_ip(request))
        except services_templates.TemplateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Modèle enregistré."))
            return redirect("awareness:library")
    return render(
        request,
        "awareness/form.html",
        {"form": form, "title": _("Modèle de message"), "object": template},
    )


@login_required
def template_import(request):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    form = EmlImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            loaded = uploads.load(
                form.cleaned_data["file"], {uploads.Kind.EML}, max_bytes=5 * 1024 * 1024
            )
            template = services_templates.import_eml(
                request.user, loaded.data, form.cleaned_data["name"], ip=client_ip(request)
            )
        except ValidationError as exc:  # too big, or not a text message
            apply_errors(form, exc)
        except services_templates.TemplateError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("Message importé : relisez-le et notez sa difficulté."))
            return redirect("awareness:template_edit", pk=template.pk)
    return render(
        request,
        "awareness/form.html",
        {"form": form, "title": _("Importer un message (.eml)"), "multipart": True},
    )


@login_required
def landing_edit(request, pk: int | None = None):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    page = get_object_or_404(LandingPage, pk=pk) if pk else None
    initial = {"name": page.name, "html": page.html} if page else None
    form = LandingPageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_templates.save_landing_page(
                request.user,
                form.cleaned_data["name"],
                form.cleaned_data["html"],
                page=page,
                ip=client_ip(request),
            )
        except services_templates.TemplateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Page enregistrée (nettoyée)."))
            return redirect("awareness:library")
    return render(
        request,
        "awareness/form.html",
        {"form": form, "title": _("Page d'atterrissage"), "object": page},
    )


@login_required
def smtp_list(request):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    return render(
        request,
        "awareness/sending.html",
        {
            "profiles": SmtpProfile.objects.all(),
            "mailboxes": ReportingMailbox.objects.all(),
            "test_form": TestSendForm(),
        },
    )


def _edit_secret_holder(request, model, form_class, pk, action: str, title: str):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    obj = get_object_or_404(model, pk=pk) if pk else model()
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        changed = [name for name in form.changed_data if name != "password"]
        saved = form.save()
        audit.record(
            request.user,
            action,
            saved,
            ip=client_ip(request),
            changes={"fields": changed, "password_changed": "password" in form.changed_data},
        )
        messages.success(request, _("Enregistré."))
        return redirect("awareness:sending")
    return render(request, "awareness/form.html", {"form": form, "title": title, "object": obj})


@login_required
def smtp_edit(request, pk: int | None = None):
    return _edit_secret_holder(
        request, SmtpProfile, SmtpProfileForm, pk, "awareness.smtp.save", _("Profil d'envoi")
    )


@login_required
@require_POST
def smtp_test(request, pk: int):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    profile = get_object_or_404(SmtpProfile, pk=pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Adresse ou modèle invalide."))
        return redirect("awareness:sending")
    try:
        sending.send_test(
            request.user,
            profile,
            form.cleaned_data["to"],
            form.cleaned_data["template"],
            ip=client_ip(request),
        )
    except (OSError, sending.smtplib.SMTPException) as exc:
        messages.error(request, _("Échec de l'envoi de test : %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Message de test envoyé."))
    return redirect("awareness:sending")


@login_required
def mailbox_edit(request, pk: int | None = None):
    return _edit_secret_holder(
        request,
        ReportingMailbox,
        MailboxForm,
        pk,
        "awareness.mailbox.save",
        _("Boîte de signalement"),
    )


@login_required
@require_POST
def mailbox_poll(request, pk: int):
    access.require_centre(request.user, AwarenessPerm.MANAGE)
    mailbox = get_object_or_404(ReportingMailbox, pk=pk)
    outcome = imap_reporting.poll(mailbox)
    if outcome.errors:
        messages.error(request, _("Relevé impossible : %(error)s") % {"error": outcome.errors[0]})
    else:
        messages.success(
            request,
            _("%(messages)s message(s) lus, %(reports)s signalement(s) reconnus.")
            % {"messages": outcome.messages, "reports": outcome.reports},
        )
    return redirect("awareness:sending")


@login_required
def settings_edit(request):
    access.require_centre(request.user, Perm.SETTINGS_MANAGE)
    row = AwarenessSettings.objects.first() or AwarenessSettings()
    form = SettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(
            request.user,
            "awareness.settings.save",
            row,
            ip=client_ip(request),
            changes={"fields": form.changed_data},
        )
        messages.success(request, _("Réglages enregistrés."))
        return redirect("awareness:index")
    return render(
        request, "awareness/form.html", {"form": form, "title": _("Réglages de la sensibilisation")}
    )
