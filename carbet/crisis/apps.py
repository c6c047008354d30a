from carbet.core.contract import ServiceConfig


class CrisisConfig(ServiceConfig):
    """Registers ``carbet.crisis.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.crisis"
    label = "crisis"
    verbose_name = "Gestion de crise"
