"""The re-ranking algorithm (after fusion): exclusions, merchandising rules, novelty, MMR diversity and caps.

Everything works on the candidate pool, vectorised over users (the greedy MMR / cap selection
loops over the k positions only). Each step reports what it changed in ``RankedLists.stats``
and leaves a trace per recommended item (``touched_by`` flags, ``rule_hits`` bits).

Order of the steps, on the fused score normalised per user to [0, 1]:
boost/bury rules (multiply) -> novelty (subtract) -> filter rules (drop) -> greedy selection
(MMR + caps, or plain top-k) -> pins. Rules switched off (``Rule.enabled`` false) are skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.rerank.config import RerankConfig
from recsys.ranking.rerank.items import ItemTable
from recsys.ranking.rerank.trace import BOOST, BURY, CAP, FILTER, MMR, NOVELTY, PIN, RankedLists
from recsys.ranking.topk import TopK, top_k_indices


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
    lo, hi = _valid_range(x, valid)
    span = hi - lo
    const = ~(span > 0)
    inv = np.where(const, 0.0, 1.0 / np.where(const, 1.0, span)).astype(np.float32)
    out = np.full(x.shape, -np.inf, np.float32)
    with np.errstate(invalid="ignore"):
        np.subtract(x, lo, out=out, where=valid)
        np.multiply(out, inv, out=out, where=valid)
        np.add(out, const.astype(np.float32), out=out, where=valid)
    return out


def _selects(config: RerankConfig) -> bool:
    """The greedy selection (MMR diversity or caps) is on."""
    return config.mmr_lambda < 1.0 or bool(config.category_cap) or bool(config.brand_cap)


def _valid_range(x: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 1) min and max of each row of ``x`` over ``valid`` (``x`` is -inf elsewhere).

    ``inf``/``-inf`` on rows without a valid cell. Plain reductions: numpy's ``where=`` path
    is several times slower on pool-sized arrays.
    """
    hi = x.max(axis=1, keepdims=True)
    lo = np.where(valid, x, np.float32(np.inf)).min(axis=1, keepdims=True)
    return lo, hi


