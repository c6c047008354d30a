"""Job kinds of the findings app (imported by the jobs registry's autodiscovery)."""

from carbet.findings.dashboards import jobs as dashboards_jobs  # noqa: F401
from carbet.findings.plans import notify  # noqa: F401
from carbet.findings.services import findings_jobs  # noqa: F401
