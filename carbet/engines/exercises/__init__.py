"""Cyber crisis exercises: scenario model, JSON format, chronogram import, scheduling math.

Pure Python (no Django): the ``carbet.exercises`` app stores and runs exercises, this package
reads, checks and writes scenarios and decides when each inject is due.
"""
