from carbet.core.contract import ServiceConfig


class AwarenessConfig(ServiceConfig):
    """Registers ``carbet.awareness.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation et hameçonnage simulé"
