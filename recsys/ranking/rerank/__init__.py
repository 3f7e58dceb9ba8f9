"""Re-ranking after fusion: exclusions, merchandising rules, novelty, MMR diversity and caps.

One module per concept: ``items`` (``ItemTable``), ``exclusions``, ``rules`` (``Rule``),
``config`` (``RerankConfig``), ``trace`` (flags and ``RankedLists``), ``lists`` (``rerank``).
"""

from recsys.ranking.rerank.config import RerankConfig
from recsys.ranking.rerank.exclusions import EXCLUDE_MODES, exclusion_matrix
from recsys.ranking.rerank.items import ItemTable
from recsys.ranking.rerank.lists import rerank
from recsys.ranking.rerank.rules import OPS, RULE_KINDS, RULE_SEGMENTS, Rule
from recsys.ranking.rerank.trace import (
    BOOST,
    BURY,
    CAP,
    FILTER,
    FLAG_NAMES,
    MMR,
    NOVELTY,
    PIN,
    RankedLists,
)

__all__ = [
    "BOOST",
    "BURY",
    "CAP",
    "EXCLUDE_MODES",
    "FILTER",
    "FLAG_NAMES",
    "MMR",
    "NOVELTY",
    "OPS",
    "PIN",
    "RULE_KINDS",
    "RULE_SEGMENTS",
    "ItemTable",
    "RankedLists",
    "RerankConfig",
    "Rule",
    "exclusion_matrix",
    "rerank",
]
