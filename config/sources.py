"""The source catalogue: ``sources.yaml`` read and validated into typed records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import pycountry
import yaml
from cssselect import SelectorError
from lxml.cssselect import CSSSelector  # type: ignore[import-untyped]
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.durations import parse_duration
from config.errors import ConfigError

SourceKind = Literal["foreign_office", "news"]
SourceType = Literal["feed", "sitemap", "listing"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_WEB_URL = re.compile(r"^https?://[^\s/]+\S*$")
# Codes that ISO 3166-1 does not assign but desks use every day.
_EXTRA_COUNTRY_CODES = {"XK"}


class _CatalogueLoader(yaml.SafeLoader):
    """YAML with only true/false as booleans, so that Norway's code NO stays a string."""


_CatalogueLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CatalogueLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class ListingOptions(BaseModel):
    """How to find article links on an HTML listing page of press releases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link_selector: str | None = None  # CSS selector of the article links
    link_pattern: str | None = None  # regular expression searched in each absolute link URL
    next_selector: str | None = None  # CSS selector of the "next page" link, if not standard
    max_pages: Annotated[int, Field(ge=1, le=20)] = 1

    @model_validator(mode="after")
    def _some_rule(self) -> ListingOptions:
        if not self.link_selector and not self.link_pattern:
            raise ValueError("a listing needs link_selector or link_pattern")
        if self.link_pattern:
            try:
                re.compile(self.link_pattern)
            except re.error as exc:
                raise ValueError(f"link_pattern is not a valid regular expression: {exc}") from exc
        for name in ("link_selector", "next_selector"):
            selector = getattr(self, name)
            if selector:
                try:
                    CSSSelector(selector)
                except SelectorError as exc:
                    raise ValueError(f"{name} is not a valid CSS selector: {exc}") from exc
        return self


class SourceConfig(BaseModel):
    """One source as written in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: SourceKind
    country: str
    language: str
    # How to read it: an RSS/Atom feed, an XML sitemap (news or ordinary, index, gzip) or an
    # HTML listing page of press releases.
    type: SourceType = "feed"
    # The URL to read; "feed_url" is accepted as the older name.
    feed_url: str = Field(validation_alias=AliasChoices("url", "feed_url"))
    listing: ListingOptions | None = None
    poll_interval: int = 900
    enabled: bool = True
    # Where the URL is documented, and what was checked: kept for people, not used to poll.
    citation: str | None = None
    verified: str | None = None

    @model_validator(mode="after")
    def _listing_rules(self) -> SourceConfig:
        if self.type == "listing" and self.listing is None:
            raise ValueError("type listing needs listing: {link_selector or link_pattern}")
        if self.type != "listing" and self.listing is not None:
            raise ValueError("listing options only apply to type listing")
        return self

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be 1-64 lowercase letters, digits or hyphens, e.g. mofa-pk")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("must be a language tag such as en, fr or pt-BR")
        return value

    @field_validator("feed_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not _WEB_URL.match(value):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("country", mode="before")
    @classmethod
    def _known_country(cls, value: object) -> str:
        code = str(value).strip().upper()
        if code not in _EXTRA_COUNTRY_CODES and pycountry.countries.get(alpha_2=code) is None:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _interval(cls, value: object) -> int:
        seconds = parse_duration(value)
        if seconds < 60:
            raise ValueError("poll interval must be at least 60 seconds")
        return seconds


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[SourceConfig]


def load_sources(path: Path, *, base_url: str | None = None) -> list[SourceConfig]:
    """Read and validate a catalogue file; ``{base_url}`` in feed URLs is replaced if given.

    Raises ConfigError naming the file and line of the first problem.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the source catalogue ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if base_url is not None:
        text = text.replace("{base_url}", base_url.rstrip("/"))
    return parse_sources(text, origin=str(path))


def parse_sources(text: str, *, origin: str = "sources.yaml") -> list[SourceConfig]:
    """Validate catalogue YAML text; errors name ``origin`` and the line."""
    try:
        root = yaml.compose(text, Loader=_CatalogueLoader)
        data = yaml.load(text, Loader=_CatalogueLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict) or "sources" not in data:
        raise ConfigError(f"{origin}: expected a mapping with a 'sources' list")
    try:
        catalogue = _Catalogue.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = _line_of(root, first["loc"])
        field = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{origin}:{line}: {field}: {message}") from exc
    seen: set[str] = set()
    for index, source in enumerate(catalogue.sources):
        if source.id in seen:
            line = _line_of(root, ("sources", index, "id"))
            raise ConfigError(f"{origin}:{line}: duplicate source id {source.id!r}")
        seen.add(source.id)
    return catalogue.sources


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """1-based line of the deepest YAML node that ``loc`` (a pydantic error path) reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
