"""Durations written the way people write them: 900, "15m", "1h", "7d"."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> int:
    """Seconds from an integer or a string such as ``"90s"``, ``"15m"``, ``"24h"``, ``"7d"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15m, 1h or a number of seconds")
    if isinstance(value, int | float):
        return int(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 15m, 24h, 7d or 900")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
