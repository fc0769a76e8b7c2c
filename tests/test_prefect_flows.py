"""The Prefect flows, run through Prefect's test harness (a real temporary server)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import write_catalogue
from tests.httpserver import Scripted, TestServer
from tests.test_pipeline import page, rss

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Before Prefect is first imported: it reads its home then, and writes there.
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    # A new harness database takes 20 to 35 s to start on these machines.
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_run_flow_polls_processes_retries_io_only_and_reports(
    prefect_harness: None,
    server: TestServer,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.logging.handlers import APILogHandler

    from flows.run import run

    server.write("a/1.html", page("Talks", "Kenya and Uganda signed a border accord."))
    server.scripted["/down.xml"] = Scripted(status=503)
    server.scripted["/gone.xml"] = Scripted(status=404)
    good = server.write("good.xml", rss(("Talks", "{base}/a/1.html", "Kenya.")))
    catalogue = write_catalogue(
        tmp_path / "sources.yaml",
        {"good": good, "down": server.url("down.xml"), "gone": server.url("gone.xml")},
    )
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSDESK_SOURCES_PATH", str(catalogue))
    monkeypatch.setenv("NEWSDESK_HTTP__RETRY_DELAYS", "[0.1, 0.1]")

    state = run(return_state=True)

    assert state.is_completed()
    report = state.result()
    assert report.new_items == 1
    assert report.processed == 1
    assert dict(report.countries) == {"KE": 1, "UG": 1}
    assert {p.source_id: p.status for p in report.polls} == {
        "down": "failed",
        "gone": "failed",
        "good": "fetched",
    }
    # Network failures that may pass are retried; a 404 is not.
    assert len(server.requests_to("down.xml")) == 3
    assert len(server.requests_to("gone.xml")) == 1

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["newsdesk-cycle"]))
        )
    assert artifacts
    assert "| good | fetched | 1 | 1 |" in str(artifacts[-1].data)
    with get_client(sync_client=True) as client:
        keyed = {
            key: client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            for key in (
                "sources-polled",
                "new-items",
                "source-health",
                "latest-items",
                "process-progress",
                "alerts",
            )
        }
        names = {run.name for run in client.read_task_runs()}
    assert all(keyed.values()), [key for key, found in keyed.items() if not found]
    health = str(keyed["source-health"][-1].data)
    assert "| down | 1 |" in health
    assert "| gone | 1 |" in health
    assert "Kenya (KE)" in str(keyed["latest-items"][-1].data)
    assert float(str(keyed["process-progress"][-1].data)) == 100.0
    assert {"fetch good", "fetch down", "extract 1 item from good"} <= names

    APILogHandler().flush()  # logs reach the API in batches
    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs()
        runs = client.read_task_runs()
        logs = [log.message for log in client.read_logs(limit=200)]
        host = urlsplit(server.url("")).netloc
        host_limit = client.read_global_concurrency_limit_by_name(f"host:{host}")
    # Named by stage and scheduled minute, so the runs list reads like a log.
    stamped = re.compile(r"(cycle|poll|process|alert) \d{4}-\d\d-\d\d \d\d:\d\d")
    assert {r.name.split()[0] for r in flow_runs if stamped.fullmatch(r.name)} == {
        "cycle",
        "poll",
        "process",
        "alert",
    }
    tagged = {run.name: set(run.tags) for run in runs}
    # A failing source is a red task with its reason, and a line in the log, not a traceback.
    states = {run.name: run.state for run in runs}
    gone = states["fetch gone"]
    assert gone is not None and gone.is_failed()
    assert gone.message is not None and "HTTP 404" in gone.message
    assert any("Retry 1/2 will start" in line for line in logs)
    assert any("down failed: " in line for line in logs)
    assert not [line for line in logs if "Traceback" in line]
    assert {"news", "source:good", "from:GB"} <= tagged["extract 1 item from good"]
    # Every request held a slot of its host's limit, created with the per-host setting.
    assert host_limit.limit == 2
    assert host_limit.active_slots == 0


def test_host_gate_holds_requests_to_the_global_limit(prefect_harness: None) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    from config.errors import FetchTimeout
    from flows.host_limits import PrefectHostGate

    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="host:tuned.test", limit=1)
        )

    async def peak_in_flight(gate: PrefectHostGate, host: str, holders: int, room: int) -> int:
        """Holders stay inside until ``room`` of them are (or 10 s pass), then leave."""
        in_flight = peak = 0
        full = asyncio.Event()

        async def hold() -> None:
            nonlocal in_flight, peak
            async with gate(host):
                in_flight += 1
                peak = max(peak, in_flight)
                if in_flight >= room:
                    full.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), 10)
                await asyncio.sleep(0.3)
                in_flight -= 1

        await asyncio.gather(*(hold() for _ in range(holders)))
        await gate.aclose()
        return peak

    # Two slots: two requests in flight together, never a third.
    assert asyncio.run(peak_in_flight(PrefectHostGate(2, 60), "two.test", 5, room=2)) == 2
    # An operator lowered this host's limit to one in the UI: it holds across the process's
    # own two slots, and it is never reset to the setting.
    assert asyncio.run(peak_in_flight(PrefectHostGate(2, 60), "tuned.test", 3, room=1)) == 1
    # Turned off (NEWSDESK_HTTP__GLOBAL_HOST_LIMITS=false): only the process's own share.
    local_only = PrefectHostGate(2, 60, across_processes=False)
    assert asyncio.run(peak_in_flight(local_only, "local.test", 3, room=2)) == 2
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name("host:tuned.test").limit == 1
        assert client.read_global_concurrency_limit_by_name("host:two.test").active_slots == 0
        with pytest.raises(ObjectNotFound):
            client.read_global_concurrency_limit_by_name("host:local.test")

    async def second_waits_too_long() -> None:
        patient = PrefectHostGate(slots=1, wait_seconds=60)
        hasty = PrefectHostGate(slots=1, wait_seconds=0.5)
        try:
            async with patient("busy.test"), hasty("busy.test"):
                pass
        finally:
            await patient.aclose()
            await hasty.aclose()

    with pytest.raises(FetchTimeout, match=r"no free slot on busy.test within 0.5 s"):
        asyncio.run(second_waits_too_long())


def test_a_stage_that_cannot_run_fails_with_one_line_saying_why(
    prefect_harness: None, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    from flows.poll import poll
    from flows.run import run

    broken = tmp_path / "sources.yaml"
    broken.write_text("sources:\n  - id: x\n    name: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSDESK_SOURCES_PATH", str(broken))

    state = poll(return_state=True)
    cycle = run(return_state=True)

    assert state.is_failed() and cycle.is_failed()
    assert state.message is not None and "sources.yaml" in state.message
    # The cycle names its failed stage's reason, not "a subflow failed".
    assert cycle.message == state.message
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        for failed in (state, cycle):
            flow_run_id = failed.state_details.flow_run_id
            assert flow_run_id is not None
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            lines = [log.message for log in logs]
            assert any(line.startswith("stage failed: ") for line in lines)
            assert not [line for line in lines if "Traceback" in line]
