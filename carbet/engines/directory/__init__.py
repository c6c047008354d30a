"""Directory engine: collect an Active Directory read-only, snapshot it, analyse it. No Django.

Modules: ``model`` (the snapshot's typed content), ``collector`` (LDAP collection), ``snapshot``
(versioned file format: compression, encryption, pseudonymisation), ``rules`` (the registry),
``scoring``, ``pingcastle`` (healthcheck XML import) and ``analysis`` (snapshot → result).
"""
