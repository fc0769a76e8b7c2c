"""Alembic migrations for the newsdesk schema."""
