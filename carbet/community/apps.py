from carbet.core.contract import ServiceConfig


class CommunityConfig(ServiceConfig):
    """Registers ``carbet.community.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.community"
    label = "community"
    verbose_name = "Communauté : veille ciblée, bulletins, entraide et mutualisation"
