"""Pages of the community service: inventory (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_inventory as views

urlpatterns: list[URLPattern] = [
    path("structure/<int:structure_id>/inventaire/", views.inventory, name="inventory"),
    path(
        "structure/<int:structure_id>/inventaire/export.csv",
        views.inventory_export,
        name="inventory_export",
    ),
    path("inventaire/logiciel/<int:pk>/modifier/", views.line_edit, name="inventory_line_edit"),
    path("inventaire/logiciel/<int:pk>/retirer/", views.line_delete, name="inventory_line_delete"),
    path("inventaire/region/", views.region, name="inventory_region"),
    path("inventaire/region/produit/", views.region_product, name="inventory_region_product"),
    path("inventaire/region/export.csv", views.region_export, name="inventory_region_export"),
]
