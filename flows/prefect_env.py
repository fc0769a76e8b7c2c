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


_applied: set[str] = set()


def apply_offline_defaults() -> None:
    """Keep Prefect from phoning home and give its temporary server time to start."""
    for key, value in _OFFLINE_DEFAULTS.items():
        if key not in os.environ:
            os.environ[key] = value
            _applied.add(key)


def server_environment() -> dict[str, str]:
    """The environment for a long-lived ``prefect server``: offline, with its UI.

    The UI is off only for the temporary servers of one-off runs (our default above); an
    operator who turned it off themselves keeps it off.
    """
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    if "PREFECT_UI_ENABLED" in _applied:
        del env["PREFECT_UI_ENABLED"]
    return env


def prefect_server_configured() -> bool:
    """True when flows report to a running Prefect server rather than a temporary one."""
    return bool(os.environ.get("PREFECT_API_URL"))
