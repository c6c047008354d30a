"""URLs of the corrective action plans and regional campaigns (under /vulnerabilites/plans/).

Joined into the ``findings`` namespace by ``findings/urls.py``: names stay ``findings:actions``…
"""

from django.urls import path

from carbet.findings.plans import views
from carbet.findings.plans import views_campaigns as campaigns

urlpatterns = [
    path("plans/", views.actions, name="actions"),
    path("plans/nouvelle/", views.action_create, name="action_create"),
    path(
        "plans/depuis-vulnerabilites/",
        views.actions_from_findings,
        name="actions_from_findings",
    ),
    path("plans/<int:pk>/", views.action_detail, name="action_detail"),
    path("plans/<int:pk>/modifier/", views.action_edit, name="action_edit"),
    path("plans/<int:pk>/avancement/", views.action_progress, name="action_progress"),
    path("plans/<int:pk>/abandonner/", views.action_cancel, name="action_cancel"),
    path("plans/<int:pk>/preuve/", views.evidence_upload, name="evidence_upload"),
    path(
        "plans/preuves/<int:pk>/telecharger/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("plans/preuves/<int:pk>/valider/", views.evidence_approve, name="evidence_approve"),
    path("plans/structure/<int:pk>/", views.structure_plan, name="structure_plan"),
    path("plans/campagnes/", campaigns.campaigns, name="campaigns"),
    path("plans/campagnes/nouvelle/", campaigns.campaign_create, name="campaign_create"),
    path("plans/campagnes/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("plans/campagnes/<int:pk>/lancer/", campaigns.campaign_launch, name="campaign_launch"),
]
