from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the ``serve`` supervisor, backup and restore, encryption key rotation."""

    name = "carbet.ops"
    label = "ops"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # "carbet migrate" is how an upgrade starts: also the moment to fix old file modes.
        post_migrate.connect(_secure_after_migrate, dispatch_uid="carbet.ops.filemodes")


def _secure_after_migrate(sender, app_config, **kwargs) -> None:
    from django.apps import apps

    # Django sends post_migrate once per app with models (this app has none): act once, on the
    # last one, after every other app's post_migrate work.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if not with_models or app_config is not with_models[-1]:
        return
    from carbet.ops.filemodes import secure_data_files

    secure_data_files()
