"""What an online A/B test needs from a trained run: each variant's lists for its own users.

``variant_lists`` serves every variant's users with that variant's strategy (a ``Preset``: its
fusion and re-ranking) from the run's models fitted on all data, block by block
(``recsys.service.blocks.BlockRanker``, as the streaming export does), and tags each row with the
variant, so the store can load one file next to the assignment file
(``recsys.evaluation.abtest.assign``). Assigned users the run does not know (no events yet)
get no rows; ``unknown`` counts them so the interface can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.errors import ConfigError
from recsys.service.batch_export import DEFAULT_BLOCK_USERS, user_blocks
from recsys.service.blocks import BlockRanker
from recsys.service.preset import Preset
from recsys.service.run import Run


@dataclass(frozen=True)
class VariantLists:
    """Every variant's lists (``variant`` column first) and the assigned users without a list."""

    table: pd.DataFrame
    unknown: dict[str, int]


def variant_lists(
    run: Run,
    assignment: pd.DataFrame,
    strategies: Mapping[str, Preset],
    *,
    k: int | None = None,
) -> VariantLists:
    """Lists of each variant's users under its strategy (module docstring).

    Parameters
    ----------
    run : a run with a ``full`` stage.
    assignment : ``user_id, variant`` (as ``assign`` returns it).
    strategies : variant -> the preset that variant serves; every variant needs one.
    k : list length (default: each preset's own).
    """
    missing = sorted(set(assignment["variant"].astype(str)) - set(strategies))
    if missing:
        raise ConfigError(f"choose a strategy for every variant; missing: {', '.join(missing)}.")
    known = run.dataset.user_ids.to_internal(
        assignment["user_id"].astype(str).tolist(), strict=False
    )
    frames, unknown = [], {}
    for variant, preset in strategies.items():
        mine = (assignment["variant"].astype(str) == variant).to_numpy()
        users = assignment.loc[mine & (known >= 0), "user_id"].astype(str).tolist()
        unknown[variant] = int((mine & (known < 0)).sum())
        if not users:
            continue
        rerank = preset.rerank
        if k is not None:
            rerank = type(rerank).from_dict({**rerank.to_dict(), "k": int(k)})
        ranker = BlockRanker.from_run(run, preset.fusion, rerank, columns={"preset_id": preset.id})
        internal = run.dataset.user_ids.to_internal(users).astype(np.int32)
        for block in user_blocks(internal, ranker.aligned(DEFAULT_BLOCK_USERS)):
            table = ranker.table(block)
            table.insert(0, "variant", variant)
            frames.append(table)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["variant"])
    return VariantLists(out, unknown)


def activity_segments(run: Run, user_ids: pd.Series) -> np.ndarray:
    """(n,) activity segment (``new|cold|regular|heavy``) of each user, for stratification."""
    idx = run.dataset.user_ids.to_internal(user_ids.astype(str).tolist(), strict=False)
    labels = np.full(len(idx), "new", dtype=object)
    ok = idx >= 0
    labels[ok] = run.segments("full", idx[ok].astype(np.int32))
    return labels


__all__ = ["VariantLists", "activity_segments", "variant_lists"]
