"""Training from an ``AppTest`` session: the Train page queues the job (``ui.training_watch``)
and its fragment polls; a test reruns the page until the job is over, as the browser would."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

JOB_KEY = "train_job"


def waiting(at: AppTest) -> bool:
    """True while the session follows a queued or running training."""
    try:
        return bool(at.session_state[JOB_KEY])
    except KeyError:
        return False


def wait_trained(at: AppTest, timeout: float = 300.0) -> AppTest:
    """Rerun ``at`` until its training is over (its run is then the active one)."""
    end = time.monotonic() + timeout
    while waiting(at):
        assert time.monotonic() < end, "the training did not end in time"
        time.sleep(0.3)
        at.run()
    return at


def train(at: AppTest, timeout: float = 300.0) -> AppTest:
    """Press Train on the Train page and wait until the run is trained and saved."""
    at.button(key="tr_go").click().run()
    return wait_trained(at, timeout)
