"""A progress artifact that moves as items are done, whichever task thread finishes them."""

from __future__ import annotations

import threading
import time
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact

# At most one update a second: a run of 2,000 pages must not send 2,000 API calls for a bar.
MIN_INTERVAL = 1.0


class RunProgress:
    """``done`` of ``total`` items as the keyed ``process-progress`` artifact."""

    def __init__(self, total: int, description: str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._lock = threading.Lock()
        self._sent_at = 0.0
        artifact = create_progress_artifact(0.0, key="process-progress", description=description)
        assert isinstance(artifact, UUID)  # the sync call path returns the id directly
        self._artifact = artifact

    def advance(self, items: int = 1) -> None:
        with self._lock:  # updates in order, so the bar never moves back
            self.done += items
            now = time.monotonic()
            if now - self._sent_at >= MIN_INTERVAL:
                self._sent_at = now
                update_progress_artifact(self._artifact, self.percent)

    def finish(self) -> None:
        with self._lock:
            self.done = self.total
            update_progress_artifact(self._artifact, 100.0)

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.done / self.total)
