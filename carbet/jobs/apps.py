from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "carbet.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Each app declares its job kinds in a ``job_kinds`` module.
        autodiscover_modules("job_kinds")
