"""Job kinds of the findings app, one module per part (imported by the jobs registry's
autodiscovery): the store's daily sweeps, the plans' campaign notices, the posture's nightly
snapshot and weekly digest."""

from carbet.findings.plans import notify  # noqa: F401
from carbet.findings.posture import jobs as posture_jobs  # noqa: F401
from carbet.findings.services import jobs as findings_jobs  # noqa: F401
