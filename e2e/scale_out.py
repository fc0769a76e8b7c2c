"""Scaling out, end to end: one Prefect server and two workers sharing PostgreSQL.

    python -m e2e.scale_out [--postgres URL] [--logs DIR]

1. Creates two fresh PostgreSQL databases: newsdesk's, and the Prefect server's own.
2. Serves the bundled samples (as ``newsdesk demo`` does) and an SMTP sink, in this process.
3. Starts ``newsdesk server`` on a free port (and checks its UI answers), creates the
   ``newsdesk`` process work pool and registers prefect.yaml's deployments with
   ``prefect deploy --all``. The server's scheduler is off, so only the runs triggered here
   happen and the figures are exact.
4. Starts two ``prefect worker start --pool newsdesk --limit 1``: each takes one run at a
   time, and each reaches the samples through its own proxy, so the check sees who fetched
   what.
5. Triggers a poll; then two full cycles (``run/newsdesk-run``) at once, which with two items
   per source and run must share the backlog between the workers; then one run of each
   scheduled deployment, which must find nothing new.
6. Checks that every sample item is stored and processed exactly once, that no email goes
   out twice, and that the runs, task runs, artifacts and per-host limits are in Prefect.
7. Stops the workers and the server and checks that nothing is left running.

Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from alerts.sink import SmtpSink
from flows.sample_server import SampleServer
from storage.models import Delivery, Item, Mention

from .processes import Service, free_port

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "samples"
SAMPLE_ORIGIN = "http://samples.newsdesk.invalid"
SCHEDULED = {
    "poll/newsdesk-poll": 300,
    "process/newsdesk-process": 60,
    "alert/newsdesk-alert": 60,
    "digest/newsdesk-digest": 3600,
}
KEYED_ARTIFACTS = (
    "sources-polled",
    "new-items",
    "source-health",
    "latest-items",
    "process-progress",
    "newsdesk-cycle",
    "alerts",
    "digests",
)
RUN_TIMEOUT = 300.0


class Checks:
    """Collects pass/fail lines; the script fails if any check did."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, ok: bool, what: str, detail: object = "") -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail else ""))
        if not ok:
            self.failed.append(what)


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


@contextmanager
def scratch_databases(admin_url: str) -> Iterator[tuple[str, str]]:
    """Two new databases (newsdesk's, Prefect's), dropped afterwards whatever happened."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"newsdesk_e2e_{suffix}", f"prefect_e2e_{suffix}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    base = make_url(admin_url)
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        newsdesk = base.set(database=names[0]).render_as_string(hide_password=False)
        prefect = (base.set(drivername="postgresql+asyncpg", database=names[1])).render_as_string(
            hide_password=False
        )
        yield newsdesk, prefect
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prefect_cli(env: dict[str, str], *args: str) -> None:
    """Run a Prefect CLI command to completion, failing loudly with its output."""
    import subprocess

    # Our own interpreter and Prefect's CLI with fixed arguments: nothing untrusted.
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def wait_for_runs(ids: list[uuid.UUID], timeout: float) -> list[Any]:
    """The flow runs once all are in a final state."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(run_id) for run_id in ids]
            if all(run.state is not None and run.state.is_final() for run in runs):
                return runs
            if time.monotonic() > deadline:
                states = {run.name: run.state_name for run in runs}
                raise RuntimeError(f"runs not finished within {timeout:g} s: {states}")
            time.sleep(1)


def trigger(names: list[str], parameters: dict[str, dict[str, Any]]) -> list[uuid.UUID]:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    ids = []
    for name in names:
        # timeout=0: create the run and return; a worker picks it up.
        run = run_deployment(name, parameters=parameters.get(name, {}), timeout=0)
        assert isinstance(run, FlowRun)  # the sync call path returns the run itself
        ids.append(run.id)
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "NEWSDESK_E2E_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a database on the server where the scratch databases are created",
    )
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="newsdesk-e2e-") as scratch:
        logs = args.logs or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        with scratch_databases(args.postgres) as (newsdesk_db, prefect_db):
            scenario(checks, newsdesk_db, prefect_db, Path(scratch), logs)
    seconds = time.monotonic() - started
    if checks.failed:
        print(f"\n{len(checks.failed)} checks failed in {seconds:.0f} s: {checks.failed}")
        return 1
    print(f"\nall checks passed in {seconds:.0f} s")
    return 0


