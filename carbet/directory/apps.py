from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "carbet.directory"
    label = "directory"
    verbose_name = "Audit de l'annuaire"
