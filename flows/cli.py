"""The ``newsdesk`` command: thin Typer commands that delegate to flows, steps and storage."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from config.durations import parse_duration
from config.errors import NewsdeskError
from config.settings import CONFIG_DIR, Settings, load_settings
from flows.console import ProgressObserver, country_name, print_items, print_report
from flows.prefect_env import prefect_server_configured
from flows.report import CycleReport

if TYPE_CHECKING:
    from extractors.countries import CountrySummary, Mention

app = typer.Typer(
    name="newsdesk",
    help="Watch foreign ministries and newsrooms for mentions of the countries you follow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="The source catalogue.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)

DEMO_DATABASE = "sqlite:///./newsdesk-demo.db"
# Set when --database was given: the demo honours it, but never NEWSDESK_DATABASE_URL alone,
# which may well name a production database.
_DATABASE_GIVEN = "NEWSDESK_CLI_DATABASE_GIVEN"
# Never resolvable (RFC 2606): the demo's requests can only reach its own sample server.
SAMPLE_ORIGIN = "http://samples.newsdesk.invalid"


@app.callback()
def _options(
    database: Annotated[
        str | None,
        typer.Option(help="Database URL (overrides NEWSDESK_DATABASE_URL).", show_default=False),
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Source catalogue (overrides NEWSDESK_SOURCES_PATH).", show_default=False
        ),
    ] = None,
) -> None:
    # Through the environment, so Prefect flows started from here see the same settings.
    if database:
        os.environ["NEWSDESK_DATABASE_URL"] = database
        os.environ[_DATABASE_GIVEN] = "1"
    if sources:
        os.environ["NEWSDESK_SOURCES_PATH"] = str(sources)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise NewsdeskError(f"invalid NEWSDESK_* setting: {exc}") from exc


def _run_cycle(
    settings: Settings, *, only: list[str] | None, force: bool, use_prefect: bool | None
) -> CycleReport:
    """Run one cycle through Prefect when a server is configured (or asked), else in-process."""
    if use_prefect is None:
        use_prefect = prefect_server_configured()
    if use_prefect:
        from flows.run import run as run_flow  # imported late: Prefect costs seconds to load

        with console.status("Running the Prefect flow 'run'..."):
            return run_flow(sources=only, force=force)
    from flows.local import run_cycle
    from flows.runtime import get_runtime

    rt = get_runtime(settings)
    if console.is_terminal:
        with ProgressObserver(console) as observer:
            return run_cycle(rt, only=only, force=force, observer=observer)
    return run_cycle(rt, only=only, force=force)


PrefectOption = Annotated[
    bool | None,
    typer.Option(
        "--prefect/--local",
        help="Run as Prefect flows, or in-process. Default: Prefect when PREFECT_API_URL is set.",
        show_default=False,
    ),
]


@app.command()
def run(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source id (repeatable).")
    ] = None,
    all_sources: Annotated[
        bool, typer.Option("--all", help="Poll every enabled source, due or not.")
    ] = False,
    use_prefect: PrefectOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run one full cycle: sync sources, poll due feeds, process new items."""
    report = _run_cycle(
        _settings(), only=source or None, force=all_sources, use_prefect=use_prefect
    )
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(console, report)


@app.command()
def demo(
    database: Annotated[
        str | None,
        typer.Option(help=f"Where the demo stores items [default: {DEMO_DATABASE}]."),
    ] = None,
    use_prefect: PrefectOption = None,
) -> None:
    """Serve the bundled sample sources locally and run the whole pipeline on them."""
    from flows.sample_server import SampleServer

    if database is None:
        given = os.environ.get(_DATABASE_GIVEN)
        database = os.environ["NEWSDESK_DATABASE_URL"] if given else DEMO_DATABASE
    samples = CONFIG_DIR / "samples"
    with SampleServer(samples, base_url=SAMPLE_ORIGIN) as server:
        os.environ.update(
            {
                "NEWSDESK_DATABASE_URL": database,
                "NEWSDESK_SOURCES_PATH": str(samples / "sources.yaml"),
                "NEWSDESK_SOURCES_BASE_URL": SAMPLE_ORIGIN,
                # Every sample URL is reached through the local server, acting as a proxy.
                "NEWSDESK_HTTP__PROXY": server.address,
                "NEWSDESK_HTTP__RETRY_DELAYS": "[]",
            }
        )
        console.print(f"Sample sources served at {server.address}; storing into {database}")
        report = _run_cycle(_settings(), only=None, force=True, use_prefect=use_prefect)
    print_report(console, report)
    if report.new_items:
        console.print(
            "Run [bold]newsdesk demo[/] again: the feeds answer 304 and nothing new is stored."
        )


