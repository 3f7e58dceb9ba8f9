"""Trace flags: which re-ranking step touched a recommended item, and the final lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.ranking.topk import TopK

FILTER, BOOST, BURY, PIN, MMR, CAP, NOVELTY = 1, 2, 4, 8, 16, 32, 64
FLAG_NAMES: dict[int, str] = {
    FILTER: "filter",
    BOOST: "boost",
    BURY: "bury",
    PIN: "pin",
    MMR: "diversity",
    CAP: "cap",
    NOVELTY: "novelty",
}


@dataclass(frozen=True)
class RankedLists:
    """Final lists plus their trace.

    Attributes
    ----------
    topk : final lists (internal item indices) with the adjusted score of each item (after
        boosts/novelty, on the per-user [0, 1] scale; a pinned item takes the score of the
        slot it took); -1 / -inf pad.
    pool_pos : (n, k) int32 column of each item in its pool row (-1: pinned from outside the pool).
    fused_rank : (n, k) int32 0-based position of the item by fused score alone (-1 if not in pool).
    touched_by : (n, k) uint8 bitmask of ``FLAG_NAMES`` flags.
    rule_hits : (n, k) uint64 bitmask over ``rule_names`` (bit j = rule j matched the item).
    rule_names : labels of the config's rules, in order.
    stats : what each rule/knob changed (counts over all users).
    """

    topk: TopK
    pool_pos: np.ndarray
    fused_rank: np.ndarray
    touched_by: np.ndarray
    rule_hits: np.ndarray
    rule_names: tuple[str, ...]
    stats: dict

    def touched_names(self, row: int, col: int) -> list[str]:
        """Rule labels and knob names (diversity, cap, novelty) that touched one recommended item."""
        bits = int(self.rule_hits[row, col])
        names = [n for j, n in enumerate(self.rule_names) if bits >> j & 1]
        flags = int(self.touched_by[row, col])
        names += [FLAG_NAMES[f] for f in (MMR, CAP, NOVELTY) if flags & f]
        return names
