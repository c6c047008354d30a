"""Carbet: the platform of a regional cyber resource centre for health."""

__version__ = "0.1.0"
