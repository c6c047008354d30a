from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the ``serve`` supervisor, backup and restore, encryption key rotation."""

    name = "carbet.ops"
    label = "ops"
