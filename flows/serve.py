"""Serve the ``run`` flow on a schedule from this process: ``python -m flows.serve``."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.run import run

# Polling is cheap when feeds answer 304, and each source keeps its own poll interval, so a
# short cycle only decides how quickly a due feed is noticed.
CYCLE_SECONDS = 300


def main() -> None:
    deployment = run.to_deployment(
        name="newsdesk-run",
        interval=CYCLE_SECONDS,
        tags=["newsdesk"],
        description="Poll due feeds, then process new items (one cycle).",
        concurrency_limit=1,  # a slow cycle is never overlapped by the next one
    )
    assert isinstance(deployment, RunnerDeployment)  # the sync call path returns it directly
    serve(deployment)


if __name__ == "__main__":
    main()
