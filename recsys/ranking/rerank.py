"""Re-ranking after fusion: exclusions, merchandising rules, novelty, MMR diversity and caps.

Everything works on the candidate pool, vectorised over users (the greedy MMR / cap selection
loops over the k positions only). Each step reports what it changed in ``RankedLists.stats``
and leaves a trace per recommended item (``touched_by`` flags, ``rule_hits`` bits).

Order of the steps, on the fused score normalised per user to [0, 1]:
boost/bury rules (multiply) -> novelty (subtract) -> filter rules (drop) -> greedy selection
(MMR + caps, or plain top-k) -> pins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.schema import Col
from recsys.errors import ConfigError
from recsys.evaluation.segments import SEGMENTS
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.topk import TopK, top_k_indices

# ------------------------------------------------------------------ trace flags
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

RULE_KINDS = ("filter", "boost", "bury", "pin")
OPS = ("==", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "contains")
#: Who a pin rule applies to: everyone or one user segment (``recsys.evaluation.segments``).
RULE_SEGMENTS: tuple[str, ...] = ("all", *SEGMENTS)
EXCLUDE_MODES = ("seen", "purchased", "none")


# ====================================================================== item table


def _codes(values, names: Sequence[str] | None, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes (-1 unknown) and their names from codes or labels."""
    if values is None:
        return np.full(n, -1, np.int32), tuple(names or ())
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int32), tuple(names or ())
    s = pd.Series(arr, dtype=object)
    s = s.where(s.notna() & (s.astype(str).str.strip() != ""), None)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int32), tuple(str(u) for u in uniques)


