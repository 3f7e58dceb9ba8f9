"""A ``Stage``: the models of a run fitted on one slice of the data, and what they produced.

A run has up to three stages, so every number it shows is honest:

* ``validation``: fit on the training part minus a validation part; its pool over the
  validation users is where fusion weights and learned fusers are tuned;
* ``test``: fit on the whole training part; its pool over the test users gives the held-out
  metrics the fusion lab shows (touched by nothing that tunes);
* ``full``: fit on all data; serves the recommendations that are exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.evaluation.metrics import MetricReport
from recsys.evaluation.sampling import LAB_SAMPLE_USERS, stratified_sample
from recsys.evaluation.segments import SegmentRule
from recsys.models import Recommender
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion import FusionContext

STAGES: tuple[str, ...] = ("validation", "test", "full")


@dataclass
class Stage:
    """Models fitted on one slice of the data, plus the candidate pool they produced."""

    name: str
    train: Dataset
    truth: sp.csr_matrix | None  # held-out pairs scored against (None for ``full``)
    models: dict[str, Recommender]
    graded: sp.csr_matrix | None = None  # held-out pairs valued by rating or weight
    context: FusionContext | None = None  # side information for learned fusers (lazy)
    pool: CandidatePool | None = None
    exclude: sp.csr_matrix | None = None
    single_reports: dict[str, dict[str, MetricReport]] = field(default_factory=dict)
    rating_errors: dict[str, dict[str, float]] = field(default_factory=dict)
    pool_is_sample: bool = False  # the pool was built on the lab sample only (``train_run``)

    @cached_property
    def activity(self) -> np.ndarray:
        """(n_users,) training interactions per user."""
        return self.train.user_activity()

    @cached_property
    def segment_rule(self) -> SegmentRule:
        """The user-segment rule of this stage's training activity."""
        return SegmentRule.from_activity(self.activity)

    def require_pool(self) -> CandidatePool:
        """The stage's candidate pool (built when the stage was installed)."""
        if self.pool is None:
            raise RuntimeError(f"the {self.name} stage has no candidate pool yet")
        return self.pool

    def sample_rows(self, users: np.ndarray) -> np.ndarray:
        """Positions in ``users`` (n,) of the lab's fixed stratified sample (all when few)."""
        return stratified_sample(self.segment_rule.labels(self.activity[users]), LAB_SAMPLE_USERS)

    @cached_property
    def sample_pool(self) -> CandidatePool:
        """The pool of a fixed, stratified sample of its users (``LAB_SAMPLE_USERS`` at most).

        What the fusion lab re-fuses on every change; the whole pool when it is small.
        """
        pool = self.require_pool()
        if self.pool_is_sample:
            return pool
        rows = self.sample_rows(pool.users)
        return pool if len(rows) == len(pool) else pool.subset(rows)
