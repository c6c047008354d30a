"""Forms of the knowledge base: writing an article (the centre) and searching."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import ArticleKind, ArticleStatus
from carbet.community.models import Article
from carbet.community.services_knowledge import MAX_NOTE


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=ArticleKind.choices,
        help_text=_(
            "Une fiche réflexe dit quoi faire dans les premières minutes ; une procédure décrit "
            "une tâche pas à pas ; un article explique."
        ),
    )
    category = forms.CharField(
        label=_("Rubrique"),
        max_length=80,
        help_text=_("Par exemple : Incidents, Sauvegardes, Messagerie, Accès à distance."),
    )
    tags = forms.CharField(
        label=_("Mots-clés"),
        max_length=600,
        required=False,
        help_text=_("Séparés par des virgules, par exemple : rançongiciel, sauvegarde."),
    )
    summary = forms.CharField(
        label=_("Résumé"),
        max_length=300,
        required=False,
        help_text=_("Une ou deux phrases, montrées dans les listes et les résultats."),
    )
    body = forms.CharField(
        label=_("Texte"),
        max_length=100000,
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text=_(
            "En Markdown : # pour un intertitre, - pour une liste, **gras**, [lien](https://…). "
            "Le HTML tapé est affiché tel quel, jamais interprété."
        ),
    )
    note = forms.CharField(
        label=_("Ce qui change"),
        max_length=MAX_NOTE,
        required=False,
        help_text=_("Une phrase gardée dans l'historique des versions."),
    )

    def __init__(
        self,
        *args: Any,
        article: Article | None = None,
        categories: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if article is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": article.title,
                "kind": article.kind,
                "category": article.category,
                "tags": ", ".join(article.tags or []),
                "summary": article.summary,
                "body": article.body,
            }
        super().__init__(*args, **kwargs)
        if article is not None:
            self.fields["note"].required = True
        if categories:
            self.fields["category"].widget.attrs["list"] = "knowledge-categories"
        self.categories = categories or []

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in ("title", "kind", "category", "tags", "summary",
                                                "body")}  # fmt: skip


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Tous")), *ArticleKind.choices], required=False
    )
    category = forms.CharField(label=_("Rubrique"), max_length=80, required=False)
    tag = forms.CharField(label=_("Mot-clé"), max_length=40, required=False)
    status = forms.ChoiceField(
        label=_("État"),
        choices=[("", _("Tous")), *ArticleStatus.choices],
        required=False,
    )

    def __init__(self, *args: Any, centre: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not centre:
            del self.fields["status"]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {
            name: self.cleaned_data.get(name) or ""
            for name in ("kind", "category", "tag", "status")
            if name in self.fields
        }
