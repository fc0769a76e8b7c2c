"""Prefect flows, the local runner and the command line that wire the pipeline together."""

from flows.prefect_env import apply_offline_defaults

# Prefect reads its settings when first imported, and any module here may import it; so
# before that, make sure it never phones home (setdefault only: operators' choices stand).
apply_offline_defaults()
