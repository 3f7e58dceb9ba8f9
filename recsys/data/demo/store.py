"""The demo interaction log: personas, taste clusters, ecosystems, funnels over time."""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys.data.demo.catalog import make_catalog
from recsys.data.demo.strings import as_str_series, str_take
from recsys.data.demo.tables import (
    BRAND_ZH,
    CART_RATE,
    CATEGORIES,
    END_DATE,
    EVENTS,
    HISTORY_DAYS,
    PERSONAS,
    PHONE_BRANDS,
    PHONES,
    PRICE_BANDS,
    SEGMENT_BAND,
    SEGMENT_SHARE,
)
from recsys.data.demo.users import make_users


# ---------------------------------------------------------------------------- sampling helpers
def _sample_ragged(
    rng: np.random.Generator,
    members: np.ndarray,
    weights: np.ndarray,
    offsets: np.ndarray,
    groups: np.ndarray,
) -> np.ndarray:
    """Draw one member per entry of ``groups`` from weighted ragged lists, vectorised.

    Parameters
    ----------
    members : (L,) item indices, the lists of all groups concatenated.
    weights : (L,) positive weights aligned with ``members``.
    offsets : (G + 1,) start of each group's list in ``members``; every list must be non-empty.
    groups : (n,) group of each draw.

    Returns
    -------
    (n,) drawn member of each group's list, with probability proportional to its weight.
    """
    cum = np.cumsum(weights, dtype=np.float64)
    before = np.concatenate([[0.0], cum])
    lo = before[offsets[groups]]
    hi = before[offsets[groups + 1]]
    x = lo + rng.random(len(groups)) * (hi - lo)
    pos = np.searchsorted(cum, x, side="right")
    pos = np.clip(pos, offsets[groups], offsets[groups + 1] - 1)
    return members[pos]


def _ragged(keys: np.ndarray, values: np.ndarray, weights: np.ndarray, n_groups: int):
    """Group (key, value, weight) triples into ragged lists: members, weights, offsets."""
    order = np.argsort(keys, kind="stable")
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_groups), out=offsets[1:])
    return values[order], weights[order], offsets


