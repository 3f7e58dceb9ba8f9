"""A weight search that runs beside the page: a background thread with a stop flag.

The Fusion lab starts the search here and returns at once; a small fragment polls the job
(``st.fragment(run_every=...)``) to show trials done and the best so far. Stop sets the flag,
which the search reads before each trial, so it ends after the trial under way and keeps the
best weights found. Nothing here calls Streamlit from the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from recsys.errors import RecsysError
from recsys.evaluation.tuning import TuneResult

log = logging.getLogger(__name__)


@dataclass
class TuneJob:
    """One running (or finished) search: its latest partial result, its result or its error."""

    stop: threading.Event = field(default_factory=threading.Event)
    partial: TuneResult | None = None
    result: TuneResult | None = None
    error: RecsysError | None = None
    thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        """The search has ended (finished, stopped or failed)."""
        return self.thread is not None and not self.thread.is_alive()

    def cancel(self) -> None:
        """Ask the search to stop after the trial under way (the best so far is kept)."""
        self.stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the search to end (tests; the page polls ``done`` instead)."""
        if self.thread is not None:
            self.thread.join(timeout)


def start(
    search: Callable[[Callable[[], bool], Callable[[TuneResult], None]], TuneResult],
) -> TuneJob:
    """Run ``search(stop, on_trial)`` in a daemon thread; returns its job at once."""
    job = TuneJob()

    def on_trial(partial: TuneResult) -> None:
        job.partial = partial

    def target() -> None:
        try:
            job.result = search(job.stop.is_set, on_trial)
        except RecsysError as err:
            job.error = err
        except Exception:  # a bug must not pass silently: logged, shown as the partial result
            log.exception("the weight search failed")
            job.result = job.partial

    job.thread = threading.Thread(target=target, name="fusion-autotune", daemon=True)
    job.thread.start()
    return job
