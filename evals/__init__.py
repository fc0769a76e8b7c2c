"""Offline evaluations of the extractors against shared fixtures (run with python -m)."""
