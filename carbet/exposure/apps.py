from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "carbet.exposure"
    label = "exposure"
    verbose_name = "Exposition sur internet"

    def ready(self) -> None:
        from carbet.exposure.services import exposure_scores
        from carbet.findings.dashboards.snapshots import register_score

        # Each nightly posture snapshot keeps the structure's latest exposure score.
        register_score("exposure", exposure_scores)
