"""Posture: nightly snapshots, dashboards, PDF reports, posture exports and the weekly digest.

``selectors`` reads (a handful of aggregate queries for the whole region, never one per
structure), ``snapshots`` writes the nightly PostureSnapshot rows (and holds the registry of the
services' dashboard scores, ``register_score``), ``reports`` renders PDFs with the same SVG
charts as the pages (``carbet.engines.charts``, ``carbet.core.pdf``), ``digest`` mails
referents; ``views``/``urls`` are the pages (names ``findings:dashboard``…).
"""
