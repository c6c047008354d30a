"""Awareness engine: the pure parts of phishing simulations, without Django.

Modules: ``tokens`` (per-recipient tokens and their digests), ``landing`` (the landing-page
sanitiser that makes password capture impossible), ``eml`` (import of a real e-mail as a
template), ``phishscale`` (NIST Phish Scale difficulty), ``bots`` (scanner/pre-fetcher click
classification), ``schedule`` (sending windows, spread and throttling), ``reports`` (finding a
token in a reported, forwarded e-mail), ``lures`` (the regional lure policy).
"""
