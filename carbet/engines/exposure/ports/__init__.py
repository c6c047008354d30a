"""Open ports and what answers on them: discovery, protocol fingerprints, service checks."""
