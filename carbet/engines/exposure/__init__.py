"""Exposure engine: what a structure shows to the internet, checked without Django.

Modules: ``core`` (types, limits), ``checks`` (the registry of check ids), ``services`` (port
discovery and protocol fingerprints), ``tls``, ``web``, ``maildns``, ``vulns`` (feeds and
product matching), ``scoring`` and ``runner`` (one call scans a list of targets).
"""
