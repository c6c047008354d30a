from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "carbet.audit"
    label = "audit"
