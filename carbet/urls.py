"""Root URL map. Staff and structure pages live under their apps; the JSON API under /api/v1/."""

from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language switch uses set_language)
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("carbet.web.urls")),
    path("compte/", include("carbet.accounts.urls")),
    path("registre/", include("carbet.core.urls")),
    path("journal/", include("carbet.audit.urls")),
    path("taches/", include("carbet.jobs.urls")),
    path("vulnerabilites/", include("carbet.findings.urls")),
    path("exposition/", include("carbet.exposure.urls")),
    path("annuaire/", include("carbet.directory.urls")),
    path("feuille-de-route/", include("carbet.roadmap.urls")),
    path("sensibilisation/", include("carbet.awareness.urls")),
    # Phishing simulations' public space: recipients' links, no staff session involved.
    path("s/", include("carbet.awareness.public_urls")),
    path("api/v1/", include("carbet.api.urls")),
]
