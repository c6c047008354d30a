"""Pages of the community service (mounted at /communaute/), one module per part."""

from carbet.community import (
    urls_aid,
    urls_alerts,
    urls_bulletins,
    urls_events,
    urls_exchange,
    urls_home,
    urls_inventory,
    urls_knowledge,
    urls_solutions,
)

app_name = "community"

urlpatterns = [
    *urls_home.urlpatterns,
    *urls_inventory.urlpatterns,
    *urls_alerts.urlpatterns,
    *urls_bulletins.urlpatterns,
    *urls_knowledge.urlpatterns,
    *urls_aid.urlpatterns,
    *urls_solutions.urlpatterns,
    *urls_events.urlpatterns,
    *urls_exchange.urlpatterns,
]
