"""URLs of the registry, mounted at /registre/."""

from django.urls import path

from carbet.core.views import items, mandates, ownership, registry, transfer

app_name = "core"
urlpatterns = [
    path("", registry.region, name="region"),
    path("mes-structures/", registry.my_structures, name="my_structures"),
    path("structures/nouvelle/", registry.structure_edit, name="structure_create"),
    path("structures/<int:pk>/", registry.structure, name="structure"),
    path("structures/<int:pk>/modifier/", registry.structure_edit, name="structure_edit"),
    path("organisations/nouvelle/", registry.organisation_edit, name="organisation_create"),
    path("organisations/<int:pk>/", registry.organisation, name="organisation"),
    path("organisations/<int:pk>/modifier/", registry.organisation_edit, name="organisation_edit"),
    path("ght/<int:pk>/", registry.ght, name="ght"),
    # Contacts and assets
    path("structures/<int:pk>/contacts/ajouter/", items.contact_add, name="contact_add"),
    path("contacts/<int:pk>/modifier/", items.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/supprimer/", items.contact_delete, name="contact_delete"),
    path("structures/<int:pk>/actifs/ajouter/", items.asset_add, name="asset_add"),
    path("actifs/<int:pk>/modifier/", items.asset_edit, name="asset_edit"),
    path("actifs/<int:pk>/supprimer/", items.asset_delete, name="asset_delete"),
    path("actifs/<int:pk>/valider/", items.asset_validate, name="asset_validate"),
    path("actifs/<int:pk>/propriete/", ownership.asset_ownership, name="asset_ownership"),
    path("actifs/<int:pk>/propriete/verifier/", ownership.asset_verify, name="asset_verify"),
    path("actifs/<int:pk>/propriete/reconnaitre/", ownership.asset_review, name="asset_review"),
    path("actifs/<int:pk>/propriete/trancher/", ownership.asset_resolve, name="asset_resolve"),
    path("proprietes/", ownership.conflicts, name="ownership_queue"),
    # Mandates
    path("structures/<int:pk>/mandats/ajouter/", mandates.mandate_add, name="mandate_add"),
    path("mandats/<int:pk>/document/", mandates.mandate_document, name="mandate_document"),
    path("mandats/<int:pk>/revoquer/", mandates.mandate_revoke, name="mandate_revoke"),
    # Imports and exports
    path("import/", transfer.import_upload, name="import"),
    path("export/structures/", transfer.export_structures, name="export_structures"),
    path("structures/<int:pk>/export/actifs/", transfer.export_assets, name="export_assets"),
]
