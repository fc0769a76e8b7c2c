"""Display names of countries: the short English name people use (CLDR's)."""

from __future__ import annotations

import functools

from babel import Locale

# Where CLDR's English name is not what a desk calls the country in an alert.
_PREFERRED = {"PS": "Palestine"}


@functools.cache
def _english() -> dict[str, str]:
    names = {str(code): str(name) for code, name in Locale("en").territories.items()}
    return names | _PREFERRED


def country_name(code: str) -> str:
    """ "Russia", not "Russian Federation"; the code itself if CLDR has no name."""
    return _english().get(code.upper(), code)
