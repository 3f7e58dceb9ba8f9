"""``IdMap`` and ``Dataset``: the validated, immutable input of every model.

A ``Dataset`` holds one row per (user, item) pair, already aggregated from events, with
internal indices ``0..n-1``; the item id map covers every catalog item as well as every
item seen in the log, so items nobody has touched yet (cold items) can still be scored by
content-aware models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.schema import ITEM_INFO, Col
from recsys.errors import DataValidationError


@dataclass(frozen=True)
class IdMap:
    """Bijection between external ids (strings) and internal indices ``0..n-1``."""

    external_ids: np.ndarray  # (n,) object array of str

    @classmethod
    def from_values(cls, *values: pd.Series | np.ndarray | list) -> IdMap:
        """Ids in first-seen order over all ``values`` (duplicates kept once)."""
        chained = pd.concat(
            [pd.Series(np.asarray(v, dtype=object)) for v in values], ignore_index=True
        )
        uniques = pd.unique(chained.astype(str))
        return cls(np.asarray(uniques, dtype=object))

    def __len__(self) -> int:
        return len(self.external_ids)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.external_ids)

    def to_internal(self, ids, *, strict: bool = True) -> np.ndarray:
        """External ids -> int32 indices. Unknown ids raise (``strict``) or map to -1."""
        idx = self._index.get_indexer(pd.Index(np.asarray(ids, dtype=object).astype(str)))
        if strict and (idx < 0).any():
            missing = np.asarray(ids, dtype=object)[idx < 0][:5]
            raise KeyError(f"unknown ids: {', '.join(map(str, missing))}")
        return idx.astype(np.int32)

    def to_external(self, idx) -> np.ndarray:
        """Internal indices -> external ids (object array of str)."""
        return self.external_ids[np.asarray(idx, dtype=np.int64)]

    def contains(self, external_id: str) -> bool:
        """Whether ``external_id`` is known."""
        return self._index.get_indexer([str(external_id)])[0] >= 0


def _factorize_ids(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, distinct ids as str)`` in first-seen order.

    A categorical column (as ingest gives) is factorized on its codes, without a string per row.
    """
    if not isinstance(ids.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(ids.astype(str))
        return codes, np.asarray(pd.Series(uniques).astype(str), dtype=object)
    cat = ids.array
    raw = np.asarray(cat.codes)
    n = len(raw)
    first = np.full(len(cat.categories), n, dtype=np.int64)  # first row of each category
    if n and int(raw.min()) >= 0:
        np.minimum.at(first, raw, np.arange(n, dtype=np.int32))
    else:
        np.minimum.at(first, raw[raw >= 0], np.flatnonzero(raw >= 0).astype(np.int32))
    present = np.flatnonzero(first < n)
    ranked = present[np.argsort(first[present], kind="stable")]  # first-seen order
    remap = np.full(len(cat.categories) + 1, -1, dtype=np.int32)  # code -1 stays -1
    remap[ranked] = np.arange(len(ranked), dtype=np.int32)
    uniques = pd.Series(cat.categories[ranked]).astype(str)
    return remap[raw], np.asarray(uniques, dtype=object)


@dataclass(frozen=True)
class Dataset:
    """Aggregated interactions plus catalog, with shared id maps.

    Attributes
    ----------
    user_ids, item_ids : id maps.
    interactions : one row per pair, columns ``user_idx, item_idx`` (int32), ``weight`` (float32),
        ``rating`` (float32, NaN when the data has none), ``timestamp`` (float64 unix seconds of
        the pair's first event, NaN when unknown), ``n_events`` (int32), ``purchased`` (bool).
    catalog : ``n_items`` rows in internal order: ``item_id`` plus whatever is known
        (``title, description, category, brand, price, price_band`` and extra attribute columns);
        unknown values are NaN / empty strings.
    name : a label for display.
    users : ``n_users`` rows in internal order: ``user_id`` plus user attribute columns (str,
        ``""`` when a user has no row in the attribute table); only ``user_id`` when there is
        no user table.
    """

    user_ids: IdMap
    item_ids: IdMap
    interactions: pd.DataFrame
    catalog: pd.DataFrame
    name: str = "dataset"
    has_ratings: bool = False
    has_timestamps: bool = False
    users: pd.DataFrame = field(default_factory=pd.DataFrame)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if Col.USER not in self.users.columns:  # frozen: the default table is built once here
            object.__setattr__(self, "users", pd.DataFrame({Col.USER: self.user_ids.external_ids}))

    # ------------------------------------------------------------------ construction
    @classmethod
    def construct(
        cls,
        events: pd.DataFrame,
        catalog: pd.DataFrame | None = None,
        *,
        users: pd.DataFrame | None = None,
        name: str = "dataset",
    ) -> Dataset:
        """Build a dataset from clean events and an optional clean catalog.

        Parameters
        ----------
        events : columns ``user_id, item_id`` (str) and ``weight`` (float > 0); optional
            ``rating`` (float), ``timestamp`` (datetime64 or unix seconds), ``event`` (str).
            Repeated (user, item) events are aggregated: weights summed, ratings averaged,
            the first timestamp kept, purchases flagged.
        catalog : column ``item_id`` (unique str) plus any attributes.
        users : column ``user_id`` (str) plus user attribute columns (str). Aligned to the
            internal user order: the first row of a repeated id wins, users of the log without
            a row get ``""``, rows of users absent from the log are ignored.
        """
        for column in (Col.USER, Col.ITEM, Col.WEIGHT):
            if column not in events.columns:
                raise DataValidationError(
                    f"the interactions need a '{column}' column.", column=column
                )
        if len(events) == 0:
            raise DataValidationError("no usable interaction rows.")
        ev = events
        has_ratings = Col.RATING in ev.columns and ev[Col.RATING].notna().any()
        ts = _to_unix_seconds(ev[Col.TIMESTAMP]) if Col.TIMESTAMP in ev.columns else None
        has_timestamps = ts is not None and bool(np.isfinite(ts).any())

        cat_ids = catalog[Col.ITEM].astype(str) if catalog is not None else pd.Series([], dtype=str)
        # One factorize pass per id column: codes are the internal indices (first-seen order).
        user_codes, user_uniques = _factorize_ids(ev[Col.USER])
        log_codes, log_items = _factorize_ids(ev[Col.ITEM])
        # catalog items first, then the log's in first-seen order (each distinct id once)
        all_codes, item_uniques = pd.factorize(
            pd.concat([cat_ids, pd.Series(log_items, dtype=object)], ignore_index=True)
        )
        item_codes = all_codes[len(cat_ids) :][log_codes]
        user_ids = IdMap(user_uniques)
        item_ids = IdMap(np.asarray(item_uniques, dtype=object))

        agg = _aggregate_pairs(
            user_codes.astype(np.int32),
            item_codes.astype(np.int32),
            len(item_ids),
            ev[Col.WEIGHT].to_numpy(dtype=np.float32),
            ev[Col.RATING].to_numpy(dtype=np.float32) if has_ratings else None,
            ts,
            (ev[Col.EVENT] == "purchase").to_numpy(dtype=bool) if Col.EVENT in ev.columns else None,
        )
        return cls(
            user_ids=user_ids,
            item_ids=item_ids,
            interactions=agg,
            catalog=_align_catalog(catalog, item_ids),
            users=_align_users(users, user_ids),
            name=name,
            has_ratings=bool(has_ratings),
            has_timestamps=bool(has_timestamps),
        )

    def with_interactions(self, interactions: pd.DataFrame, *, name: str | None = None) -> Dataset:
        """Same id maps and catalog, another set of pairs (used by splits)."""
        return Dataset(
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            interactions=interactions.reset_index(drop=True),
            catalog=self.catalog,
            users=self.users,
            name=name or self.name,
            has_ratings=self.has_ratings,
            has_timestamps=self.has_timestamps,
        )

    # ------------------------------------------------------------------ views
    @property
    def n_users(self) -> int:
        """Number of users (internal indices ``0..n_users-1``)."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Number of items (internal indices ``0..n_items-1``)."""
        return len(self.item_ids)

    def matrix(self, value: str = Col.WEIGHT) -> sp.csr_matrix:
        """(n_users, n_items) CSR matrix of ``value`` (``weight``, ``rating`` or ``"ones"``)."""
        key = ("matrix", value)
        if key not in self._cache:
            df = self.interactions
            data = (
                np.ones(len(df), dtype=np.float32)
                if value == "ones"
                else df[value].to_numpy(dtype=np.float32)
            )
            m = sp.csr_matrix(
                (data, (df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy())),
                shape=(self.n_users, self.n_items),
                dtype=np.float32,
            )
            m.sum_duplicates()
            m.sort_indices()
            self._cache[key] = m
        return self._cache[key]

    def item_popularity(self) -> np.ndarray:
        """(n_items,) number of users who interacted with each item."""
        return np.bincount(self.interactions[Col.ITEM_IDX].to_numpy(), minlength=self.n_items)

    def user_activity(self) -> np.ndarray:
        """(n_users,) number of items each user interacted with."""
        return np.bincount(self.interactions[Col.USER_IDX].to_numpy(), minlength=self.n_users)

    def active_users(self) -> np.ndarray:
        """Internal indices of users with at least one pair in this dataset."""
        return np.flatnonzero(self.user_activity() > 0).astype(np.int32)

    @property
    def fingerprint(self) -> str:
        """Stable hash of ids, pairs and catalog: the same data gives the same fingerprint."""
        if "fingerprint" not in self._cache:
            h = hashlib.sha1()
            for ids in (self.user_ids.external_ids, self.item_ids.external_ids):
                h.update("\x1f".join(ids).encode())
            for column in (Col.USER_IDX, Col.ITEM_IDX, Col.WEIGHT, Col.RATING, Col.TIMESTAMP):
                h.update(np.ascontiguousarray(self.interactions[column].to_numpy()).tobytes())
            h.update(
                pd.util.hash_pandas_object(self.catalog.astype(str), index=False)
                .to_numpy()
                .tobytes()
            )
            if self.user_attribute_columns:  # only then: older fingerprints stay valid
                h.update(b"\x1eusers")
                h.update(
                    pd.util.hash_pandas_object(self.users.astype(str), index=False)
                    .to_numpy()
                    .tobytes()
                )
            self._cache["fingerprint"] = h.hexdigest()[:16]
        return self._cache["fingerprint"]

    @property
    def user_attribute_columns(self) -> list[str]:
        """Names of the user attribute columns (empty without a user table)."""
        return [c for c in self.users.columns if c != Col.USER]

    def users_with_attributes(self) -> np.ndarray:
        """(n_users,) bool: the user has at least one non-empty attribute."""
        has = np.zeros(self.n_users, dtype=bool)
        for column in self.user_attribute_columns:
            values = self.users[column]
            has |= (values.notna() & (values.astype(str) != "")).to_numpy()
        return has

    def catalog_column(self, column: str) -> np.ndarray | None:
        """(n_items,) values of a catalog column, or None when the catalog lacks it."""
        if column not in self.catalog.columns:
            return None
        return self.catalog[column].to_numpy()

    def with_item_info(
        self,
        frame: pd.DataFrame,
        item_idx: np.ndarray,
        columns: tuple[str, ...] = ITEM_INFO,
    ) -> pd.DataFrame:
        """``frame`` with the catalog's ``columns`` (those it has) of ``item_idx`` appended.

        ``item_idx`` (len(frame),) internal item indices, one per row. Returns a new frame.
        """
        idx = np.asarray(item_idx)
        extra = {c: self.catalog[c].to_numpy()[idx] for c in columns if c in self.catalog.columns}
        return frame.assign(**extra)


#: Events grouped at once by :func:`_aggregate_pairs` (a block of whole users); pandas'
#: group-by needs about 55 bytes an event besides its input.
PAIR_BLOCK_EVENTS = 1 << 20


def _aggregate_pairs(
    users: np.ndarray,
    items: np.ndarray,
    n_items: int,
    weight: np.ndarray,
    rating: np.ndarray | None,
    ts: np.ndarray | None,
    purchased: np.ndarray | None,
) -> pd.DataFrame:
    """One row per (user, item), sorted by user then item.

    Weights summed, ratings averaged (NaN ignored), the first timestamp, the number of
    events, whether any was a purchase. pandas' group-by, whose float32 sums the stored
    runs' dataset fingerprints were made with (a numpy sum differs in the last bit), run on
    blocks of about ``PAIR_BLOCK_EVENTS`` events holding whole users: a pair's events are
    all in one block, in their order, so each pair gets the same figures as from one
    group-by of all the events, and the blocks, in user order, give the same sorted rows.
    """
    if len(users) <= PAIR_BLOCK_EVENTS or int(users.min()) < 0:  # one block: every event
        return _group_pairs(users, items, weight, rating, ts, purchased)
    cuts = _user_blocks(users, PAIR_BLOCK_EVENTS)
    parts = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        rows = np.flatnonzero((users >= lo) & (users < hi))
        parts.append(
            _group_pairs(
                users[rows],
                items[rows],
                weight[rows],
                None if rating is None else rating[rows],
                None if ts is None else ts[rows],
                None if purchased is None else purchased[rows],
            )
        )
        del rows
    columns = {}
    for column in parts[0].columns:  # one column at a time: the blocks' copies freed as it goes
        columns[column] = np.concatenate([p[column].to_numpy() for p in parts])
        for p in parts:
            del p[column]
    return pd.DataFrame(columns, copy=False)


def _user_blocks(users: np.ndarray, block: int) -> np.ndarray:
    """User index cuts ``[0, c1, ..., max + 1]``: blocks of whole users of about ``block`` events."""
    counts = np.bincount(users)
    ends = np.cumsum(counts)
    # the first user whose events reach past each multiple of ``block``
    cuts = np.searchsorted(ends, np.arange(block, int(ends[-1]), block), side="left") + 1
    return np.unique(np.concatenate([[0], cuts, [len(counts)]]))


def _group_pairs(
    users: np.ndarray,
    items: np.ndarray,
    weight: np.ndarray,
    rating: np.ndarray | None,
    ts: np.ndarray | None,
    purchased: np.ndarray | None,
) -> pd.DataFrame:
    """:func:`_aggregate_pairs` of some events, by one pandas group-by."""
    n = len(users)
    frame = pd.DataFrame(
        {
            Col.USER_IDX: users,
            Col.ITEM_IDX: items,
            Col.WEIGHT: weight,
            Col.RATING: rating if rating is not None else np.full(n, np.nan, dtype=np.float32),
            Col.TIMESTAMP: ts if ts is not None else np.full(n, np.nan),
            Col.PURCHASED: purchased if purchased is not None else np.zeros(n, dtype=bool),
        },
        copy=False,
    )
    grouped = frame.groupby([Col.USER_IDX, Col.ITEM_IDX], sort=True)
    agg = grouped.agg(
        **{
            Col.WEIGHT: (Col.WEIGHT, "sum"),
            Col.RATING: (Col.RATING, "mean"),
            Col.TIMESTAMP: (Col.TIMESTAMP, "min"),
            Col.N_EVENTS: (Col.WEIGHT, "size"),
            Col.PURCHASED: (Col.PURCHASED, "any"),
        }
    ).reset_index()
    return agg.astype(
        {
            Col.USER_IDX: np.int32,
            Col.ITEM_IDX: np.int32,
            Col.WEIGHT: np.float32,
            Col.RATING: np.float32,
            Col.TIMESTAMP: np.float64,
            Col.N_EVENTS: np.int32,
            Col.PURCHASED: bool,
        }
    )


def _to_unix_seconds(values: pd.Series) -> np.ndarray:
    """Datetimes or numbers -> float64 unix seconds (NaN for missing)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        out = ts.astype("datetime64[ns]").to_numpy().astype("int64").astype(np.float64) / 1e9
        out[ts.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


def _align_catalog(catalog: pd.DataFrame | None, item_ids: IdMap) -> pd.DataFrame:
    """Catalog rows reordered to internal item order; items not in the catalog get empty rows."""
    base = pd.DataFrame({Col.ITEM: item_ids.external_ids})
    if catalog is None or len(catalog) == 0:
        return base
    cat = catalog.copy()
    cat[Col.ITEM] = cat[Col.ITEM].astype(str)
    cat = cat.drop_duplicates(Col.ITEM, keep="first")
    out = base.merge(cat, on=Col.ITEM, how="left")
    return out.reset_index(drop=True)


def _align_users(users: pd.DataFrame | None, user_ids: IdMap) -> pd.DataFrame:
    """User attribute rows reordered to internal user order; missing users get ``""``."""
    base = pd.DataFrame({Col.USER: user_ids.external_ids})
    if users is None or len(users.columns) <= 1:
        return base
    if Col.USER not in users.columns:
        raise DataValidationError(f"the user table needs a '{Col.USER}' column.", column=Col.USER)
    table = users.copy()
    table[Col.USER] = table[Col.USER].astype(str)
    table = table.drop_duplicates(Col.USER, keep="first")
    out = base.merge(table, on=Col.USER, how="left")
    for column in out.columns:
        if column != Col.USER:
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    return out.reset_index(drop=True)