@app.command()
def items(
    country: Annotated[
        str | None, typer.Option("--country", "-c", help="ISO code, e.g. SY.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only items discovered within e.g. 30m, 24h, 7d.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only items from this source id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List stored items, newest first."""
    from flows.runtime import get_runtime
    from storage import repository as repo

    cutoff = None
    if since:
        try:
            cutoff = datetime.now(UTC) - timedelta(seconds=parse_duration(since))
        except ValueError as exc:
            raise NewsdeskError(f"--since: {exc}") from exc
    rt = get_runtime(_settings())
    with rt.sessions() as session:
        found = repo.find_items(
            session,
            country=country.upper() if country else None,
            since=cutoff,
            source_id=source,
            limit=limit,
        )
    if as_json:
        for item in found:
            print(
                json.dumps(
                    {
                        "id": item.id,
                        "source": item.source_id,
                        "url": item.url,
                        "title": item.title,
                        "published": item.published_at.isoformat() if item.published_at else None,
                        "discovered": item.discovered_at.isoformat(),
                        "status": item.status,
                        "text_source": item.text_source,
                        "countries": list(item.countries),
                        "error": item.error,
                    },
                    ensure_ascii=False,
                )
            )
    else:
        print_items(console, found)


_ISO_CODE = re.compile(r"[A-Za-z]{2}")


def _summary_dict(summary: CountrySummary) -> dict[str, object]:
    return {
        "country": summary.country,
        "count": summary.count,
        "first_offset": summary.first_offset,
        "kind": summary.kind,
        "salience": round(summary.salience, 3),
        "snippet": summary.snippet,
    }


def _mention_dict(mention: Mention) -> dict[str, object]:
    return {
        "country": mention.country,
        "start": mention.start,
        "end": mention.end,
        "surface": mention.surface,
        "kind": mention.kind,
    }


def _batch_record(
    name: str, number: int, line: str, language: str | None
) -> tuple[object, str, str | None, str | None]:
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
    return row["id"], row["text"], row.get("title"), row.get("language") or language


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


def _write_batch(source: str, sink: TextIO, language: str | None, wanted: list[str] | None) -> int:
    """Stream `source` (a path or -) into `sink`, one output line per input line."""
    from extractors.countries import detect as find_mentions
    from extractors.countries import summarize

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
            doc_id, text, title, doc_language = _batch_record(name, number, line, language)
            mentions = find_mentions(text, title=title, language=doc_language, countries=wanted)
            record = {
                "id": doc_id,
                "countries": [_summary_dict(s) for s in summarize(text, mentions, title=title)],
                "mentions": [_mention_dict(m) for m in mentions],
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    sink.flush()
    return written


def _detect_batch(
    source: str, output: Path | None, language: str | None, wanted: list[str] | None
) -> int:
    """Run a batch to `output` (None: stdout); the number of lines written.

    An output file is written beside its destination and renamed once every line succeeded,
    so a failed run leaves it untouched (and IN and OUT may even be the same file).
    """
    if output is None:
        return _write_batch(source, sys.stdout, language, wanted)
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as sink:
            written = _write_batch(source, sink, language, wanted)
        partial.replace(output)
    except OSError as exc:
        raise NewsdeskError(f"cannot write {output}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return written


@app.command()
def detect(
    file: Annotated[
        str | None,
        typer.Argument(help="A text file, or - for standard input (the default)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (--batch always writes JSON lines).")
    ] = False,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch",
            metavar="IN.jsonl",
            help="Read JSON lines {id, text[, title, language]} (- for standard input) and "
            "write one line {id, countries, mentions} per input line, in order, as it goes "
            "(blank lines are skipped). "
            "A bad line (invalid JSON, no id or text) stops the run with an error naming "
            "the file and line; --output is then left untouched.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="OUT.jsonl",
            help="Where --batch writes (default: standard output).",
            show_default=False,
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            metavar="CODE",
            help="Language of the text, e.g. en: match only its names (faster). "
            "Default: every language. A --batch line's own language wins.",
            show_default=False,
        ),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option(
            "--country",
            "-c",
            metavar="CODE",
            help="Only this country, an ISO code such as SY (repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the country mentions found in a text, or in each line of a JSON-lines file."""
    from extractors.countries import detect as find_mentions
    from extractors.countries import summarize

    for code in country or []:
        if not _ISO_CODE.fullmatch(code):
            raise NewsdeskError(f"--country: {code!r} is not a two-letter ISO 3166-1 code")
    wanted = [code.upper() for code in country] if country else None
    if batch is not None:
        if file is not None:
            raise NewsdeskError("give either a FILE or --batch, not both")
        _detect_batch(batch, output, language, wanted)
        return
    if output is not None:
        raise NewsdeskError("--output goes with --batch")
    if file is None or file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NewsdeskError(f"cannot read {file}: {exc}") from exc
    mentions = find_mentions(text, language=language, countries=wanted)
    summaries = summarize(text, mentions)
    if as_json:
        print(
            json.dumps(
                {
                    "countries": [_summary_dict(s) for s in summaries],
                    "mentions": [_mention_dict(m) for m in mentions],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table(title=f"{len(summaries)} countries", title_justify="left")
    for column in ("code", "country", "mentions", "first", "kind", "snippet"):
        table.add_column(column, overflow="fold" if column == "snippet" else "ellipsis")
    for s in summaries:
        table.add_row(
            s.country, country_name(s.country), str(s.count), str(s.first_offset), s.kind, s.snippet
        )
    console.print(table)


@sources_app.command("list")
def sources_list() -> None:
    """Show the sources in the database with their feed health."""
    from flows.runtime import get_runtime
    from storage import repository as repo

    rt = get_runtime(_settings())
    with rt.sessions() as session:
        rows = repo.list_sources(session)
        table = Table(title=f"{len(rows)} sources", title_justify="left")
        for column in (
            "id",
            "kind",
            "country",
            "lang",
            "enabled",
            "last status",
            "failures",
            "next poll",
            "feed",
        ):
            table.add_column(column, overflow="fold" if column == "feed" else "ellipsis")
        for source in rows:
            state = source.state
            table.add_row(
                source.id,
                source.kind,
                source.country,
                source.language,
                "yes" if source.enabled else "no",
                str(state.last_status) if state and state.last_status else "-",
                str(state.consecutive_failures) if state else "0",
                state.next_poll_at.strftime("%Y-%m-%d %H:%M")
                if state and state.next_poll_at
                else "now",
                source.feed_url,
            )
    if not rows:
        console.print("No sources yet: run [bold]newsdesk sources sync[/].")
        return
    console.print(table)


@sources_app.command("sync")
def sources_sync() -> None:
    """Copy the catalogue (sources.yaml) into the database."""
    from flows.runtime import get_runtime
    from flows.steps import sync_catalogue

    settings = _settings()
    added, updated, disabled = sync_catalogue(get_runtime(settings))
    console.print(
        f"{settings.sources_path}: {added} added, {updated} updated, {disabled} disabled."
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from storage.db import make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print("Database schema is up to date.")


def _fail(message: str) -> NoReturn:
    # soft_wrap: a long path must stay on one line that scripts and people can grep.
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(1)


def main() -> None:
    """Entry point: every error becomes one clear line and exit status 1, never a traceback.

    NEWSDESK_DEBUG=1 shows the traceback of unexpected errors, for a bug report.
    """
    try:
        app()
    except NewsdeskError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        _fail(f"database: {str(orig).strip().splitlines()[0]}")
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("NEWSDESK_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (NEWSDESK_DEBUG=1 shows the traceback)")
