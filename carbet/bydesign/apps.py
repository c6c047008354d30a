from carbet.core.contract import ServiceConfig


class BydesignConfig(ServiceConfig):
    """Registers ``carbet.bydesign.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.bydesign"
    label = "bydesign"
    verbose_name = "Sécurité dès la conception et parcours médico-social"
