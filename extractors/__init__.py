"""Turning the outside world (feeds, pages, texts) into typed records."""
