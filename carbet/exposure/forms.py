"""Forms of the exposure service: scan profiles and weekly schedules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carbet.exposure.models import ScanProfile, ScanSchedule

MAX_PORTS = 2000
WEEKDAYS = [
    (0, _("lundi")),
    (1, _("mardi")),
    (2, _("mercredi")),
    (3, _("jeudi")),
    (4, _("vendredi")),
    (5, _("samedi")),
    (6, _("dimanche")),
]


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_ports(text: str) -> list[int]:
    """``"22, 80, 8000-8010"`` → sorted unique ports; ``ValidationError`` saying what is wrong."""
    ports: set[int] = set()
    for raw in text.replace(";", ",").replace(" ", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        low, sep, high = item.partition("-")
        # isascii: "²" is a digit to str.isdigit() but not to int().
        if not _number(low) or (sep and not _number(high)):
            raise forms.ValidationError(
                _("« %(item)s » n'est pas un port ni une plage (ex. 8000-8010).") % {"item": item}
            )
        start, end = int(low), int(high) if sep else int(low)
        if not (1 <= start <= end <= 65535):
            raise forms.ValidationError(
                _("« %(item)s » : les ports vont de 1 à 65535.") % {"item": item}
            )
        ports.update(range(start, end + 1))
        if len(ports) > MAX_PORTS:
            raise forms.ValidationError(_("Au plus %(n)d ports par profil.") % {"n": MAX_PORTS})
    if not ports:
        raise forms.ValidationError(_("Indiquez au moins un port."))
    return sorted(ports)


def format_ports(ports: list[int]) -> str:
    """Sorted ports with consecutive runs written as ranges."""
    parts, run = [], []
    for port in sorted(set(ports)):
        if run and port == run[-1] + 1:
            run.append(port)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [port]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(parts)


class ProfileForm(forms.ModelForm):
    ports_text = forms.CharField(
        label=_("Ports analysés"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Séparés par des virgules ; plages possibles (ex. 21, 22, 8000-8010)."),
    )

    class Meta:
        model = ScanProfile
        fields = [
            "name",
            "description",
            "connect_timeout",
            "read_timeout",
            "target_timeout",
            "global_concurrency",
            "per_target_concurrency",
            "per_target_budget",
            "tls",
            "web_paths",
            "mail_dns",
            "is_default",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ports_text"].initial = format_ports(self.instance.ports or [])

    def clean_ports_text(self) -> list[int]:
        return parse_ports(self.cleaned_data["ports_text"])

    def save(self, commit: bool = True) -> ScanProfile:
        self.instance.ports = self.cleaned_data["ports_text"]
        return super().save(commit=commit)


class ScheduleForm(forms.ModelForm):
    weekday = forms.TypedChoiceField(label=_("Jour"), choices=WEEKDAYS, coerce=int)
    hour = forms.TypedChoiceField(
        label=_("Heure"), choices=[(h, f"{h:02d} h") for h in range(24)], coerce=int
    )

    class Meta:
        model = ScanSchedule
        fields = ["weekday", "hour", "profile", "enabled", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = ScanProfile.objects.all()
        self.fields["profile"].empty_label = _("Profil par défaut")
