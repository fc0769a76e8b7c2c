"""Country detection for the command line: one text, or a JSON-lines batch streamed through."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.errors import NewsdeskError
from extractors.countries import KINDS, CountrySummary, Kind, Mention, detect, summarize

_ISO_CODE = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """What to look for: a language hint and optional country and kind filters."""

    language: str | None = None
    countries: tuple[str, ...] | None = None
    kinds: tuple[Kind, ...] | None = None

    @classmethod
    def checked(
        cls, language: str | None, countries: list[str] | None, kinds: list[str] | None
    ) -> DetectOptions:
        """Options from command-line values, with a clear error for a bad code or kind."""
        for code in countries or []:
            if not _ISO_CODE.fullmatch(code):
                raise NewsdeskError(f"--country: {code!r} is not a two-letter ISO 3166-1 code")
        for kind in kinds or []:
            if kind not in KINDS:
                raise NewsdeskError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
        return cls(
            language,
            tuple(code.upper() for code in countries) if countries else None,
            tuple(kind for kind in KINDS if kind in kinds) if kinds else None,
        )

    def mentions(self, text: str, *, language: str | None = None) -> list[Mention]:
        return detect(
            text,
            language=language or self.language,
            countries=self.countries,
            kinds=self.kinds,
        )


def as_record(
    mentions: list[Mention], summaries: list[CountrySummary], **extra: object
) -> dict[str, object]:
    """The JSON form of one text's countries and mentions (what --json and --batch print)."""
    return {
        **extra,
        "countries": [summary_dict(s) for s in summaries],
        "mentions": [mention_dict(m) for m in mentions],
    }


def summary_dict(summary: CountrySummary) -> dict[str, object]:
    return {
        "country": summary.country,
        "count": summary.count,
        "first_offset": summary.first_offset,
        "kind": summary.kind,
        "salience": round(summary.salience, 3),
        "snippet": summary.snippet,
    }


def mention_dict(mention: Mention) -> dict[str, object]:
    return {
        "country": mention.country,
        "start": mention.start,
        "end": mention.end,
        "surface": mention.surface,
        "kind": mention.kind,
    }


def _batch_record(name: str, number: int, line: str) -> tuple[object, str, str | None, str | None]:
    """One input line -> (id, text, title, language), or NewsdeskError naming file:line."""
    where = f"{name}:{number}"
    try:
        row = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        raise NewsdeskError(f"{where}: invalid JSON: {exc.msg} at column {exc.pos + 1}") from exc
    if not isinstance(row, dict):
        raise NewsdeskError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if "id" not in row:
        raise NewsdeskError(f'{where}: "id" is missing')
    if not isinstance(row.get("text"), str):
        missing = "text" not in row or row["text"] is None
        raise NewsdeskError(f'{where}: "text" is {"missing" if missing else "not a string"}')
    for key in ("title", "language"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise NewsdeskError(f'{where}: "{key}" is not a string')
    return row["id"], row["text"], row.get("title"), row.get("language")


def _numbered_lines(handle: TextIO, name: str) -> Iterator[tuple[int, str]]:
    number = 0
    while True:
        number += 1
        try:
            line = handle.readline()
        except (OSError, UnicodeDecodeError) as exc:
            raise NewsdeskError(f"{name}:{number}: cannot read: {exc}") from exc
        if not line:
            return
        yield number, line


def _write_batch(source: str, sink: TextIO, options: DetectOptions) -> int:
    """Stream `source` (a path or -) into `sink`, one output line per input line."""
    name = "<stdin>" if source == "-" else source
    written = 0
    with ExitStack() as stack:
        handle = sys.stdin
        if source != "-":
            try:
                handle = stack.enter_context(Path(source).open(encoding="utf-8"))
            except OSError as exc:
                raise NewsdeskError(f"cannot read {source}: {exc}") from exc
        for number, line in _numbered_lines(handle, name):
            if not line.strip():
                continue
            doc_id, text, title, doc_language = _batch_record(name, number, line)
            mentions = options.mentions(text, language=doc_language)
            record = as_record(mentions, summarize(text, mentions, title=title), id=doc_id)
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    sink.flush()
    return written


def detect_batch(source: str, output: Path | None, options: DetectOptions) -> int:
    """Run a batch to `output` (None: stdout); the number of lines written.

    An output file is written beside its destination and renamed once every line succeeded,
    so a failed run leaves it untouched (and IN and OUT may even be the same file).
    """
    if output is None:
        return _write_batch(source, sys.stdout, options)
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as sink:
            written = _write_batch(source, sink, options)
        partial.replace(output)
    except OSError as exc:
        raise NewsdeskError(f"cannot write {output}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return written