@dataclass(eq=False)
class ItemTable:
    """Per-item arrays the re-ranker needs, in internal item order.

    Attributes
    ----------
    category, brand : (n_items,) int32 codes, -1 unknown; names in ``category_names``/``brand_names``.
    popularity : (n_items,) interaction counts.
    vectors : (n_items, d) float32 unit-norm content vectors (zero rows for unknown), or None.
    catalog : the catalog frame (``item_id`` + attribute columns) that rules read, or None.
    """

    category: np.ndarray
    brand: np.ndarray
    popularity: np.ndarray
    vectors: np.ndarray | None = None
    catalog: pd.DataFrame | None = None
    category_names: tuple[str, ...] = ()
    brand_names: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_arrays(
        cls,
        n_items: int | None = None,
        *,
        category=None,
        brand=None,
        popularity=None,
        vectors: np.ndarray | None = None,
        catalog: pd.DataFrame | None = None,
        category_names: Sequence[str] | None = None,
        brand_names: Sequence[str] | None = None,
    ) -> ItemTable:
        """Build from codes or labels; missing category/brand are read from ``catalog`` if present.

        Vectors are L2-normalised (zero rows stay zero).
        """
        if n_items is None:
            for a in (category, brand, popularity, vectors, catalog):
                if a is not None:
                    n_items = len(a)
                    break
            else:
                raise ValueError("ItemTable needs n_items or at least one per-item array")
        if category is None and catalog is not None and Col.CATEGORY in catalog.columns:
            category = catalog[Col.CATEGORY].to_numpy()
        if brand is None and catalog is not None and Col.BRAND in catalog.columns:
            brand = catalog[Col.BRAND].to_numpy()
        cat, cat_names = _codes(category, category_names, n_items)
        br, br_names = _codes(brand, brand_names, n_items)
        pop = (
            np.zeros(n_items, np.float32)
            if popularity is None
            else np.asarray(popularity, np.float32)
        )
        vec = None
        if vectors is not None:
            vec = np.asarray(vectors, np.float32)
            norms = np.linalg.norm(vec, axis=1, keepdims=True)
            vec = np.where(norms > 0, vec / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        for name, a in (("category", cat), ("brand", br), ("popularity", pop), ("vectors", vec)):
            if a is not None and len(a) != n_items:
                raise ValueError(f"ItemTable: {name} has {len(a)} rows, expected {n_items}")
        return cls(cat, br, pop, vec, catalog, cat_names, br_names)

    @property
    def n_items(self) -> int:
        return len(self.category)

    @property
    def pop_norm(self) -> np.ndarray:
        """(n_items,) ``log1p(pop) / log1p(max pop)`` in [0, 1]."""
        if "pop_norm" not in self._cache:
            top = np.log1p(max(float(self.popularity.max(initial=0.0)), 0.0))
            p = np.log1p(np.maximum(self.popularity, 0.0))
            self._cache["pop_norm"] = (p / top if top > 0 else np.zeros_like(p)).astype(np.float32)
        return self._cache["pop_norm"]

    def item_index(self, item_id: Any) -> int:
        """Internal index of an external item id (``ConfigError`` if unknown)."""
        if self.catalog is None or Col.ITEM not in self.catalog.columns:
            raise ConfigError("pinning needs the catalog's item ids.")
        key = "item_index"
        if key not in self._cache:
            self._cache[key] = pd.Index(self.catalog[Col.ITEM].astype(str))
        idx = self._cache[key].get_indexer([str(item_id)])[0]
        if idx < 0:
            raise ConfigError(f"item '{item_id}' is not in the catalog.")
        return int(idx)


# ====================================================================== exclusions


def exclusion_matrix(
    interactions,
    purchased: sp.spmatrix | None = None,
    item_category: np.ndarray | None = None,
    mode: str = "seen",
    repurchasable_categories: Sequence = (),
) -> sp.csr_matrix:
    """Items never to recommend to each user: what they saw or bought, minus repurchasable goods.

    Parameters
    ----------
    interactions : (n_users, n_items) sparse matrix of seen pairs, or a ``Dataset`` (then
        ``purchased`` and ``item_category`` are read from it).
    purchased : (n_users, n_items) sparse matrix of purchased pairs (needed for ``"purchased"``).
    item_category : (n_items,) category code or label per item.
    mode : ``"seen"`` | ``"purchased"`` | ``"none"``.
    repurchasable_categories : categories (same codes/labels as ``item_category``) whose items
        may be recommended again (chargers, cables ...).

    Returns
    -------
    (n_users, n_items) csr with ones where excluded.
    """
    if mode not in EXCLUDE_MODES:
        raise ConfigError(f"unknown exclusion mode '{mode}'. Known: {', '.join(EXCLUDE_MODES)}.")
    if hasattr(interactions, "interactions") and hasattr(interactions, "matrix"):
        ds = interactions
        frame = ds.interactions
        bought = frame[Col.PURCHASED].to_numpy(bool)
        purchased = sp.csr_matrix(
            (
                np.ones(int(bought.sum()), np.float32),
                (frame[Col.USER_IDX].to_numpy()[bought], frame[Col.ITEM_IDX].to_numpy()[bought]),
            ),
            shape=(ds.n_users, ds.n_items),
        )
        if item_category is None:
            item_category = ds.catalog_column(Col.CATEGORY)
        interactions = ds.matrix("ones")
    seen = sp.csr_matrix(interactions)
    if mode == "none":
        return sp.csr_matrix(seen.shape, dtype=np.float32)
    if mode == "purchased":
        if purchased is None:
            raise ConfigError("excluding purchased items needs purchase events in the data.")
        base = sp.csr_matrix(purchased)
    else:
        base = seen
    out = (base != 0).astype(np.float32).tocsr()
    if len(repurchasable_categories) and item_category is not None:
        cats = np.asarray(
            item_category, dtype=object if np.asarray(item_category).dtype.kind in "OUS" else None
        )
        again = np.isin(cats, np.asarray(list(repurchasable_categories), dtype=cats.dtype))
        out = (out @ sp.diags((~again).astype(np.float32))).tocsr()
        out.eliminate_zeros()
    return out


# ====================================================================== rules


@dataclass
class Rule:
    """A merchandising rule on any catalog column.

    kind : ``filter`` (keep only matching items), ``boost`` (factor > 1) / ``bury``
        (0 <= factor < 1) multiply the normalised score of matching items, ``pin`` puts
        ``item_id`` at 1-based ``position`` for users of ``segment`` (all|cold|regular|heavy).
    op : one of ``==, !=, <, <=, >, >=, between, in, not_in, contains``; ``between`` takes
        ``[low, high]`` (inclusive), ``in``/``not_in`` a list, ``contains`` a substring
        (case-insensitive). Missing values never match (except under ``!=`` and ``not_in``).
    """

    kind: str
    column: str | None = None
    op: str = "=="
    value: Any = None
    factor: float = 1.0
    item_id: str | None = None
    position: int = 1
    segment: str = "all"
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            known = ", ".join(RULE_KINDS)
            raise ConfigError(
                f"unknown rule kind '{self.kind}'. Known: {known}.",
                code="rule.unknown_kind",
                params={"kind": self.kind, "known": known},
            )
        if self.kind == "pin":
            if self.item_id is None or str(self.item_id) == "":
                raise ConfigError(
                    "a pin rule needs the id of the item to pin.", code="rule.pin_needs_item"
                )
            if int(self.position) < 1:
                raise ConfigError("a pin position starts at 1.", code="rule.pin_position")
            self.position = int(self.position)
            if self.segment not in RULE_SEGMENTS:
                known = ", ".join(RULE_SEGMENTS)
                raise ConfigError(
                    f"unknown segment '{self.segment}'. Known: {known}.",
                    code="rule.unknown_segment",
                    params={"segment": self.segment, "known": known},
                )
            return
        if not self.column:
            raise ConfigError(
                f"a {self.kind} rule needs a catalog column.",
                code="rule.needs_column",
                params={"kind": self.kind},
            )
        if self.op not in OPS:
            known = ", ".join(OPS)
            raise ConfigError(
                f"unknown operator '{self.op}'. Known: {known}.",
                code="rule.unknown_op",
                params={"op": self.op, "known": known},
            )
        if self.op == "between" and (
            not isinstance(self.value, list | tuple) or len(self.value) != 2
        ):
            raise ConfigError(
                "'between' needs two values: [low, high].", code="rule.between_two_values"
            )
        if self.op in ("in", "not_in") and not isinstance(self.value, list | tuple | set):
            raise ConfigError(
                f"'{self.op}' needs a list of values.",
                code="rule.needs_list",
                params={"op": self.op},
            )
        self.factor = float(self.factor)
        if self.kind == "boost" and not self.factor > 1:
            raise ConfigError(
                "a boost factor must be above 1 (use bury to push items down).",
                code="rule.boost_factor",
            )
        if self.kind == "bury" and not 0 <= self.factor < 1:
            raise ConfigError("a bury factor must be between 0 and 1.", code="rule.bury_factor")

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "pin":
            return f"pin {self.item_id} at {self.position}" + (
                "" if self.segment == "all" else f" ({self.segment})"
            )
        extra = f" x{self.factor:g}" if self.kind in ("boost", "bury") else ""
        return f"{self.kind} {self.column} {self.op} {self.value}{extra}"

    def to_dict(self) -> dict:
        value = list(self.value) if isinstance(self.value, tuple | set) else self.value
        return {
            "kind": self.kind,
            "column": self.column,
            "op": self.op,
            "value": value,
            "factor": self.factor,
            "item_id": self.item_id,
            "position": self.position,
            "segment": self.segment,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Rule:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            names = ", ".join(unknown)
            raise ConfigError(
                f"unknown rule setting(s) {names}.",
                code="rule.unknown_settings",
                params={"names": names},
            )
        if "kind" not in data:
            raise ConfigError(
                "a rule needs a kind (filter, boost, bury or pin).", code="rule.needs_kind"
            )
        return cls(**data)

    def mask(self, items: ItemTable) -> np.ndarray:
        """(n_items,) bool: the catalog items this filter/boost/bury rule matches (cached)."""
        key = ("rule", repr(self.to_dict()))
        if key in items._cache:
            return items._cache[key]
        cat = items.catalog
        if cat is None or self.column not in cat.columns:
            known = ", ".join(map(str, cat.columns)) if cat is not None else "none"
            raise ConfigError(
                f"rule '{self.label}': the catalog has no column '{self.column}' (columns: {known}).",
                code="rule.no_column",
                params={"rule": self.label, "column": self.column, "known": known},
            )
        col = cat[self.column]
        out = _match(col, self.op, self.value, self.label)
        out = np.asarray(out, dtype=bool)
        items._cache[key] = out
        return out


def _coerce(col: pd.Series, value):
    """Bring a JSON value to the column's type (numbers for numeric, bools for booleans)."""
    if pd.api.types.is_bool_dtype(col) and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, bool):
        return value
    return value


def _match(col: pd.Series, op: str, value, label: str) -> np.ndarray:
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    try:
        if op in ("<", "<=", ">", ">=", "between"):
            x = pd.to_numeric(col, errors="coerce") if not numeric else col
            if op == "between":
                lo, hi = (float(v) for v in value)
                m = (x >= lo) & (x <= hi)
            else:
                v = float(value)
                m = {"<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]
            return m.fillna(False).to_numpy(bool)
        if op in ("==", "!="):
            v = _coerce(col, value)
            if numeric or pd.api.types.is_bool_dtype(col):
                m = col == v
            else:
                m = col.astype(str).str.lower() == str(v).lower()
                m &= col.notna()
            m = m.fillna(False).to_numpy(bool)
            return m if op == "==" else ~m
        if op in ("in", "not_in"):
            vals = [_coerce(col, v) for v in value]
            if numeric or pd.api.types.is_bool_dtype(col):
                m = col.isin(vals)
            else:
                m = col.astype(str).str.lower().isin([str(v).lower() for v in vals]) & col.notna()
            m = m.fillna(False).to_numpy(bool)
            return m if op == "in" else ~m
        # contains
        m = col.astype(str).str.contains(str(value), case=False, regex=False) & col.notna()
        return m.fillna(False).to_numpy(bool)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"rule '{label}' cannot compare column values with {value!r}: {exc}",
            code="rule.cannot_compare",
            params={"rule": label, "value": repr(value), "reason": str(exc)},
        ) from None


# ====================================================================== config


@dataclass
class RerankConfig:
    """Re-ranking knobs.

    k : list length. exclude : ``seen`` | ``purchased`` | ``none`` (applied at pool build).
    repurchasable_categories : categories exempt from exclusion.
    mmr_lambda : 1 = pure relevance, 0 = pure diversity (MMR over content vectors).
    category_cap, brand_cap : at most N items of one category / brand per list (None = off).
    novelty : gamma >= 0, ``score - gamma * log1p(pop) / log1p(max pop)``.
    rules : ``Rule`` list, applied in order within their kind.
    diversity_depth : T, candidates the greedy MMR / cap selection looks at (default max(3k, 50)).
    """

    k: int = 10
    exclude: str = "seen"
    repurchasable_categories: list = field(default_factory=list)
    mmr_lambda: float = 1.0
    category_cap: int | None = None
    brand_cap: int | None = None
    novelty: float = 0.0
    rules: list[Rule] = field(default_factory=list)
    diversity_depth: int | None = None

    def __post_init__(self) -> None:
        try:
            self.k = int(self.k)
        except (TypeError, ValueError):
            raise ConfigError("the list length k must be a whole number.") from None
        if self.k < 1:
            raise ConfigError("the list length k must be at least 1.")
        if self.exclude not in EXCLUDE_MODES:
            raise ConfigError(
                f"unknown exclusion mode '{self.exclude}'. Known: {', '.join(EXCLUDE_MODES)}."
            )
        self.mmr_lambda = float(self.mmr_lambda)
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ConfigError("the diversity knob (MMR lambda) must be between 0 and 1.")
        for name in ("category_cap", "brand_cap", "diversity_depth"):
            v = getattr(self, name)
            if v is not None:
                if int(v) < 1:
                    raise ConfigError(
                        f"{name.replace('_', ' ')} must be at least 1 (or empty for no limit)."
                    )
                setattr(self, name, int(v))
        self.novelty = float(self.novelty)
        if not self.novelty >= 0:
            raise ConfigError("the novelty knob must be zero or positive.")
        self.rules = [r if isinstance(r, Rule) else Rule.from_dict(r) for r in self.rules]
        self.repurchasable_categories = list(self.repurchasable_categories)

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "exclude": self.exclude,
            "repurchasable_categories": list(self.repurchasable_categories),
            "mmr_lambda": self.mmr_lambda,
            "category_cap": self.category_cap,
            "brand_cap": self.brand_cap,
            "novelty": self.novelty,
            "rules": [r.to_dict() for r in self.rules],
            "diversity_depth": self.diversity_depth,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RerankConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown re-ranking setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        return cls(**data)


# ====================================================================== result


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


# ====================================================================== rerank


def _pool_topk(score: np.ndarray, k: int) -> np.ndarray:
    """(n, k) int32 columns of the k best finite scores per row, best first, -1 padding.

    On narrow pool rows k ``argmax`` passes beat ``argpartition`` by ~4x for small k; ties go to
    the lower column (deterministic). Falls back to ``top_k_indices`` for large k.
    """
    n, c = score.shape
    k = min(k, c)
    if k > 32:
        return top_k_indices(score, k)[0]
    work = np.array(score, dtype=np.float32, copy=True)
    rows = np.arange(n)
    out = np.empty((n, k), np.int32)
    for p in range(k):
        a = work.argmax(axis=1)
        ok = work[rows, a] > -np.inf
        out[:, p] = np.where(ok, a, -1)
        work[rows, a] = -np.inf
    return out


def _mask_of(pos: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    r, c = np.nonzero(pos >= 0)
    mask[r, pos[r, c]] = True
    return mask


def _topk_mask(score: np.ndarray, k: int) -> np.ndarray:
    return _mask_of(_pool_topk(score, k), score.shape)


def _row_minmax(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-row min-max to [0, 1] over ``valid`` (constant rows -> 1); -inf elsewhere."""
    x = x.astype(np.float32, copy=False)
    lo = np.where(valid, x, np.inf).min(axis=1, keepdims=True)
    hi = np.where(valid, x, -np.inf).max(axis=1, keepdims=True)
    span = hi - lo
    const = ~(span > 0)
    inv = np.where(const, 0.0, 1.0 / np.where(const, 1.0, span)).astype(np.float32)
    with np.errstate(invalid="ignore"):
        out = (x - lo) * inv + const.astype(np.float32)
    out[~valid] = -np.inf
    return out


def _effect(before: np.ndarray, after: np.ndarray, **extra) -> dict:
    return {
        **extra,
        "entered_top_k": int((after & ~before).sum()),
        "left_top_k": int((before & ~after).sum()),
    }


def rerank(
    pool: CandidatePool,
    fused: np.ndarray,
    config: RerankConfig,
    items: ItemTable,
    user_segments: np.ndarray | None = None,
) -> RankedLists:
    """Turn fused pool scores into final top-k lists with rules, novelty and diversity.

    Parameters
    ----------
    pool : the candidate pool (n users, C candidates).
    fused : (n, C) fused scores (-inf on padding), from ``fusion.fuse``.
    config : the knobs and rules.
    items : per-item arrays (category, brand, popularity, vectors, catalog).
    user_segments : (n,) labels ``cold|regular|heavy`` per pool row, needed by segment pins.
    """
    n, c = fused.shape
    k = config.k
    if len(config.rules) > 64:
        raise ConfigError("at most 64 rules can be applied at once.")
    if fused.shape != pool.items.shape:
        raise ValueError(f"fused scores {fused.shape} do not match the pool {pool.items.shape}")
    safe_items = np.maximum(pool.items, 0)
    valid = pool.valid & np.isfinite(fused)
    score = _row_minmax(fused, valid)
    base_pos = _pool_topk(score, k)
    baseline = _mask_of(base_pos, (n, c))
    current = baseline
    changed = False  # did any step change scores or the candidate set?
    flags = np.zeros((n, c), np.uint8)
    bits = np.zeros((n, c), np.uint64)
    rule_names = tuple(r.label for r in config.rules)
    stats: dict[str, Any] = {"users": n, "k": k, "pool_cells": int(valid.sum())}

    # boosts and buries: multiply the normalised score
    for j, rule in enumerate(config.rules):
        if rule.kind not in ("boost", "bury"):
            continue
        m = rule.mask(items)[safe_items] & valid
        np.multiply(score, np.float32(rule.factor), out=score, where=m)
        changed = True
        np.bitwise_or(flags, BOOST if rule.kind == "boost" else BURY, out=flags, where=m)
        np.bitwise_or(bits, np.uint64(1 << j), out=bits, where=m)
        after = _topk_mask(score, k)
        stats[rule.label] = _effect(current, after, kind=rule.kind, matched_cells=int(m.sum()))
        current = after

    # novelty: discount popular items
    if config.novelty > 0:
        score -= np.float32(config.novelty) * items.pop_norm[safe_items]  # -inf stays -inf
        changed = True
        after = _topk_mask(score, k)
        np.bitwise_or(flags, NOVELTY, out=flags, where=after & ~current)
        stats["novelty"] = _effect(current, after, kind="novelty", gamma=config.novelty)
        current = after

    # filters: keep only matching items
    for j, rule in enumerate(config.rules):
        if rule.kind != "filter":
            continue
        keep = rule.mask(items)[safe_items]
        removed = valid & ~keep
        valid = valid & keep
        score[removed] = -np.inf
        changed = True
        np.bitwise_or(flags, FILTER, out=flags, where=valid)
        np.bitwise_or(bits, np.uint64(1 << j), out=bits, where=valid)
        after = _topk_mask(score, k)
        stats[rule.label] = _effect(current, after, kind="filter", removed_cells=int(removed.sum()))
        current = after

    # selection: greedy MMR / caps over the top-T, or plain top-k
    if config.mmr_lambda < 1.0 or config.category_cap or config.brand_cap:
        pos, sel_flags, sel_stats = _greedy_select(pool, score, config, items)
        stats.update(sel_stats)
    else:
        pos = _pool_topk(score, k) if changed else base_pos
        sel_flags = np.zeros(pos.shape, np.uint8)
    if pos.shape[1] < k:  # pool narrower than k
        pos = np.concatenate([pos, np.full((n, k - pos.shape[1]), -1, np.int32)], axis=1)
        sel_flags = np.concatenate(
            [sel_flags, np.zeros((n, k - sel_flags.shape[1]), np.uint8)], axis=1
        )
    ok = pos >= 0
    sp_ = np.maximum(pos, 0)
    out_items = np.where(ok, np.take_along_axis(pool.items, sp_, 1), -1).astype(np.int32)
    out_scores = np.where(ok, np.take_along_axis(score, sp_, 1), -np.inf).astype(np.float32)
    out_flags = np.where(ok, np.take_along_axis(flags, sp_, 1) | sel_flags, 0).astype(np.uint8)
    out_bits = np.where(ok, np.take_along_axis(bits, sp_, 1), np.uint64(0)).astype(np.uint64)
    out_pos = pos.astype(np.int32)

    # pins
    for j, rule in enumerate(config.rules):
        if rule.kind != "pin":
            continue
        out_items, out_pos, out_scores, out_flags, out_bits, pin_stats = _apply_pin(
            rule, j, pool, items, user_segments, out_items, out_pos, out_scores, out_flags, out_bits
        )
        stats[rule.label] = pin_stats

    fused_rank = _fused_rank(fused, pool.valid, out_pos, base_pos)
    final_mask = np.zeros((n, c), bool)
    r, cidx = np.nonzero(out_pos >= 0)
    final_mask[r, out_pos[r, cidx]] = True
    stats["changed"] = {
        "new_items_vs_fused": int((final_mask & ~baseline).sum()),
        "reordered_positions": int(((fused_rank != np.arange(k)[None]) & (out_items >= 0)).sum()),
        "users_changed": int(
            ((fused_rank != np.arange(k)[None]) & (out_items >= 0)).any(axis=1).sum()
        ),
        "short_lists": int((out_items < 0).any(axis=1).sum()),
    }
    return RankedLists(
        topk=TopK(pool.users, out_items, out_scores),
        pool_pos=out_pos,
        fused_rank=fused_rank,
        touched_by=out_flags,
        rule_hits=out_bits,
        rule_names=rule_names,
        stats=stats,
    )


def _greedy_select(
    pool: CandidatePool, score: np.ndarray, config: RerankConfig, items: ItemTable
) -> tuple[np.ndarray, np.ndarray, dict]:
    """MMR (Carbonell & Goldstein, SIGIR 1998) with per-list category/brand caps.

    Over the top-T candidates by ``score``: ``mmr(i) = lam * rel(i) - (1 - lam) * max_{j in S}
    cos(v_i, v_j)``, rel = score min-max normalised over the T; pick the argmax among items that
    respect the caps, k times (loop over positions, vectorised over users). Items of unknown
    category/brand (-1) are never capped. Returns pool positions (n, k), flags, stats.
    """
    n, c = score.shape
    k = config.k
    lam = config.mmr_lambda
    t = min(c, config.diversity_depth or max(3 * k, 50))
    # a full stable argsort of narrow pool rows beats argpartition here
    cand = np.argsort(-score, axis=1, kind="stable")[:, :t].astype(np.int32)
    cand_score = np.take_along_axis(score, cand, 1)
    cand[~np.isfinite(cand_score)] = -1
    avail = cand >= 0
    rel = _row_minmax(cand_score, avail)
    rel = np.where(avail, rel, 0.0)
    rows = np.arange(n)
    item_of = np.where(avail, pool.items[rows[:, None], np.maximum(cand, 0)], -1)
    use_mmr = lam < 1.0
    if use_mmr:
        if items.vectors is None:
            raise ConfigError(
                "diversity (MMR) needs item content vectors; set the diversity knob to 1."
            )
        vec = items.vectors[np.maximum(item_of, 0)] * avail[:, :, None]
        max_sim = np.zeros((n, t), np.float32)
    caps = [
        (cap, np.where(avail, codes[np.maximum(item_of, 0)], -1), np.zeros((n, t), np.int32))
        for cap, codes in ((config.category_cap, items.category), (config.brand_cap, items.brand))
        if cap
    ]
    chosen = np.full((n, k), -1, np.int32)
    sel_flags = np.zeros((n, k), np.uint8)
    moved = capped = 0
    neg = np.float32(-np.inf)
    for p in range(min(k, t)):
        allowed = avail.copy()
        for cap, codes, cnt in caps:
            allowed &= ~((codes >= 0) & (cnt >= cap))
        obj = lam * rel - (1.0 - lam) * max_sim if use_mmr else rel
        masked = np.where(allowed, obj, neg)
        pick = masked.argmax(axis=1)
        ok = np.asarray(allowed.any(axis=1), dtype=bool)
        if caps:
            free = np.where(avail, obj, neg).argmax(axis=1)
            hit = ok & (pick != free)
            sel_flags[hit, p] |= CAP
            capped += int(hit.sum())
        if use_mmr:
            best_rel = np.where(allowed, rel, neg).argmax(axis=1)
            hit = ok & (rel[rows, pick] < rel[rows, best_rel])
            sel_flags[hit, p] |= MMR
            moved += int(hit.sum())
        chosen[ok, p] = cand[rows[ok], pick[ok]]
        avail[rows[ok], pick[ok]] = False
        if use_mmr:
            sims = np.einsum("ntd,nd->nt", vec, vec[rows, pick])
            max_sim = np.where(ok[:, None], np.maximum(max_sim, sims), max_sim)
        for _, codes, cnt in caps:
            pc = codes[rows, pick]
            cnt += ((codes == pc[:, None]) & (pc >= 0)[:, None] & ok[:, None]).astype(np.int32)
    stats: dict[str, Any] = {}
    if use_mmr:
        stats["diversity"] = {
            "kind": "mmr",
            "lambda": lam,
            "depth": t,
            "picks_below_best_relevance": moved,
        }
    if caps:
        stats["caps"] = {
            "kind": "cap",
            "category_cap": config.category_cap,
            "brand_cap": config.brand_cap,
            "picks_changed_by_cap": capped,
            "short_lists": int((chosen < 0).any(axis=1).sum()),
        }
    return chosen, sel_flags, stats


def _apply_pin(
    rule, j, pool, items, user_segments, out_items, out_pos, out_scores, out_flags, out_bits
):
    n, k = out_items.shape
    x = items.item_index(rule.item_id)
    p = rule.position - 1
    if rule.segment == "all":
        rows = np.arange(n)
    else:
        if user_segments is None:
            raise ConfigError(
                f"pin rule '{rule.label}' targets the '{rule.segment}' segment, but no user segments were given."
            )
        rows = np.flatnonzero(np.asarray(user_segments).astype(str) == rule.segment)
    stats: dict[str, Any] = {"kind": "pin", "users": len(rows), "moved": 0, "added": 0}
    stats["not_shown"] = 0
    if p >= k:
        stats["not_shown"] = len(rows)
        return out_items, out_pos, out_scores, out_flags, out_bits, stats
    if len(rows) == 0:
        return out_items, out_pos, out_scores, out_flags, out_bits, stats
    lst = out_items[rows]
    present = lst == x
    key = np.broadcast_to(np.arange(k, dtype=np.float64), lst.shape).copy()
    key[lst < 0] = 1e9 + np.nonzero(lst < 0)[1]
    key[present] = np.inf
    key = np.concatenate([key, np.full((len(rows), 1), p - 0.5)], axis=1)
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    in_pool = pool.items[rows] == x
    pin_pos = np.where(in_pool.any(axis=1), in_pool.argmax(axis=1), -1)
    sc = out_scores[rows]
    head = np.where(np.isfinite(sc[:, : p + 1]), sc[:, : p + 1], np.inf).min(axis=1)
    pin_score = np.where(np.isfinite(head), head, 0.0)
    pin_flags = np.where(
        present.any(axis=1), out_flags[rows].max(axis=1, where=present, initial=0), 0
    )

    def ins(a, extra):
        ext = np.concatenate([a[rows], extra.astype(a.dtype)[:, None]], axis=1)
        return np.take_along_axis(ext, order, axis=1)

    out_items = out_items.copy()
    out_pos, out_scores, out_flags, out_bits = (
        out_pos.copy(),
        out_scores.copy(),
        out_flags.copy(),
        out_bits.copy(),
    )
    prev_bits = np.bitwise_or.reduce(np.where(present, out_bits[rows], np.uint64(0)), axis=1)
    out_items[rows] = ins(out_items, np.full(len(rows), x))
    out_pos[rows] = ins(out_pos, pin_pos)
    out_scores[rows] = ins(out_scores, pin_score)
    out_flags[rows] = ins(out_flags, pin_flags | PIN)
    out_bits[rows] = ins(out_bits, prev_bits | np.uint64(1 << j))
    stats["moved"] = int(present.any(axis=1).sum())
    stats["added"] = len(rows) - stats["moved"]
    return out_items, out_pos, out_scores, out_flags, out_bits, stats


def _fused_rank(
    fused: np.ndarray, valid: np.ndarray, pos: np.ndarray, base_pos: np.ndarray, block: int = 16384
) -> np.ndarray:
    """0-based position of each chosen pool cell when the row is sorted by fused score alone.

    Cells in the plain fused top-k (``base_pos``) read their position from it; the others
    (moved in by rules or diversity) count the better cells (ties: lower column first).
    """
    n, k = pos.shape
    kb = base_pos.shape[1]
    eq = (pos[:, :, None] == base_pos[:, None, :]) & (pos[:, :, None] >= 0)
    found = eq.any(axis=2)
    out = np.where(found, eq.argmax(axis=2), -1).astype(np.int32)
    r, c = np.nonzero((pos >= 0) & ~found)  # only cells moved in by rules / diversity
    cols = np.arange(fused.shape[1])
    for a in range(0, len(r), block):
        rb, cb = r[a : a + block], c[a : a + block]
        f = np.where(valid[rb], fused[rb], -np.inf)  # (m, C)
        pb = pos[rb, cb]
        fv = f[np.arange(len(rb)), pb][:, None]
        cnt = np.count_nonzero(f > fv, axis=1) + np.count_nonzero(
            (f == fv) & (cols < pb[:, None]), axis=1
        )
        out[rb, cb] = np.maximum(cnt, kb)
    return out


__all__ = [
    "FLAG_NAMES",
    "ItemTable",
    "RankedLists",
    "RerankConfig",
    "Rule",
    "exclusion_matrix",
    "rerank",
]
