"""Pages of the community service: shared solutions (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_solutions as v

urlpatterns: list[URLPattern] = [
    path("offres/", v.catalogue, name="solutions"),
    path("offres/nouvelle/", v.offer_new, name="solutions_offer_new"),
    path("offres/<int:pk>/", v.offer_detail, name="solutions_offer"),
    path("offres/<int:pk>/modifier/", v.offer_edit, name="solutions_offer_edit"),
    path("offres/<int:pk>/reponse/", v.interest, name="solutions_interest"),
    path(
        "offres/reponse/<int:pk>/retirer/",
        v.interest_withdraw,
        name="solutions_interest_withdraw",
    ),
    path("offres/<int:pk>/demande/", v.demand, name="solutions_demand"),
    path("offres/<int:pk>/demande.csv", v.demand_csv, name="solutions_demand_csv"),
    path("offres/besoins/", v.needs, name="solutions_needs"),
    path("offres/besoins/<int:pk>/retirer/", v.need_delete, name="solutions_need_delete"),
    path("offres/region/", v.region, name="solutions_region"),
    path("offres/region/besoins.csv", v.needs_csv, name="solutions_needs_csv"),
]
