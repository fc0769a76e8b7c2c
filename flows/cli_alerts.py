"""The ``subscribers`` and ``alerts`` commands: thin wrappers over flows.subscriptions/alerting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from config.errors import NewsdeskError
from config.settings import load_settings
from config.subscribers import SubscriberConfig

subscribers_app = typer.Typer(help="People who get alert emails.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alert emails: preview and delivery status.", no_args_is_help=True)
console = Console()


def _runtime() -> Any:
    from flows.runtime import get_runtime

    try:
        return get_runtime(load_settings())
    except ValueError as exc:
        raise NewsdeskError(f"invalid NEWSDESK_* setting: {exc}") from exc


def _split(values: list[str] | None) -> list[str]:
    """Repeated options and comma lists both work: --countries SY,PK --countries Iran."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _given(**options: Any) -> dict[str, Any]:
    """The subscriber fields the user actually gave (None means the option was left out)."""
    return {key: value for key, value in options.items() if value is not None}


def _config(**values: Any) -> SubscriberConfig:
    try:
        return SubscriberConfig.model_validate(values)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise NewsdeskError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from exc
        raise NewsdeskError(str(exc)) from exc


Countries = Annotated[
    list[str] | None,
    typer.Option("--countries", "-c", help="ISO codes or names, comma-separated: SY,Pakistan."),
]
Mode = Annotated[str | None, typer.Option(help="immediate (one email per item) or digest.")]
Hour = Annotated[int | None, typer.Option(help="Local hour of the daily digest (0-23).")]
Zone = Annotated[str | None, typer.Option(help="IANA time zone, e.g. Asia/Karachi.")]
Kinds = Annotated[
    list[str] | None, typer.Option("--source-kind", help="foreign_office or news (repeatable).")
]
Sources = Annotated[list[str] | None, typer.Option("--source", help="Source id (repeatable).")]
Salience = Annotated[
    float | None, typer.Option(help="Minimum salience (0-1) of a watched country.")
]
Keywords = Annotated[
    list[str] | None, typer.Option("--keyword", help="Required word or phrase (repeatable).")
]
Name = Annotated[str | None, typer.Option(help="The subscriber's name.")]


@subscribers_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Email address.")],
    countries: Countries = None,
    mode: Mode = None,
    name: Name = None,
    digest_hour: Hour = None,
    timezone: Zone = None,
    source_kind: Kinds = None,
    source: Sources = None,
    min_salience: Salience = None,
    keyword: Keywords = None,
) -> None:
    """Subscribe someone to alerts about the countries on their watch list."""
    from flows import subscriptions

    given = _given(
        countries=_split(countries),
        mode=mode,
        name=name,
        digest_hour=digest_hour,
        timezone=timezone,
        source_kinds=source_kind,
        source_ids=source,
        min_salience=min_salience,
        keywords=keyword,
    )
    config = _config(email=email, **given)
    subscriber = subscriptions.add(_runtime(), config)
    console.print(
        f"Subscribed {subscriber.email} to {', '.join(subscriber.countries)} ({subscriber.mode})."
    )


@subscribers_app.command("update")
def update(
    email: Annotated[str, typer.Argument(help="Email address of an existing subscriber.")],
    countries: Countries = None,
    mode: Mode = None,
    name: Name = None,
    digest_hour: Hour = None,
    timezone: Zone = None,
    source_kind: Kinds = None,
    source: Sources = None,
    min_salience: Salience = None,
    keyword: Keywords = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Pause or resume alerts.")
    ] = None,
) -> None:
    """Change a subscriber's watch list, filters or delivery mode."""
    from flows import subscriptions

    changes = _given(
        countries=_split(countries) or None,
        mode=mode,
        name=name,
        digest_hour=digest_hour,
        timezone=timezone,
        source_kinds=source_kind,
        source_ids=source,
        min_salience=min_salience,
        keywords=keyword,
        active=active,
    )
    if not changes:
        raise NewsdeskError("nothing to change: give at least one option")
    subscriber = subscriptions.update(_runtime(), email, changes)
    console.print(f"Updated {subscriber.email}.")


@subscribers_app.command("remove")
def remove(email: Annotated[str, typer.Argument(help="Email address.")]) -> None:
    """Remove a subscriber and their delivery history."""
    from flows import subscriptions

    subscriptions.remove(_runtime(), email)
    console.print(f"Removed {email.lower()}.")


@subscribers_app.command("load")
def load(
    path: Annotated[Path, typer.Argument(help="A YAML file with a 'subscribers' list.")],
) -> None:
    """Add or update the subscribers listed in a YAML file."""
    from flows import subscriptions

    added, updated = subscriptions.load(_runtime(), path)
    console.print(f"{path}: {added} added, {updated} updated.")


