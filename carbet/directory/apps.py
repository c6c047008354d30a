from carbet.core.contract import ServiceConfig


class DirectoryConfig(ServiceConfig):
    """Registers ``carbet.directory.service.SERVICE`` with the kernel (``carbet.core.contract``)."""

    default = True
    name = "carbet.directory"
    label = "directory"
    verbose_name = "Audit de l'annuaire"