def _minmax_of_cells(raw: np.ndarray, valid: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``_row_minmax(raw, valid)`` at the (n, k) columns ``cols`` only (no full-size copy)."""
    lo, hi = _valid_range(raw, valid)
    span = hi - lo
    const = ~(span > 0)
    picked = np.take_along_axis(raw, cols, 1)
    with np.errstate(invalid="ignore"):
        out = np.where(const, 1.0, (picked - lo) / np.where(const, 1.0, span))
    return np.where(np.take_along_axis(valid, cols, 1), out, -np.inf).astype(np.float32)


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
    valid = pool.valid & np.isfinite(fused)
    raw = np.where(valid, fused, -np.inf).astype(np.float32, copy=False)
    base_pos = _pool_topk(raw, k)  # min-max keeps each row's order: rank the raw scores
    # rules switched off stay in the config (and keep their bit j) but are not applied
    active = [(j, r) for j, r in enumerate(config.rules) if r.enabled]
    adjusts = bool(active) or config.novelty > 0 or _selects(config)
    score = _row_minmax(raw, valid) if adjusts else raw  # raw: read only
    steps = bool(active) or config.novelty > 0  # steps that report their effect
    # what the steps read and mark, built only when a step runs (empty on the slider's plain path)
    none = (0, 0)
    safe_items = np.maximum(pool.items, 0) if steps else pool.items
    current = _mask_of(base_pos, (n, c)) if steps else np.zeros(none, bool)
    changed = False  # did any step change scores or the candidate set?
    flags = np.zeros((n, c) if adjusts else none, np.uint8)
    bits = np.zeros((n, c) if active else none, np.uint64)
    rule_names = tuple(r.label for r in config.rules)
    stats: dict[str, Any] = {"users": n, "k": k, "pool_cells": int(np.count_nonzero(valid))}

    # boosts and buries: multiply the normalised score
    for j, rule in active:
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
    for j, rule in active:
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
    if _selects(config):
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
    if adjusts:
        score_k = np.take_along_axis(score, sp_, 1)
    else:  # nothing adjusted the scores: normalise only the chosen cells
        score_k = _minmax_of_cells(raw, valid, sp_)
    out_scores = np.where(ok, score_k, -np.inf).astype(np.float32)
    step_flags = np.take_along_axis(flags, sp_, 1) if flags.size else np.uint8(0)
    out_flags = np.where(ok, step_flags | sel_flags, 0).astype(np.uint8)
    if bits.size:
        out_bits = np.where(ok, np.take_along_axis(bits, sp_, 1), np.uint64(0)).astype(np.uint64)
    else:
        out_bits = np.zeros(pos.shape, np.uint64)
    out_pos = pos.astype(np.int32)

    # pins
    for j, rule in active:
        if rule.kind != "pin":
            continue
        out_items, out_pos, out_scores, out_flags, out_bits, pin_stats = _apply_pin(
            rule, j, pool, items, user_segments, out_items, out_pos, out_scores, out_flags, out_bits
        )
        stats[rule.label] = pin_stats

    fused_rank = _fused_rank(fused, pool.valid, out_pos, base_pos)
    stats["changed"] = {
        # a chosen cell outside the plain fused top-k ranks at or below its length
        "new_items_vs_fused": int(((out_pos >= 0) & (fused_rank >= base_pos.shape[1])).sum()),
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
    category/brand (-1) are never capped; an item of several categories counts toward each and
    waits when any of them is full. Returns pool positions (n, k), flags, stats.
    """
    n, c = score.shape
    k = config.k
    lam = config.mmr_lambda
    t = min(c, config.diversity_depth or max(3 * k, 50))
    cand, cand_score = top_k_indices(score, t)  # best first, ties to the lower column, -1 pads
    cand = cand.astype(np.int32)
    cand[~np.isfinite(cand_score)] = -1
    cand_score = np.where(cand >= 0, cand_score, -np.inf).astype(np.float32)
    avail = cand >= 0
    rel = _row_minmax(cand_score, avail)
    rel = np.where(avail, rel, 0.0).astype(np.float32)
    rows = np.arange(n)
    item_of = np.where(avail, pool.items[rows[:, None], np.maximum(cand, 0)], -1)
    use_mmr = lam < 1.0
    if use_mmr:
        padded = items.padded_vectors
        if padded is None:
            raise ConfigError(
                "diversity (MMR) needs item content vectors; set the diversity knob to 1."
            )
        vec = np.take(padded, item_of, axis=0)  # (n, t, d); -1 (no candidate) reads zeros
        max_sim = np.zeros((n, t), np.float32)
        lam_rel = (np.float32(lam) * rel).astype(np.float32)
    # per cap: the candidates' label codes (n, t, G; an item of several categories has each
    # of them, -1 pads) and each list's count so far per label (n, n_labels + 1; the last
    # column absorbs the padding)
    caps = []
    for cap, codes in (
        (config.category_cap, items.category_lists),
        (config.brand_cap, items.brand[:, None]),
    ):
        if cap:
            labels = np.where(avail[:, :, None], codes[np.maximum(item_of, 0)], -1)
            width = int(max(codes.max(initial=-1), labels.max(initial=-1))) + 2
            caps.append(
                (cap, np.where(labels >= 0, labels, width - 1), np.zeros((n, width), np.int16))
            )
    chosen = np.full((n, k), -1, np.int32)
    sel_flags = np.zeros((n, k), np.uint8)
    moved = capped = 0
    neg = np.float32(-np.inf)
    obj = np.empty((n, t), np.float32)
    masked = np.empty((n, t), np.float32)
    allowed = np.empty((n, t), bool)
    for p in range(min(k, t)):
        np.copyto(allowed, avail)
        for cap, labels, count in caps:
            full = (count >= cap).astype(bool)
            full[:, -1] = False  # no label: never capped
            allowed &= ~np.take_along_axis(full, labels.reshape(n, -1), axis=1).reshape(
                labels.shape
            ).any(axis=2)
        if use_mmr:  # obj = lam * rel - (1 - lam) * max_sim
            np.multiply(max_sim, np.float32(lam - 1.0), out=obj)
            obj += lam_rel
        else:
            np.copyto(obj, rel)
        masked.fill(neg)
        np.copyto(masked, obj, where=allowed)
        pick = masked.argmax(axis=1)
        ok = np.asarray(allowed.any(axis=1), dtype=bool)
        if caps:
            masked.fill(neg)
            np.copyto(masked, obj, where=avail)
            hit = ok & (pick != masked.argmax(axis=1))
            sel_flags[hit, p] |= CAP
            capped += int(hit.sum())
        if use_mmr:
            masked.fill(neg)
            np.copyto(masked, rel, where=allowed)
            best_rel = masked.argmax(axis=1)
            hit = ok & (rel[rows, pick] < rel[rows, best_rel])
            sel_flags[hit, p] |= MMR
            moved += int(hit.sum())
        chosen[ok, p] = cand[rows[ok], pick[ok]]
        avail[rows[ok], pick[ok]] = False
        if use_mmr:
            sims = np.matmul(vec, vec[rows, pick][:, :, None])[:, :, 0]  # (n, t)
            np.maximum(max_sim, sims, out=max_sim, where=ok[:, None])
        for _, labels, count in caps:
            picked = labels[rows[ok], pick[ok]]  # (n_ok, G): every label of the picked item
            np.add.at(count, (np.repeat(rows[ok], picked.shape[1]), picked.ravel()), 1)
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
