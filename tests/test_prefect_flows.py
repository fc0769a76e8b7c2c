"""The Prefect flows, run through Prefect's test harness (a real temporary server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
            )
        }
        names = {run.name for run in client.read_task_runs()}
    assert all(keyed.values()), [key for key, found in keyed.items() if not found]
    health = str(keyed["source-health"][-1].data)
    assert "| down | 1 |" in health
    assert "| gone | 1 |" in health
    assert "Kenya (KE)" in str(keyed["latest-items"][-1].data)
    assert float(str(keyed["process-progress"][-1].data)) == 100.0
    assert {"fetch good", "fetch down", "extract items from good"} <= names
