"""Environment Prefect needs to run offline and quietly; applied before Prefect is imported."""

from __future__ import annotations

import os

# Prefect reads these at import; setdefault keeps whatever an operator chose.
_OFFLINE_DEFAULTS = {
    # Otherwise the temporary server looks up a telemetry host on start-up.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The temporary server needs 15 to 35 s on these machines; Prefect's default is 20 s.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_UI_ENABLED": "false",
}


def apply_offline_defaults() -> None:
    """Keep Prefect from phoning home and give its temporary server time to start."""
    for key, value in _OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)


def prefect_server_configured() -> bool:
    """True when flows report to a running Prefect server rather than a temporary one."""
    return bool(os.environ.get("PREFECT_API_URL"))
