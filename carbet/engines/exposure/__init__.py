"""Exposure engine: what a structure shows to the internet, checked without Django.

At the top: ``core`` (types, limits, the connect-time scope), ``checks`` (the registry of check
ids), ``scoring`` (0–100 per category), ``report`` (the JSON contract and the table) and
``runner`` (one call scans a list of targets). One sub-package per probe, each declaring its
checks in its ``checks`` module beside the verdicts that emit them:

- ``ports``: port discovery, protocol fingerprints (remote access, databases, medical);
- ``tls``: protocol versions, suites, groups, certificates;
- ``web``: HTTPS, headers, cookies, sensitive paths, the Observatory-style score;
- ``mail``: MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, STARTTLS, DNSSEC, CAA;
- ``vulns``: local feeds (NVD, KEV, EPSS, CERT-FR), CPE names, version matching.
"""
