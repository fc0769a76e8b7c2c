"""The ``newsdesk`` command: thin Typer commands that delegate to flows, steps and storage."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from config.durations import parse_duration
from config.errors import NewsdeskError
from config.settings import CONFIG_DIR, Settings, load_settings
from extractors.countries.names import country_name
from flows.cli_alerts import alerts_app, subscribers_app
from flows.console import ProgressObserver, print_items, print_report
from flows.prefect_env import prefect_server_configured, server_environment
from flows.report import CycleReport

if TYPE_CHECKING:
    pass

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
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(alerts_app, name="alerts")

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
    """Serve the bundled sample sources locally and run the whole pipeline on them.

    Alerts go to two sample subscribers through a local SMTP sink, whose captured emails
    are listed at the end.
    """
    from alerts.sink import SmtpSink
    from flows import subscriptions
    from flows.runtime import get_runtime
    from flows.sample_server import SampleServer

    if database is None:
        given = os.environ.get(_DATABASE_GIVEN)
        database = os.environ["NEWSDESK_DATABASE_URL"] if given else DEMO_DATABASE
    samples = CONFIG_DIR / "samples"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    with SampleServer(samples, base_url=SAMPLE_ORIGIN) as server, SmtpSink() as sink:
        os.environ.update(
            {
                "NEWSDESK_DATABASE_URL": database,
                "NEWSDESK_SOURCES_PATH": str(samples / "sources.yaml"),
                "NEWSDESK_SOURCES_BASE_URL": SAMPLE_ORIGIN,
                # Every sample URL is reached through the local server, acting as a proxy.
                "NEWSDESK_HTTP__PROXY": server.address,
                "NEWSDESK_HTTP__RETRY_DELAYS": "[]",
                "NEWSDESK_SMTP__HOST": sink.host,
                "NEWSDESK_SMTP__PORT": str(sink.port),
                "NEWSDESK_SMTP__SECURITY": "none",
            }
        )
        console.print(f"Sample sources served at {server.address}; storing into {database}")
        settings = _settings()
        subscriptions.load(get_runtime(settings), samples / "subscribers.yaml")
        report = _run_cycle(settings, only=None, force=True, use_prefect=use_prefect)
        captured = [str(message["Subject"]) for message in sink.messages]
    print_report(console, report)
    console.print(f"Emails captured by the local SMTP sink: {len(captured)}")
    for subject in captured:
        console.print(f"  {subject}", markup=False, highlight=False)
    if report.new_items:
        console.print(
            "Run [bold]newsdesk demo[/] again: the feeds answer 304, nothing new is stored "
            "and no email is sent twice."
        )


@app.command()
def serve() -> None:
    """Run the pipeline as a service: poll, process, alert and digest on their schedules.

    Needs a Prefect server (PREFECT_API_URL; see `newsdesk server`).
    """
    if not prefect_server_configured():
        raise NewsdeskError(
            "PREFECT_API_URL is not set: start `newsdesk server` and export "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from flows.serve import main as serve_main

    serve_main()


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API and the UI.")] = 4200,
) -> None:
    """Start a local Prefect server with its UI (analytics off).

    It keeps its data in SQLite under PREFECT_HOME, or in PostgreSQL when
    PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://... is set.
    """
    import subprocess

    env = server_environment()
    console.print(
        f"Prefect UI at http://{host}:{port}; in another shell: "
        f"export PREFECT_API_URL=http://{host}:{port}/api && newsdesk serve"
    )
    command = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        host,
        "--port",
        str(port),
    ]
    # Our own interpreter running Prefect's own CLI with fixed arguments: nothing untrusted.
    raise SystemExit(subprocess.call(command, env=env))  # noqa: S603


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
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="Only mentions of this kind: name, demonym, capital or city (repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the country mentions found in a text, or in each line of a JSON-lines file."""
    from extractors.countries import summarize
    from flows.detect_cli import DetectOptions, as_record, detect_batch

    options = DetectOptions.checked(language, country, kind)
    if batch is not None:
        if file is not None:
            raise NewsdeskError("give either a FILE or --batch, not both")
        detect_batch(batch, output, options)
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
    mentions = options.mentions(text)
    summaries = summarize(text, mentions)
    if as_json:
        print(json.dumps(as_record(mentions, summaries), ensure_ascii=False, indent=2))
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


@sources_app.command("check")
def sources_check(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source id (repeatable).")
    ] = None,
) -> None:
    """Fetch every enabled catalogue source once and report its health; nothing is stored."""
    from config.sources import load_sources
    from flows.source_tools import check_sources

    settings = _settings()
    catalogue = load_sources(settings.sources_path, base_url=settings.sources_base_url)
    chosen = [s for s in catalogue if s.enabled and (not source or s.id in source)]
    unknown = set(source or []) - {s.id for s in catalogue}
    if unknown:
        raise NewsdeskError(f"no source {', '.join(sorted(unknown))} in {settings.sources_path}")
    with console.status(f"Checking {len(chosen)} sources..."):
        rows = check_sources(settings.http, chosen)
    table = Table(title=f"{len(rows)} sources checked", title_justify="left")
    for column in ("id", "type", "reachable", "format", "items", "newest item", "problems"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.source_id,
            row.type,
            row.reachable,
            row.format,
            str(row.items),
            row.newest.strftime("%Y-%m-%d %H:%M") if row.newest else "-",
            row.problem or "",
        )
    console.print(table)
    healthy = sum(1 for r in rows if r.items and not r.problem)
    console.print(f"{healthy} of {len(rows)} sources gave items without a problem.")


@sources_app.command("discover")
def sources_discover(
    url: Annotated[str, typer.Argument(help="A site or page, e.g. https://www.example.gov/news")],
) -> None:
    """Find the feeds and sitemaps a site advertises and print catalogue entries to paste."""
    from urllib.parse import urlsplit

    from flows.source_tools import discover_feeds

    if not urlsplit(url).scheme.startswith("http"):
        raise NewsdeskError(f"{url!r} is not an http(s) URL")
    with console.status(f"Looking for feeds and sitemaps on {url}..."):
        found = discover_feeds(_settings().http, url)
    if not found:
        console.print(
            "No feed or sitemap found: use a listing source (type: listing) with a "
            "link_pattern that matches the article links."
        )
        return
    host = urlsplit(url).hostname or "site"
    console.print(f"# {len(found)} found on {url}; fill in kind, country and language.")
    for n, suggestion in enumerate(found, 1):
        slug = f"{host.removeprefix('www.').split('.')[0]}-{n}"
        print(
            f"  - id: {slug}\n"
            f"    name: {suggestion.title or host}\n"
            f"    kind: news            # or foreign_office\n"
            f"    country: XX           # ISO code of the publisher\n"
            f"    language: en\n"
            f"    type: {suggestion.type}  # {suggestion.format}, {suggestion.items} items\n"
            f"    url: {suggestion.url}\n"
            f"    citation: {url}"
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
