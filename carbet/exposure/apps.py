from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "carbet.exposure"
    label = "exposure"
    verbose_name = "Exposition sur internet"