def scenario(checks: Checks, newsdesk_db: str, prefect_db: str, scratch: Path, logs: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    # One sample server per worker, each the worker's HTTP proxy: the pages each server
    # served are the items that worker processed.
    with (
        SampleServer(SAMPLES, base_url=SAMPLE_ORIGIN) as origin_1,
        SampleServer(SAMPLES, base_url=SAMPLE_ORIGIN) as origin_2,
        SmtpSink() as sink,
    ):
        env = {
            **os.environ,
            "PREFECT_HOME": str(scratch / "prefect-home"),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "NEWSDESK_HOME": str(ROOT),
            "NEWSDESK_DATABASE_URL": newsdesk_db,
            "NEWSDESK_SOURCES_PATH": str(SAMPLES / "sources.yaml"),
            "NEWSDESK_SOURCES_BASE_URL": SAMPLE_ORIGIN,
            "NEWSDESK_HTTP__PROXY": origin_1.address,
            "NEWSDESK_HTTP__RETRY_DELAYS": "[]",
            # Two items per source and run: one run cannot take a source's whole backlog
            # (up to four items), so the two workers share it whatever their timing.
            "NEWSDESK_PROCESS__BATCH_SIZE": "2",
            "NEWSDESK_SMTP__HOST": sink.host,
            "NEWSDESK_SMTP__PORT": str(sink.port),
            "NEWSDESK_SMTP__SECURITY": "none",
        }
        os.environ.update(env)  # this process talks to the same server and database
        services: list[Service] = []
        try:
            step(f"newsdesk server on 127.0.0.1:{port}, its database on PostgreSQL")
            server_env = {
                **env,
                "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db,
                # Only the runs triggered below: scheduled runs would blur the figures.
                "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            }
            server_env.pop("PREFECT_UI_ENABLED", None)  # as in an operator's shell
            argv = [sys.executable, "-m", "flows", "server", "--host", "127.0.0.1"]
            server = Service("prefect-server", [*argv, "--port", str(port)], server_env, logs, ROOT)
            services.append(server)
            clock = time.monotonic()
            server.wait_for_http(f"{api}/health", timeout=180)
            print(f"  up in {time.monotonic() - clock:.0f} s")
            ui = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            checks.check(
                ui.status_code == 200 and "text/html" in ui.headers.get("content-type", ""),
                "the UI is served",
                f"HTTP {ui.status_code}",
            )

            step("work pool and deployments (prefect deploy --all)")
            prefect_cli(env, "work-pool", "create", "newsdesk", "--type", "process")
            prefect_cli(env, "deploy", "--all")
            check_deployments(checks)

            step("subscribers, and two workers taking one run at a time")
            load_subscribers()
            for n, origin in ((1, origin_1), (2, origin_2)):
                argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", "newsdesk"]
                argv += ["--limit", "1", "--name", f"worker-{n}"]
                worker_env = {**env, "NEWSDESK_HTTP__PROXY": origin.address}
                services.append(Service(f"worker-{n}", argv, worker_env, logs, ROOT))

            polled = run_stage(checks, "a poll run stores the sample items", ["poll/newsdesk-poll"])
            cycles = run_stage(
                checks,
                "two full cycles at once share the processing and alerting",
                ["run/newsdesk-run"] * 2,
            )
            emails_after_cycles = len(sink.messages)
            rest = run_stage(
                checks,
                "one run of each scheduled deployment (poll forced: every source is asked)",
                list(SCHEDULED),
                {"poll/newsdesk-poll": {"force": True}},
            )

            step("what was stored, processed and sent")
            check_items(checks, newsdesk_db, {"worker-1": origin_1, "worker-2": origin_2})
            check_emails(checks, newsdesk_db, sink, emails_after_cycles)
            step("what an operator sees in Prefect")
            check_prefect(checks, polled + cycles + rest)
            for service in services:
                tracebacks = service.log.count("Traceback (most recent call last)")
                checks.check(not tracebacks, f"no traceback in the {service.name} log", tracebacks)
        finally:
            step("shutting down")
            for service in reversed(services):
                how = service.stop()
                checks.check(how == "stopped", f"{service.name} stopped on SIGTERM", how)


def run_stage(
    checks: Checks,
    title: str,
    deployments: list[str],
    parameters: dict[str, dict[str, Any]] | None = None,
) -> list[Any]:
    """Trigger runs of these deployments at once; check they all complete."""
    step(title)
    clock = time.monotonic()
    runs = wait_for_runs(trigger(deployments, parameters or {}), RUN_TIMEOUT)
    if len(runs) > 1 and all(run.start_time and run.end_time for run in runs):
        together = min(run.end_time for run in runs) - max(run.start_time for run in runs)
        if together.total_seconds() > 0:
            print(f"  the runs overlapped for {together.total_seconds():.1f} s")
    states = [run.state_name for run in runs]
    checks.check(
        states == ["Completed"] * len(runs),
        f"{len(runs)} completed in {time.monotonic() - clock:.0f} s",
        "" if len(set(states)) == 1 else states,
    )
    return runs


def check_deployments(checks: Checks) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    with get_client(sync_client=True) as client:
        found = {}
        for deployment in client.read_deployments():
            flow = client.read_flow(deployment.flow_id)
            found[f"{flow.name}/{deployment.name}"] = deployment
    checks.check(set(found) == {*SCHEDULED, "run/newsdesk-run"}, "five deployments", sorted(found))
    for name, seconds in SCHEDULED.items():
        registered = found.get(name)
        schedules = registered.schedules if registered else []
        intervals = [getattr(s.schedule, "interval", None) for s in schedules]
        anchors = [getattr(s.schedule, "anchor_date", None) for s in schedules]
        limit = registered.global_concurrency_limit if registered else None
        options = registered.concurrency_options if registered else None
        checks.check(
            [i.total_seconds() for i in intervals if i is not None] == [seconds]
            and all(a is not None and (a.minute, a.second) == (0, 0) for a in anchors)
            and limit is not None
            and limit.limit == 1
            and options is not None
            and options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW,
            f"{name} every {seconds} s on round times, one run at a time",
        )


def load_subscribers() -> None:
    from flows import subscriptions
    from flows.runtime import get_runtime

    subscriptions.load(get_runtime(), SAMPLES / "subscribers.yaml")


def check_items(checks: Checks, database: str, origins: dict[str, SampleServer]) -> None:
    expected: dict[str, list[str]] = yaml.safe_load(
        (SAMPLES / "expected_countries.yaml").read_text(encoding="utf-8")
    )
    engine = create_engine(database)
    with Session(engine) as session:
        items = list(session.scalars(select(Item)))
        countries: dict[int, list[str]] = {}
        for item_id, country in session.execute(select(Mention.item_id, Mention.country)):
            countries.setdefault(item_id, []).append(country)
    engine.dispose()
    slugs = Counter(slug_of(item.url) for item in items)
    checks.check(
        set(slugs) == set(expected) and max(slugs.values()) == 1,
        f"each of the {len(expected)} sample items stored once",
        f"{len(items)} stored",
    )
    statuses = Counter(item.status for item in items)
    checks.check(set(statuses) == {"done"}, "every item processed", dict(statuses))
    attempts = Counter(item.attempts for item in items)
    checks.check(set(attempts) == {1}, "every item claimed exactly once", dict(attempts))
    # The pages themselves: each fetched once in all, by whichever worker processed it.
    pages = {urlsplit(item.url).path for item in items}
    by_worker = {
        worker: Counter(path for path in served_paths(origin) if path in pages)
        for worker, origin in origins.items()
    }
    fetched = sum(by_worker.values(), Counter[str]())
    twice = {path: fetched[path] for path in pages if fetched[path] != 1}
    checks.check(not twice, "every article page fetched exactly once", twice)
    shares = {worker: sum(counts.values()) for worker, counts in by_worker.items()}
    checks.check(all(shares.values()), "both workers processed items", shares)
    found = {slug_of(item.url): sorted(countries.get(item.id, [])) for item in items}
    wrong = {slug: got for slug, got in found.items() if slug in expected and got != expected[slug]}
    checks.check(not wrong, "every item has the countries its author listed", wrong)


def slug_of(url: str) -> str:
    """``.../press-briefing-2026-11-20.html`` -> the key of expected_countries.yaml."""
    return urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".html")


def served_paths(origin: SampleServer) -> list[str]:
    # Proxied requests name the whole URL; the path is what identifies the page.
    return [urlsplit(target).path for target, _status in origin.requests]


def check_emails(checks: Checks, database: str, sink: SmtpSink, after_cycles: int) -> None:
    engine = create_engine(database)
    with Session(engine) as session:
        deliveries = list(session.scalars(select(Delivery)))
    engine.dispose()
    immediate = Counter(d.status for d in deliveries if d.channel == "immediate")
    checks.check(set(immediate) == {"sent"}, "every immediate alert sent", dict(immediate))
    # A digest goes out once a day: what matched after today's was sent waits for tomorrow's.
    in_digests = Counter(d.status for d in deliveries if d.channel == "digest")
    checks.check(
        set(in_digests) <= {"sent", "pending"} and in_digests["sent"] > 0,
        "digest items sent, or waiting for tomorrow's digest",
        dict(in_digests),
    )
    messages = sink.messages
    digests = len(
        {d.subscriber_id for d in deliveries if d.status == "sent" and d.channel == "digest"}
    )
    checks.check(
        len(messages) == immediate["sent"] + digests,
        "one email per immediate alert and per digest",
        f"{len(messages)} emails: {immediate['sent']} alerts, {digests} digest",
    )
    sent = Counter((str(m["To"]), str(m["Subject"])) for m in messages)
    again = [key for key, n in sent.items() if n > 1]
    checks.check(not again, "no email sent twice", again)
    checks.check(
        len(messages) == after_cycles, "nothing more sent by the later runs", len(messages)
    )


def check_prefect(checks: Checks, triggered: list[Any]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    sources = yaml.safe_load((SAMPLES / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    with get_client(sync_client=True) as client:
        task_names = {run.name for run in client.read_task_runs(limit=200)}
        flow_names = sorted(run.name for run in client.read_flow_runs(limit=200))
        keyed = {
            key: client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            for key in KEYED_ARTIFACTS
        }
        host = urlsplit(SAMPLE_ORIGIN).netloc
        limit = client.read_global_concurrency_limit_by_name(f"host:{host}")
    print(f"  triggered runs: {', '.join(run.name for run in triggered)}")
    print(f"  all flow runs: {', '.join(flow_names)}")
    print(f"  task runs: {', '.join(sorted(task_names))}")
    fetches = {f"fetch {source['id']}" for source in sources}
    checks.check(fetches <= task_names, "a 'fetch <source>' task run per source")
    checks.check(
        any(name.startswith("extract ") and " from " in name for name in task_names),
        "'extract N items from <source>' task runs",
    )
    missing = [key for key, found in keyed.items() if not found]
    checks.check(not missing, "keyed artifacts " + ", ".join(KEYED_ARTIFACTS), missing)
    checks.check(
        limit.active_slots == 0,
        f"per-host limit host:{host} in place and released",
        f"limit {limit.limit}, {limit.active_slots} in use",
    )


if __name__ == "__main__":
    raise SystemExit(main())
