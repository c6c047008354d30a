from carbet.core.contract import ServiceConfig


class RoadmapConfig(ServiceConfig):
    """Registers ``carbet.roadmap.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.roadmap"
    label = "roadmap"
    verbose_name = "Feuille de route et indicateurs"
