"""Findings: the common currency of every service, in three parts that share one app and its tables.

* **The findings store** (this package's top level): ``ingest`` — the one write path every
  service uses (``carbet.findings.ingest.ingest``) —, the lifecycle, SLA deadlines and risk
  acceptance (``services/``), its reads (``selectors``), pages (``views``, ``views_acceptance``,
  ``views_settings``), API (``api``) and forms (``forms``); templates under
  ``templates/findings/findings/``.
* **Action plans** (``plans/``): action items, their evidence and its verification, regional
  remediation campaigns; own ``urls``, ``views``, ``api``, ``forms``, ``selectors``; templates
  under ``templates/findings/plans/``.
* **Posture** (``posture/``): nightly snapshots, dashboards, the weekly digest, PDF reports and
  posture exports; own ``urls``, ``views``, ``selectors``; templates under
  ``templates/findings/posture/``.

The models of the three parts stay in ``models/`` under the one ``findings`` label (one
migration history, no table moved); every URL name stays ``findings:<name>``. Platform helpers
the other services use live in the core: ``carbet.core.pdf``, ``carbet.core.links``,
``carbet.core.recipients``.
"""
