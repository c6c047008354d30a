"""Job kinds of the findings app (imported by the jobs registry's autodiscovery)."""
