"""``Run``: a trained strategy over one dataset, as pages and the CLI use it.

A run is assembled from one class per job, each in its own module:

* ``run_base.RunBase``: data, preset, splits, stages, fusion of a pool;
* ``evaluating.Evaluating``: held-out metrics, tuning on validation, offline A/B;
* ``serving.Serving``: final lists for everyone, a segment, a history or a what-if;
* ``views.Views``: the explorer pages' tables (profile, per-model lists, similar items, audience).

Train one with ``recsys.service.training.train_run``; store and restore it with
``recsys.service.persistence`` (``save_run``, ``load_run``).
"""

from __future__ import annotations

from recsys.service.evaluating import Evaluating, Evaluation
from recsys.service.serving import WHAT_IF_USER, Recommendations
from recsys.service.views import Views


class Run(Evaluating, Views):
    """A trained strategy: evaluate it, serve it, explain it (see the module docstring)."""


__all__ = ["WHAT_IF_USER", "Evaluation", "Recommendations", "Run"]
