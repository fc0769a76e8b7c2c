"""End-to-end checks that start real services: a Prefect server, workers, PostgreSQL."""
