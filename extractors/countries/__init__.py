"""Country mentions in text: which countries a document names, where, how and how saliently.

``detect`` finds mentions (names, demonyms, capitals, cities) with offsets; ``summarize``
turns them into one record per country. The gazetteer behind them is data in
``config/gazetteer/``, loaded once on first use.
"""

from extractors.countries.matcher import detect
from extractors.countries.records import KINDS, CountrySummary, Kind, Mention
from extractors.countries.summary import summarize

__all__ = ["KINDS", "CountrySummary", "Kind", "Mention", "detect", "summarize"]
