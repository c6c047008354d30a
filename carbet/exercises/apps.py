from carbet.core.contract import ServiceConfig


class ExercisesConfig(ServiceConfig):
    """Registers ``carbet.exercises.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.exercises"
    label = "exercises"
    verbose_name = "Exercices de crise cyber"
