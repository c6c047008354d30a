"""Findings URLs, split by area so each stays small: the store, action plans, dashboards."""

from carbet.findings.urls_dashboards import urlpatterns as dashboard_patterns
from carbet.findings.urls_findings import urlpatterns as finding_patterns
from carbet.findings.urls_plans import urlpatterns as plan_patterns

app_name = "findings"
urlpatterns = [*finding_patterns, *plan_patterns, *dashboard_patterns]
