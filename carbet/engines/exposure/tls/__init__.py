"""TLS: protocol versions, cipher suites, groups, certificate chains and their checks."""
