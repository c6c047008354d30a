"""Root URL map. Staff and structure pages live under their apps; the JSON API under /api/v1/."""

from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language switch uses set_language)
from django.urls import include, path

from carbet.core import contract

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("carbet.web.urls")),
    path("compte/", include("carbet.accounts.urls")),
    path("registre/", include("carbet.core.urls")),
    path("journal/", include("carbet.audit.urls")),
    path("taches/", include("carbet.jobs.urls")),
    path("vulnerabilites/", include("carbet.findings.urls")),
    path("api/v1/", include("carbet.api.urls")),
]
# Each service's pages (and public links) at the prefix its spec declares.
urlpatterns += [path(prefix, include(module)) for prefix, module in contract.url_mounts()]
