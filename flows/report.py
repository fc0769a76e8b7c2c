"""A whole cycle's outcome, summarised for the terminal, JSON and Prefect artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from flows.alerting import AlertOutcome
from flows.runtime import Runtime
from flows.steps import PollOutcome, ProcessOutcome
from storage import repository as repo


@dataclass(frozen=True)
class CycleReport:
    """What one run of poll + process did."""

    polls: tuple[PollOutcome, ...]
    processes: tuple[ProcessOutcome, ...]
    countries: tuple[tuple[str, int], ...] = ()
    alerts: AlertOutcome | None = None
    seconds: float = 0.0
    orchestrator: str = "local"

    @property
    def new_items(self) -> int:
        return sum(len(p.new_item_ids) for p in self.polls)

    @property
    def processed(self) -> int:
        return sum(len(p.done) for p in self.processes)

    @property
    def from_summary(self) -> int:
        return sum(len(p.from_summary) for p in self.processes)

    @property
    def feed_failures(self) -> list[PollOutcome]:
        return [p for p in self.polls if p.status == "failed"]

    @property
    def item_failures(self) -> list[tuple[int, str]]:
        return [failure for p in self.processes for failure in p.failed]

    def to_dict(self) -> dict[str, object]:
        return {
            "orchestrator": self.orchestrator,
            "seconds": round(self.seconds, 2),
            "sources_polled": len(self.polls),
            "not_modified": sum(p.status == "not_modified" for p in self.polls),
            "new_items": self.new_items,
            "processed": self.processed,
            "from_summary": self.from_summary,
            "countries": dict(self.countries),
            "feed_failures": {p.source_id: p.problem for p in self.feed_failures},
            "item_failures": dict(self.item_failures),
            "alerts": asdict(self.alerts) if self.alerts else None,
        }


def build_report(
    rt: Runtime,
    *,
    polls: Sequence[PollOutcome],
    processes: Sequence[ProcessOutcome],
    seconds: float,
    orchestrator: str,
    alerts: AlertOutcome | None = None,
) -> CycleReport:
    """Join the outcomes with what the database now says about the items processed."""
    done = [item_id for p in processes for item_id in p.done]
    with rt.sessions() as session:
        countries = repo.country_counts(session, done)
    return CycleReport(
        polls=tuple(polls),
        processes=tuple(processes),
        countries=tuple(countries),
        alerts=alerts,
        seconds=seconds,
        orchestrator=orchestrator,
    )


def markdown(report: CycleReport) -> str:
    """The report as Markdown, for a Prefect artifact an operator reads in the UI."""
    lines = [
        f"**{len(report.polls)}** sources polled, **{report.new_items}** new items, "
        f"**{report.processed}** processed ({report.from_summary} from the feed summary), "
        f"**{len(report.feed_failures)}** feed failures, "
        f"**{len(report.item_failures)}** item failures.",
        "",
        "| source | poll | entries | new | problem |",
        "|---|---|---|---|---|",
    ]
    for p in report.polls:
        lines.append(
            f"| {p.source_id} | {p.status} | {p.entries} | {len(p.new_item_ids)} "
            f"| {_cell(p.problem)} |"
        )
    if report.countries:
        lines += ["", "| country | items |", "|---|---|"]
        lines += [f"| {code} | {count} |" for code, count in report.countries]
    if report.alerts is not None:
        a = report.alerts
        lines += [
            "",
            f"Alerts: {a.queued} queued, {a.sent} sent, {a.digests} digests, "
            f"{a.to_digest} over the hourly cap, {a.retrying} to retry, {a.failed} failed, "
            f"{a.unknown} unknown.",
        ]
    if report.item_failures:
        lines += ["", "| item | error |", "|---|---|"]
        lines += [f"| {item_id} | {_cell(error)} |" for item_id, error in report.item_failures]
    return "\n".join(lines)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")[:200]