def _iso_seconds(start: np.datetime64, seconds: np.ndarray) -> pd.Series:
    """ISO strings ``YYYY-MM-DDTHH:MM:SS`` of ``start + seconds``, from day and time-of-day tables."""
    seconds = np.asarray(seconds, dtype=np.int64)
    day0 = start.astype("datetime64[D]")
    shift = int((start - day0.astype("datetime64[s]")).astype(np.int64))
    total = seconds + shift
    n_days = int(total.max() // 86400) + 1 if len(total) else 1
    days = np.datetime_as_string(day0 + np.arange(n_days).astype("timedelta64[D]"), unit="D")
    tod = np.datetime_as_string(
        np.datetime64("2000-01-01T00:00:00", "s") + np.arange(86400).astype("timedelta64[s]")
    )
    day_part = pa.array(days.tolist(), pa.string()).take(pa.array(total // 86400))
    tod_part = pa.array([x[11:] for x in tod.tolist()], pa.string()).take(pa.array(total % 86400))
    return as_str_series(pc.binary_join_element_wise(day_part, tod_part, "T"))


# ---------------------------------------------------------------------------- the store
@overload
def generate_store(
    n_users: int = ...,
    n_items: int = ...,
    n_events: int = ...,
    seed: int = ...,
    *,
    with_users: Literal[False] = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...
@overload
def generate_store(
    n_users: int = ...,
    n_items: int = ...,
    n_events: int = ...,
    seed: int = ...,
    *,
    with_users: Literal[True],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]: ...
def generate_store(
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    seed: int = 0,
    *,
    with_users: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame] | tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Generate a phone-and-accessories store.

    Parameters
    ----------
    n_users, n_items, n_events : sizes. Every user gets at least one session as long as
        ``n_events >= n_users``; the log has exactly ``n_events`` rows.
    seed : the same seed gives identical frames.

    Returns
    -------
    catalog : (n_items, 15) ``item_id, title, title_zh, description, category, brand, model,
        price, price_band, color, storage_gb, compatible_with, in_stock, launch_date, is_new``.
    interactions : (n_events, 5) ``user_id, item_id, event, timestamp, quantity``; events are
        ``view|cart|purchase|favorite``, timestamps ISO strings (``2024-03-05T14:22:31``),
        rows in time order.
    users : only with ``with_users=True``: (n_users, 4) ``user_id, age_band, city_tier,
        membership``, correlated with each user's latent segment and price band (drawn from
        a separate random stream, so ``catalog`` and ``interactions`` do not change).
    """
    if n_items < 16:
        raise ValueError("n_items must be at least 16 (one per category and model family).")
    if n_users < 1 or n_events < 1:
        raise ValueError("n_users and n_events must be positive.")
    rng = np.random.default_rng(seed)
    catalog, model_of = make_catalog(rng, n_items)
    n_items = len(catalog)
    category = pd.Categorical(catalog["category"], categories=CATEGORIES).codes.astype(np.int64)
    brands = np.asarray(sorted(BRAND_ZH), dtype=object)  # every known brand, present or not
    brand = np.searchsorted(brands, catalog["brand"].to_numpy(dtype=object)).astype(np.int64)
    band = pd.Categorical(catalog["price_band"], categories=PRICE_BANDS).codes.astype(np.int64)
    item_idx = np.arange(n_items)

    # item popularity: Zipf over a random ranking, phones of popular models a little higher
    ranks = rng.permutation(n_items) + 1
    pop = 1.0 / ranks**0.9
    sqrt_pop = np.sqrt(pop)
    flat_pop = pop**0.2  # content-driven choices care little about popularity

    # ---- taste clusters (collaborative signal, independent of the text)
    n_clusters = int(np.clip(n_items // 20, len(PERSONAS), 2000))
    n_clusters -= n_clusters % len(PERSONAS)
    cluster = rng.integers(0, n_clusters, n_items)
    cl_members, cl_weights, cl_off = _ragged(cluster, item_idx, sqrt_pop, n_clusters)
    empty = np.diff(cl_off) == 0
    if empty.any():  # give empty clusters one random item so every list is non-empty
        extra_keys = np.flatnonzero(empty)
        keys = np.concatenate([cluster, extra_keys])
        vals = np.concatenate([item_idx, rng.integers(0, n_items, len(extra_keys))])
        cl_members, cl_weights, cl_off = _ragged(keys, vals, np.sqrt(pop[vals]), n_clusters)

    # ---- phone ecosystems (content signal): per phone model, compatible + same-brand items
    n_models = len(PHONES)
    phone_brand = np.searchsorted(brands, np.array([p.brand for p in PHONES], dtype=object))
    eco_keys, eco_vals, eco_w = [], [], []
    ecosystem_cats = np.isin(
        category,
        [
            CATEGORIES.index(c)
            for c in ("earphones", "smartwatch", "charger", "cable", "power bank")
        ],
    )
    generic_cats = np.isin(
        category, [CATEGORIES.index(c) for c in ("charger", "cable", "power bank")]
    )
    for m in range(n_models):  # a loop over ~30 phone models, not over users
        w = np.zeros(n_items)
        w[model_of == m] = 6.0  # cases, protectors, other variants of the same phone
        w[(brand == phone_brand[m]) & ecosystem_cats] += (
            2.0  # same-brand earbuds, watches, chargers
        )
        w[generic_cats & (brand != phone_brand[m])] += 0.3
        nz = np.flatnonzero(w)
        eco_keys.append(np.full(len(nz), m))
        eco_vals.append(nz)
        eco_w.append(w[nz] * flat_pop[nz])
    eco_members, eco_weights, eco_off = _ragged(
        np.concatenate(eco_keys), np.concatenate(eco_vals), np.concatenate(eco_w), n_models
    )

    # ---- brand x price band lists (content signal)
    bb_key = brand * 3 + band
    bb_members, bb_weights, bb_off = _ragged(bb_key, item_idx, flat_pop, len(brands) * 3)
    bb_size = np.diff(bb_off)

    # ---- users
    seg = rng.choice(len(PERSONAS), n_users, p=SEGMENT_SHARE)
    cdf = np.cumsum(SEGMENT_BAND, axis=1)
    ubund = (rng.random(n_users)[:, None] > cdf[seg]).sum(axis=1).clip(0, 2)
    # phone model | segment, band
    tier = np.array([p.tier for p in PHONES])
    mshare = np.array([p.share for p in PHONES])
    tag = np.array([[s in p.tags for s in PERSONAS] for p in PHONES], dtype=float)  # (M, S)
    fit = np.array([[1.0, 0.25, 0.04], [0.25, 1.0, 0.25], [0.04, 0.25, 1.0]])  # band x tier
    pm = mshare[None, None, :] * (1.0 + 3.0 * tag.T[:, None, :]) * fit[None, :, tier]  # (S, 3, M)
    pm_flat = pm.reshape(-1, n_models)
    group = seg * 3 + ubund
    uphone = _sample_ragged(
        rng,
        np.tile(np.arange(n_models), len(pm_flat)),
        pm_flat.ravel(),
        np.arange(0, pm_flat.size + 1, n_models),
        group,
    )
    ubrand = phone_brand[uphone]
    # accessory-brand loyalty: any non-phone brand
    present = np.isin(brands, catalog["brand"].unique())
    acc_brands = np.flatnonzero(~np.isin(brands, PHONE_BRANDS) & present)
    if len(acc_brands) == 0:
        acc_brands = np.flatnonzero(present)
    uacc = acc_brands[rng.integers(0, len(acc_brands), n_users)]
    # two taste clusters among the segment's own clusters
    per_seg = n_clusters // len(PERSONAS)
    ucl = seg[:, None] + len(PERSONAS) * rng.integers(0, per_seg, (n_users, 2))
    # channel mixture: taste, ecosystem, brand/price, popularity
    mix = rng.dirichlet(np.array([0.35, 0.30, 0.20, 0.15]) * 12, n_users)
    # phone purchase time: half the users buy their phone inside the window
    start = END_DATE - np.timedelta64(HISTORY_DAYS, "D")
    span = HISTORY_DAYS * 86400
    buys_phone = rng.random(n_users) < 0.5
    t_phone = rng.uniform(0, span - 30 * 86400, n_users)

    # ---- sessions: expected rows per session ~ 1/p_view + cart + purchase + favourite
    rows_per_session = 1 / 0.62 + 0.27 * 1.55 + 0.04
    n_sessions = int(n_events / rows_per_session * 1.15) + n_users + 16
    activity = rng.lognormal(0.0, 1.0, n_users)
    extra = rng.multinomial(max(n_sessions - n_users, 0), activity / activity.sum())
    s_user = np.repeat(np.arange(n_users), extra + 1)
    first = np.zeros(len(s_user), dtype=bool)
    first[np.concatenate([[0], np.cumsum(extra + 1)[:-1]])] = True
    n_s = len(s_user)
    channel = (rng.random(n_s)[:, None] > np.cumsum(mix, axis=1)[s_user]).sum(axis=1).clip(0, 3)
    # each user's first session is about their phone when they buy it inside the window
    phone_session = first & buys_phone[s_user]
    s_item = np.empty(n_s, dtype=np.int64)
    s_time = rng.uniform(0, span, n_s)

    sel = channel == 0
    pick = np.where(rng.random(sel.sum()) < 0.7, 0, 1)
    s_item[sel] = _sample_ragged(rng, cl_members, cl_weights, cl_off, ucl[s_user[sel], pick])
    sel = channel == 1
    s_item[sel] = _sample_ragged(rng, eco_members, eco_weights, eco_off, uphone[s_user[sel]])
    after = sel & buys_phone[s_user]
    s_time[after] = np.minimum(
        t_phone[s_user[after]] + rng.exponential(20 * 86400, after.sum()), span - 1
    )
    sel = channel == 2
    use_acc = rng.random(sel.sum()) < 0.35
    b = np.where(use_acc, uacc[s_user[sel]], ubrand[s_user[sel]])
    bd = np.where(rng.random(sel.sum()) < 0.75, ubund[s_user[sel]], rng.integers(0, 3, sel.sum()))
    key = b * 3 + bd
    ok = bb_size[key] > 0
    key = np.where(ok, key, b * 3 + np.argmax(bb_size.reshape(-1, 3)[b], axis=1))
    ok = bb_size[key] > 0
    drawn = _sample_ragged(
        rng, bb_members, bb_weights, bb_off, np.where(ok, key, np.argmax(bb_size))
    )
    fallback = np.searchsorted(np.cumsum(pop) / pop.sum(), rng.random(sel.sum())).clip(
        0, n_items - 1
    )
    s_item[sel] = np.where(ok, drawn, fallback)
    sel = channel == 3
    s_item[sel] = np.searchsorted(np.cumsum(pop) / pop.sum(), rng.random(sel.sum())).clip(
        0, n_items - 1
    )
    # the phone session: a variant of the user's phone model
    if phone_session.any():
        phone_items = np.flatnonzero((category == 0) & (model_of >= 0))
        pm_keys = model_of[phone_items]
        ph_members, ph_w, ph_off = _ragged(pm_keys, phone_items, sqrt_pop[phone_items], n_models)
        has = np.diff(ph_off)[uphone[s_user[phone_session]]] > 0
        idx = np.flatnonzero(phone_session)[has]
        s_item[idx] = _sample_ragged(rng, ph_members, ph_w, ph_off, uphone[s_user[idx]])
        s_time[idx] = t_phone[s_user[idx]]
    # no event before an item was launched
    launch_s = (
        pd.to_datetime(catalog["launch_date"]).to_numpy().astype("datetime64[s]") - start
    ).astype(np.int64)
    late = s_time < launch_s[s_item]
    s_time[late] = launch_s[s_item[late]] + rng.uniform(0, 1, late.sum()) * (
        span - launch_s[s_item[late]]
    )

    # ---- funnel per session
    n_views = rng.geometric(0.62, n_s)
    cart_p = CART_RATE[category[s_item]] * np.where(phone_session, 5.0, 1.0)
    has_cart = rng.random(n_s) < np.minimum(cart_p, 0.9)
    has_buy = has_cart & (rng.random(n_s) < np.where(phone_session, 0.85, 0.55))
    has_fav = rng.random(n_s) < 0.04
    n_rows = n_views + has_cart + has_buy + has_fav

    # keep every user's first session, then random sessions until n_events rows
    order = np.concatenate([np.flatnonzero(first), rng.permutation(np.flatnonzero(~first))])
    csum = np.cumsum(n_rows[order])
    kept = order[csum <= n_events]
    kept.sort()
    deficit = n_events - int(n_rows[kept].sum())
    s_user, s_item, s_time = s_user[kept], s_item[kept], s_time[kept]
    n_views, has_cart, has_buy, has_fav = (
        n_views[kept],
        has_cart[kept],
        has_buy[kept],
        has_fav[kept],
    )
    if deficit > 0:  # top up with repeat views of kept sessions
        n_views = n_views + np.bincount(rng.integers(0, len(kept), deficit), minlength=len(kept))
    n_rows = n_views + has_cart + has_buy + has_fav

    # ---- expand sessions into rows
    r_sess = np.repeat(np.arange(len(kept)), n_rows)
    pos = np.arange(len(r_sess)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    nv = n_views[r_sess]
    event = np.zeros(len(r_sess), dtype=np.int64)  # codes into EVENTS
    offset = np.zeros(len(r_sess))
    is_view = pos < nv
    offset[is_view] = pos[is_view] * rng.exponential(
        600.0, is_view.sum()
    )  # repeat views minutes apart
    k = pos - nv  # 0.. over the tail: cart, purchase, favourite in that order when present
    c = has_cart[r_sess]
    bu = has_buy[r_sess]
    is_cart = (~is_view) & c & (k == 0)
    is_buy = (~is_view) & bu & (k == 1)
    is_fav = (~is_view) & ~is_cart & ~is_buy
    event[is_cart] = 1
    event[is_buy] = 2
    event[is_fav] = 3
    cart_at = n_views * 600.0 + rng.exponential(900.0, len(n_views))  # per session
    offset[is_cart] = cart_at[r_sess[is_cart]]
    # purchases happen minutes to a few days after the cart
    offset[is_buy] = cart_at[r_sess[is_buy]] + 60.0 + rng.exponential(0.6 * 86400, is_buy.sum())
    offset[is_fav] = rng.exponential(300.0, is_fav.sum())
    t = np.minimum(s_time[r_sess] + offset, span - 1).astype(np.int64)

    row_item = s_item[r_sess]
    quantity = np.ones(len(r_sess), dtype=np.int64)
    multi = is_buy & np.isin(category[row_item], [1, 2, 4]) & (rng.random(len(r_sess)) < 0.15)
    quantity[multi] = 2

    ordering = np.lexsort((pos, r_sess, t))
    user_ids = [f"U{u:06d}" for u in range(1, n_users + 1)]
    interactions = pd.DataFrame(
        {
            "user_id": str_take(user_ids, s_user[r_sess[ordering]]),
            "item_id": str_take(catalog["item_id"].tolist(), row_item[ordering]),
            "event": str_take(list(EVENTS), event[ordering]),
            "timestamp": _iso_seconds(start, t[ordering]),
            "quantity": quantity[ordering],
        }
    )
    if with_users:
        return catalog, interactions, make_users(user_ids, seg, ubund, seed)
    return catalog, interactions