@subscribers_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show every subscriber and their watch list."""
    from storage import outbox

    rt = _runtime()
    with rt.sessions() as session:
        rows = outbox.list_subscribers(session)
        records: list[dict[str, Any]] = [
            {
                "email": s.email,
                "name": s.name,
                "countries": s.countries,
                "mode": s.mode,
                "digest_hour": s.digest_hour,
                "timezone": s.timezone,
                "source_kinds": s.source_kinds,
                "source_ids": s.source_ids,
                "min_salience": s.min_salience,
                "keywords": s.keywords,
                "active": s.active,
            }
            for s in rows
        ]
    if as_json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
        return
    table = Table(title=f"{len(records)} subscribers", title_justify="left")
    for column in ("email", "name", "countries", "mode", "filters", "active"):
        table.add_column(column, overflow="fold")
    for r in records:
        filters = [f"{k}={v}" for k in ("source_kinds", "source_ids", "keywords") if (v := r[k])]
        if r["min_salience"]:
            filters.append(f"min_salience={r['min_salience']}")
        mode = (
            r["mode"] if r["mode"] == "immediate" else f"digest {r['digest_hour']}h {r['timezone']}"
        )
        table.add_row(
            str(r["email"]),
            str(r["name"]),
            " ".join(r["countries"]),
            mode,
            " ".join(filters),
            "yes" if r["active"] else "no",
        )
    console.print(table)


@alerts_app.command("preview")
def preview(
    email: Annotated[str, typer.Argument(help="Email address of a subscriber.")],
    html: Annotated[
        Path | None, typer.Option(help="Also write the HTML of the first email to this file.")
    ] = None,
) -> None:
    """Render what this subscriber would receive now, without sending anything."""
    from flows.alerting import preview_emails

    emails = preview_emails(_runtime(), email)
    if not emails:
        console.print(f"Nothing is waiting for {email.lower()}.")
        return
    for rendered in emails:
        console.rule(rendered.subject)
        console.print(rendered.text, markup=False, highlight=False)
    if html is not None:
        try:
            html.write_text(emails[0].html, encoding="utf-8")
        except OSError as exc:
            raise NewsdeskError(f"cannot write {html}: {exc}") from exc
        console.print(f"HTML written to {html}.")


@alerts_app.command("list")
def deliveries(
    status: Annotated[
        str | None,
        typer.Option(help="pending, claimed, sending, sent, failed or unknown."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """Show recent deliveries and their state, newest first."""
    from storage import outbox

    rt = _runtime()
    with rt.sessions() as session:
        rows = outbox.deliveries_by_status(session, status, limit)
        table = Table(title=f"{len(rows)} deliveries", title_justify="left")
        for column in ("id", "to", "channel", "status", "tries", "item", "error"):
            table.add_column(column, overflow="fold")
        for delivery, subscriber, item in rows:
            table.add_row(
                str(delivery.id),
                subscriber.email,
                delivery.channel,
                delivery.status,
                str(delivery.attempts),
                item.title or item.url,
                delivery.last_error or "",
            )
    console.print(table)


@alerts_app.command("resend")
def resend(
    ids: Annotated[list[int], typer.Argument(help="Delivery ids (see `alerts list`).")],
) -> None:
    """Queue failed or unknown deliveries again: only once you know they did not arrive."""
    from storage import outbox

    rt = _runtime()
    with rt.sessions.begin() as session:
        count = outbox.requeue(session, ids, rt.now())
    console.print(f"{count} of {len(ids)} deliveries queued again.")


@alerts_app.command("unsubscribe")
def unsubscribe(
    token: Annotated[str, typer.Argument(help="The token of an unsubscribe link.")],
) -> None:
    """Do what a one-click unsubscribe link does: stop a subscriber's alerts."""
    from storage import outbox

    rt = _runtime()
    with rt.sessions.begin() as session:
        subscriber = outbox.unsubscribe(session, token)
        if subscriber is None:
            raise NewsdeskError("no subscriber has that unsubscribe token")
        email = subscriber.email
    console.print(f"{email} will get no more alerts.")


@alerts_app.command("unsubscribe-page")
def unsubscribe_page(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(help="Port [default: the one in NEWSDESK_ALERTS__UNSUBSCRIBE_BASE_URL]."),
    ] = None,
) -> None:
    """Serve the page the emails' unsubscribe links open (and mail clients' one-click POST).

    Put it behind the public address that NEWSDESK_ALERTS__UNSUBSCRIBE_BASE_URL names.
    """
    from flows.unsubscribe_service import server

    try:
        page = server(_runtime(), host=host, port=port)
    except OSError as exc:
        where = f"{host}:{port}" if port is not None else host
        raise NewsdeskError(f"cannot listen on {where}: {exc.strerror or exc}") from exc
    console.print(f"Unsubscribe links answered at {page.address}{page.path}/TOKEN (Ctrl-C stops)")
    try:
        page.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        page.close()
