"""What an operator reads on the Prefect Artifacts page: built from the database, as Markdown.

Pure builders (``*_markdown``, ``sparkline``) plus one function per artifact that queries and
publishes; keyed artifacts (``source-health``, ``latest-items``) are replaced every run so the
page always holds the current picture.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from extractors.countries.names import country_name
from flows.alerting import AlertOutcome
from flows.runtime import Runtime
from flows.steps import PollOutcome
from storage import repository as repo
from storage.models import FeedState, Source

_BARS = "▁▂▃▄▅▆▇█"
# A source with no new item for this long is worth a look.
QUIET_DAYS = 3


def sparkline(values: Sequence[int]) -> str:
    """One bar per value, scaled to the largest: a spike shows at a glance."""
    top = max(values, default=0)
    if top == 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)


def poll_table(outcomes: Sequence[PollOutcome]) -> list[dict[str, object]]:
    return [
        {
            "source": o.source_id,
            "status": o.status,
            "http": o.http_status or "",
            "entries": o.entries,
            "new items": len(o.new_item_ids),
            "seconds": round(o.seconds, 2),
            "error": o.problem or "",
        }
        for o in outcomes
    ]


def health_markdown(
    rows: Sequence[tuple[Source, FeedState | None, datetime | None]], now: datetime
) -> str:
    failing = [(s, st) for s, st, _ in rows if st is not None and st.consecutive_failures > 0]
    quiet = [
        (s, last) for s, _, last in rows if last is None or now - last > timedelta(days=QUIET_DAYS)
    ]
    lines = [
        f"**{len(rows)}** enabled sources: **{len(failing)}** failing, "
        f"**{len(quiet)}** with no new item for {QUIET_DAYS} days or more.",
        "",
    ]
    if failing:
        lines += ["| failing source | runs in a row | last error |", "|---|---|---|"]
        for source, state in sorted(failing, key=lambda r: -(r[1].consecutive_failures or 0)):
            error = (state.last_error or "").replace("|", "\\|")[:160]
            lines.append(f"| {source.id} | {state.consecutive_failures} | {error} |")
        lines.append("")
    if quiet:
        lines += ["| quiet source | last new item |", "|---|---|"]
        for source, last in quiet:
            lines.append(
                f"| {source.id} | {last.strftime('%Y-%m-%d %H:%M') if last else 'never'} |"
            )
    return "\n".join(lines)


def countries_markdown(mentions: Sequence[tuple[str, datetime]], today: date) -> str:
    """Items per country in the last 24 hours, with a 7-day sparkline per country."""
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    for country, discovered in mentions:
        per_day[country][discovered.date()] += 1
    lines = ["| country | today | last 7 days |", "|---|---|---|"]
    ranked = sorted(per_day, key=lambda c: (-per_day[c][today], -sum(per_day[c].values()), c))
    for country in ranked:
        counts = [per_day[country][d] for d in days]
        lines.append(
            f"| {country_name(country)} ({country}) | {counts[-1]} | `{sparkline(counts)}` |"
        )
    if len(lines) == 2:
        lines.append("| (no items yet) | | |")
    return "\n".join(lines)


def new_items_markdown(items: Sequence[tuple[int, str | None, str, list[str]]]) -> str:
    """This run's new items grouped by country, with links."""
    by_country: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, title, url, countries in items:
        for country in countries or ["—"]:
            by_country[country].append((title or url, url))
    if not by_country:
        return "No new items this run."
    lines = []
    for country in sorted(by_country, key=lambda c: (-len(by_country[c]), c)):
        name = country_name(country) if country != "—" else "No country"
        lines.append(f"### {name} ({len(by_country[country])})")
        for title, url in by_country[country][:20]:
            lines.append(f"- [{title.replace(']', ')')}]({url})")
        lines.append("")
    return "\n".join(lines)


def alerts_markdown(outcome: AlertOutcome, stage: str) -> str:
    """What an alert or digest run did, with the subjects it sent."""
    lines = [f"# {stage}", ""]
    if outcome.server_down:
        lines += ["**The SMTP server could not be reached**: deliveries wait for the next run.", ""]
    rows = [
        ("items matched", outcome.matched_items),
        ("deliveries queued", outcome.queued),
        ("alerts sent", outcome.sent),
        ("digests sent", outcome.digests),
        ("moved to the digest (hourly cap)", outcome.to_digest),
        ("to retry", outcome.retrying),
        ("failed", outcome.failed),
        ("unknown (check `newsdesk alerts list --status unknown`)", outcome.unknown),
    ]
    lines += ["| | count |", "|---|---:|"] + [f"| {label} | {n} |" for label, n in rows]
    if outcome.subjects:
        lines += ["", "## Sent", ""] + [f"- {subject}" for subject in outcome.subjects[:50]]
    return "\n".join(lines)


def publish_alerts(outcome: AlertOutcome, key: str) -> None:
    """Keyed ``alerts`` or ``digests``: the last run's sends, replaced each run."""
    from prefect.artifacts import create_markdown_artifact

    title = "Alerts" if key == "alerts" else "Digests"
    create_markdown_artifact(
        alerts_markdown(outcome, title), key=key, description=f"{title} sent by the last run"
    )


def publish_poll(rt: Runtime, polls: Sequence[PollOutcome]) -> None:
    """After polling: this run's sources and new items, and the keyed source health."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    new_ids = [item_id for p in polls for item_id in p.new_item_ids]
    with rt.sessions() as session:
        health = repo.source_health(session)
        items = repo.recent_items(session, new_ids)
    create_table_artifact(
        poll_table(polls), key="sources-polled", description="Sources polled in this run"
    )
    create_markdown_artifact(
        new_items_markdown(items), key="new-items", description="New items by country"
    )
    create_markdown_artifact(
        health_markdown(health, rt.now()),
        key="source-health",
        description="Sources failing or quiet",
    )


def publish_latest(rt: Runtime) -> None:
    """After processing: the keyed items-per-country picture, today and the last 7 days."""
    from prefect.artifacts import create_markdown_artifact

    now = rt.now()
    with rt.sessions() as session:
        mentions = repo.country_days(session, now - timedelta(days=7))
    create_markdown_artifact(
        countries_markdown(mentions, now.date()),
        key="latest-items",
        description="Items per country: today and the last 7 days",
    )
