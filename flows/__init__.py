"""Prefect flows, the local runner and the command line that wire the pipeline together."""
