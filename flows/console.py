"""Rich rendering for the command line: progress, the cycle summary, items and mentions."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from extractors.countries.names import country_name
from flows.report import CycleReport
from storage.records import ItemView

_STAGE_LABELS = {"poll": "Polling feeds", "process": "Processing items"}


_TOP_COUNTRIES = 15


class ProgressObserver:
    """Shows each stage of a cycle as a progress bar while it runs."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> ProgressObserver:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def stage(self, name: str, total: int) -> None:
        self._tasks[name] = self._progress.add_task(_STAGE_LABELS.get(name, name), total=total)

    def advance(self, name: str) -> None:
        if name in self._tasks:
            self._progress.advance(self._tasks[name])  # type: ignore[arg-type]


def print_report(console: Console, report: CycleReport) -> None:
    """The summary table an operator reads after a run."""
    not_modified = sum(p.status == "not_modified" for p in report.polls)
    overview = Table(title="newsdesk run", show_header=False, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column(justify="right")
    overview.add_row("sources polled", str(len(report.polls)))
    overview.add_row("  not modified (304)", str(not_modified))
    overview.add_row("new items", str(report.new_items))
    overview.add_row("items processed", str(report.processed))
    overview.add_row("  from feed summary", str(report.from_summary))
    overview.add_row("feed failures", str(len(report.feed_failures)))
    overview.add_row("item failures", str(len(report.item_failures)))
    if report.alerts is not None:
        alerts = report.alerts
        overview.add_row("alerts queued", str(alerts.queued))
        overview.add_row("  emails sent", str(alerts.sent + alerts.digests))
        waiting = alerts.to_digest + alerts.retrying
        if waiting or alerts.failed or alerts.unknown:
            overview.add_row(
                "  waiting / failed / unknown", f"{waiting} / {alerts.failed} / {alerts.unknown}"
            )
    overview.add_row("time", f"{report.seconds:.1f} s ({report.orchestrator})")
    console.print(overview)

    if report.countries:
        countries = Table(title="Items by country", title_justify="left")
        countries.add_column("code")
        countries.add_column("country")
        countries.add_column("items", justify="right")
        for code, count in report.countries[:_TOP_COUNTRIES]:
            countries.add_row(code, country_name(code), str(count))
        hidden = len(report.countries) - _TOP_COUNTRIES
        if hidden > 0:
            countries.caption = f"and {hidden} more; see `newsdesk items --country CODE`"
        console.print(countries)

    if report.feed_failures or report.item_failures:
        failures = Table(title="Failures", title_justify="left")
        failures.add_column("what")
        failures.add_column("reason", overflow="fold")
        for poll in report.feed_failures:
            failures.add_row(f"feed {poll.source_id}", poll.problem or "")
        for item_id, error in report.item_failures:
            failures.add_row(f"item {item_id}", error)
        console.print(failures)

    if not report.polls:
        console.print("No source was due; `newsdesk run --all` polls every source now.")
    elif report.new_items == 0 and len(report.feed_failures) < len(report.polls):
        console.print("No new items: everything these feeds list is already stored.")


def print_items(console: Console, items: Sequence[ItemView]) -> None:
    table = Table(title=f"{len(items)} items", title_justify="left")
    table.add_column("id", justify="right")
    table.add_column("published")
    table.add_column("source")
    table.add_column("countries")
    table.add_column("title", overflow="fold")
    for item in items:
        when = item.published_at or item.discovered_at
        status = "" if item.status == "done" else f" [{item.status}]"
        table.add_row(
            str(item.id),
            when.strftime("%Y-%m-%d %H:%M"),
            item.source_id,
            " ".join(item.countries),
            (item.title or item.url) + status,
        )
    console.print(table)
