from carbet.core.contract import ServiceConfig


class ExposureConfig(ServiceConfig):
    """Registers ``carbet.exposure.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.exposure"
    label = "exposure"
    verbose_name = "Exposition sur internet"
