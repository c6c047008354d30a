"""Forms of the exercises pages (staff pages and the public spaces)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.exercises.choices import Channel, ItemKind, Outcome, ParticipantRole
from carbet.exercises.models import Cell, Exercise, ScenarioVersion, SendingProfile
from carbet.exercises.service import ExercisePerm

MAX_TEXT = 5000


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ScenarioImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_(
            "Un scénario complet (JSON, au format de la bibliothèque), ou un chronogramme "
            "(CSV ou XLSX) à greffer sur un scénario de la bibliothèque."
        ),
    )
    base = forms.ModelChoiceField(
        queryset=ScenarioVersion.objects.none(),
        required=False,
        label=_("Scénario de départ (pour un chronogramme)"),
        help_text=_(
            "Pour un chronogramme seulement : ses objectifs, son dossier de mise en situation "
            "et ses cellules sont repris, les injects viennent de votre fichier."
        ),
    )
    version = forms.CharField(
        label=_("Nouvelle version (pour un chronogramme)"),
        max_length=20,
        required=False,
        help_text=_("Par exemple 2026-local : le couple code et version doit être nouveau."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["base"].queryset = ScenarioVersion.objects.order_by("level", "title")


class ExerciseForm(forms.Form):
    structure = forms.ModelChoiceField(queryset=Structure.objects.none(), label=_("Structure"))
    title = forms.CharField(
        label=_("Titre"), max_length=200, required=False, help_text=_("Vide : celui du scénario.")
    )
    planned_start = forms.DateTimeField(label=_("Début prévu"), widget=DateTimeInput)
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"),
        min_value=15,
        max_value=7 * 24 * 60,
        required=False,
        help_text=_("Vide : la durée du scénario."),
    )
    compression = forms.FloatField(
        label=_("Facteur d'accélération"),
        min_value=1.0,
        max_value=600.0,
        initial=1.0,
        help_text=_(
            "1 pour l'exercice réel. Pour une répétition, 60 fait passer une heure du "
            "scénario en une minute."
        ),
    )
    objectives = forms.MultipleChoiceField(
        label=_("Objectifs retenus"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Aucun coché : tous les objectifs du scénario."),
    )
    profile = forms.ModelChoiceField(
        queryset=SendingProfile.objects.all(),
        label=_("Profil d'envoi des courriels"),
        required=False,
        help_text=_("Le serveur par lequel partent les courriels simulés et revient les réponses."),
    )
    continuity_test = forms.BooleanField(
        label=_("L'exercice met en œuvre le plan de continuité (mode dégradé)"), required=False
    )

    def __init__(
        self,
        *args: Any,
        actor: Actor,
        version: ScenarioVersion,
        variables: list[tuple[str, str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.visible_to(
            actor, ExercisePerm.MANAGE
        ).order_by("name")
        objectives = version.data.get("objectives") or []
        self.fields["objectives"].choices = [
            (o.get("code", ""), f"{o.get('code', '')} — {o.get('title', '')}") for o in objectives
        ]
        self.variable_names = []
        for name, description, default in variables:
            key = f"var_{name}"
            self.variable_names.append((key, name))
            self.fields[key] = forms.CharField(
                label=_("Variable « %(name)s »") % {"name": name},
                help_text=description
                or _("Vide : valeur tirée de la fiche de la structure ou du scénario."),
                required=False,
                max_length=200,
                initial=default,
            )

    def variables(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[key].strip()
            for key, name in self.variable_names
            if self.cleaned_data.get(key, "").strip()
        }


class ExerciseEditForm(forms.ModelForm):
    """Date, duration, speed-up, and the variables that personalise the messages (for a
    regional exercise, each structure's own: its name, its director, its software)."""

    class Meta:
        model = Exercise
        fields = ["title", "planned_start", "duration_minutes", "compression", "continuity_test"]
        widgets = {"planned_start": DateTimeInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.variables or {}
        self.variable_names: list[tuple[str, str]] = []
        for row in (self.instance.scenario or {}).get("variables") or []:
            name = str(row.get("name", ""))
            if not name:
                continue
            key = f"var_{name}"
            self.variable_names.append((key, name))
            self.fields[key] = forms.CharField(
                label=_("Variable « %(name)s »") % {"name": name},
                help_text=row.get("description") or "",
                required=False,
                max_length=200,
                initial=current.get(name, ""),
            )

    def variables(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(key, "").strip() for key, name in self.variable_names}

    def variables_changed(self) -> bool:
        return any(key in self.changed_data for key, _name in self.variable_names)


class ParticipantForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    role = forms.ChoiceField(label=_("Rôle"), choices=ParticipantRole.choices)
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        required=False,
        help_text=_("Pour les joueurs qui reçoivent les courriels de l'exercice."),
    )
    cell = forms.ModelChoiceField(queryset=Cell.objects.none(), required=False, label=_("Cellule"))
    phone = forms.CharField(label=_("Téléphone"), max_length=40, required=False)

    def __init__(self, *args: Any, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = Cell.objects.filter(exercise=exercise)


class AdhocForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    channel = forms.ChoiceField(label=_("Canal"), choices=Channel.choices)
    subject = forms.CharField(label=_("Objet"), max_length=250, required=False)
    body = forms.CharField(
        label=_("Contenu"), widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_TEXT
    )
    sender_name = forms.CharField(label=_("Expéditeur simulé"), max_length=150, required=False)
    outlet = forms.CharField(
        label=_("Média ou compte (presse, réseau social)"), max_length=150, required=False
    )
    script = forms.CharField(
        label=_("Script de l'appel (téléphone)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=MAX_TEXT,
    )
    in_minutes = forms.IntegerField(
        label=_("Dans combien de minutes"),
        min_value=0,
        max_value=24 * 60,
        initial=0,
        help_text=_("0 : tout de suite."),
    )


class ExpectationForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Résultat"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Commentaire"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


RATING_CHOICES = [
    (1, _("1 — insuffisant")),
    (2, _("2 — à améliorer")),
    (3, _("3 — satisfaisant")),
    (4, _("4 — très satisfaisant")),
]


class ObservationForm(forms.Form):
    criterion = forms.CharField(label=_("Critère observé"), max_length=200)
    rating = forms.TypedChoiceField(
        label=_("Note"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Remarque"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(forms.Form):
    inject = forms.TypedChoiceField(
        label=_("En réponse à"), coerce=int, required=False, empty_value=None
    )
    subject = forms.CharField(label=_("Objet"), max_length=250, required=False)
    body = forms.CharField(
        label=_("Votre réponse"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args: Any, injects: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["inject"].choices = [("", _("Message libre")), *injects]


RETEX_QUESTIONS = (
    ("clarity", _("Les consignes et le rôle de chacun étaient-ils clairs ?")),
    ("realism", _("Le scénario vous a-t-il paru réaliste pour votre établissement ?")),
    ("coordination", _("La coordination entre les cellules a-t-elle bien fonctionné ?")),
    ("learned", _("Avez-vous appris quelque chose d'utile pour une vraie crise ?")),
)
RETEX_SCALE = [
    ("4", _("Tout à fait")),
    ("3", _("Plutôt oui")),
    ("2", _("Plutôt non")),
    ("1", _("Pas du tout")),
]


class RetexForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Votre rôle pendant l'exercice"),
        choices=[("", _("Je préfère ne pas le dire")), *ParticipantRole.choices],
        required=False,
    )
    went_well = forms.CharField(
        label=_("Ce qui a bien fonctionné"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    to_improve = forms.CharField(
        label=_("Ce qu'il faut améliorer en priorité"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in RETEX_QUESTIONS:
            self.fields[code] = forms.ChoiceField(
                label=label, choices=RETEX_SCALE, widget=forms.RadioSelect
            )
        # Free text last, in the order people answer.
        self.order_fields([code for code, _l in RETEX_QUESTIONS] + ["went_well", "to_improve"])

    def answers(self) -> dict[str, str]:
        keys = [code for code, _l in RETEX_QUESTIONS] + ["went_well", "to_improve"]
        return {key: str(self.cleaned_data.get(key) or "") for key in keys}


class EvaluationForm(forms.Form):
    objective = forms.CharField(widget=forms.HiddenInput, max_length=40)
    outcome = forms.ChoiceField(
        label=_("Résultat"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Commentaire"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ItemKind.choices)
    title = forms.CharField(label=_("Intitulé"), max_length=250)
    detail = forms.CharField(
        label=_("Ce qui a été constaté"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recommendation = forms.CharField(
        label=_("Ce qu'il faut faire"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    severity = forms.TypedChoiceField(
        label=_("Gravité"),
        coerce=int,
        initial=2,
        choices=[
            (1, _("1 — faible")),
            (2, _("2 — moyenne")),
            (3, _("3 — élevée")),
            (4, _("4 — critique")),
        ],
    )
    objective = forms.ChoiceField(label=_("Objectif lié"), required=False)

    def __init__(self, *args: Any, objectives: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["objective"].choices = [("", _("Aucun")), *objectives]


class RegionalForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200, required=False)
    planned_start = forms.DateTimeField(label=_("Début synchronisé"), widget=DateTimeInput)
    compression = forms.FloatField(
        label=_("Facteur d'accélération"), min_value=1.0, max_value=600.0, initial=1.0
    )
    profile = forms.ModelChoiceField(
        queryset=SendingProfile.objects.all(), label=_("Profil d'envoi"), required=False
    )
    structures = forms.ModelMultipleChoiceField(
        queryset=Structure.objects.none(),
        label=_("Structures participantes"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["structures"].queryset = Structure.objects.visible_to(
            actor, ExercisePerm.REGIONAL
        ).order_by("departement", "name")


class CoverageFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Année"), min_value=2000, max_value=2100, required=False)
    category = forms.ChoiceField(label=_("Catégorie"), required=False)
    departement = forms.ChoiceField(label=_("Département"), required=False)

    def __init__(self, *args: Any, categories: list, departements: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Toutes")), *categories]
        self.fields["departement"].choices = [("", _("Tous")), *[(d, d) for d in departements]]
