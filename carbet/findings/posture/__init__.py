"""Dashboards, nightly posture snapshots, PDF reports, posture exports and the weekly digest.

``selectors`` reads (a handful of aggregate queries for the whole region, never one per
structure), ``snapshots`` writes the nightly PostureSnapshot rows, ``reports`` renders PDFs
with the same SVG charts as the pages (``carbet.engines.charts``), ``digest`` mails referents.
"""
