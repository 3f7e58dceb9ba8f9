r"""Item features from the catalog: sparse profiles, dense unit vectors, label codes.

Everything here is a pure function of the ``Dataset`` (results are memoised in the dataset's
private cache, so treat the returned arrays as read-only).

- ``item_feature_matrix``: TF-IDF over character n-grams of the text columns (``title``,
  ``description`` and variants such as ``title_zh``; character n-grams need no tokenizer, so
  Chinese works as well as English) next to one-hot attributes (``category``, ``brand``,
  ``price_band`` and low-cardinality extra columns such as ``color`` or ``genres`` split on
  ``|``). Each block is L2-normalised per row, weighted, and the row L2-normalised again, so
  ``F @ F.T`` is a cosine similarity:

  .. math:: \cos(i, j) = \frac{w_t^2 \cos_t(i, j) + w_a^2 \cos_a(i, j)}{w_t^2 + w_a^2}

  when both items have text and attributes. Items without any catalog information get an
  all-zero row (similar to nothing; content models score them 0).
- ``item_attribute_matrix`` / ``item_token_matrix``: the compact binary variants LightFM uses
  (a handful of non-zeros per item keeps its training fast).
- ``item_dense_vectors``: unit-norm TruncatedSVD of the feature matrix (MMR diversity and the
  diversity metric); falls back to the interaction matrix when there is no catalog.
- ``item_label_codes``: int codes of a categorical column, -1 when unknown.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from recsys.data.dataset import Dataset
from recsys.data.prices import price_bands
from recsys.data.schema import Col

#: Text columns: ``title``, ``description`` and language/variant suffixes (``title_zh``, ``description_en``).
TEXT_COLUMN_PATTERN = re.compile(r"^(title|description)(_[a-z0-9]+)?$", re.IGNORECASE)
#: Catalog columns never used as attributes (ids, free text, raw numbers, links).
_NON_ATTRIBUTE_COLUMNS = {Col.ITEM, Col.PRICE, "url", "image", "image_url", "link"}
#: Core attribute columns, always one-hot encoded when present.
CORE_ATTRIBUTES: tuple[str, ...] = (Col.CATEGORY, Col.BRAND, Col.PRICE_BAND)
_MULTI_SEP = "|"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)


# ---------------------------------------------------------------------------- column helpers
def text_columns(catalog: pd.DataFrame) -> list[str]:
    """Catalog columns that hold free text (``title``, ``description``, ``title_zh`` ...)."""
    return [c for c in catalog.columns if TEXT_COLUMN_PATTERN.match(str(c))]


def _clean_strings(values: pd.Series) -> pd.Series:
    """Strings with missing values as ''."""
    out = values.astype(object).where(values.notna(), "")
    return out.astype(str).str.strip()


def _item_text(catalog: pd.DataFrame) -> pd.Series:
    """One document per item: its text columns joined with a space ('' when none)."""
    cols = text_columns(catalog)
    if not cols:
        return pd.Series([""] * len(catalog), index=catalog.index)
    text = _clean_strings(catalog[cols[0]])
    for c in cols[1:]:
        text = text + " " + _clean_strings(catalog[c])
    return text.str.strip().str.lower()


def _attribute_values(dataset: Dataset, column: str) -> np.ndarray:
    """(n_items,) object array of the column's values ('' when unknown).

    ``price_band`` is derived from ``price`` when missing.
    """
    cat = dataset.catalog
    if column == Col.PRICE_BAND and Col.PRICE_BAND not in cat.columns and Col.PRICE in cat.columns:
        return price_bands(cat[Col.PRICE])
    if column not in cat.columns:
        return np.full(dataset.n_items, "", dtype=object)
    return _clean_strings(cat[column]).to_numpy(dtype=object)


def attribute_columns(dataset: Dataset, max_values: int = 100) -> list[str]:
    """Columns one-hot encoded as attributes.

    The core ones present (``price_band`` also when derivable from ``price``) plus extra
    low-cardinality columns (at most ``max_values`` distinct values after splitting on ``|``,
    and not unique per item).
    """
    cat = dataset.catalog
    out = [
        c
        for c in CORE_ATTRIBUTES
        if c in cat.columns or (c == Col.PRICE_BAND and Col.PRICE in cat.columns)
    ]
    for c in cat.columns:
        if c in out or c in _NON_ATTRIBUTE_COLUMNS or TEXT_COLUMN_PATTERN.match(str(c)):
            continue
        s = cat[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric and not _is_integral(s):
            continue  # continuous numbers (ratings, prices) are not categories
        values = _clean_strings(s)
        values = values[values != ""]
        if len(values) == 0:
            continue
        tokens = values.str.split(_MULTI_SEP, regex=False).explode().str.strip()
        n_distinct = tokens[tokens != ""].nunique()
        limit = min(max_values, 20) if numeric else max_values
        if 1 <= n_distinct <= limit and n_distinct < len(values):
            out.append(c)
    return out


def _is_integral(s: pd.Series) -> bool:
    v = s.dropna().to_numpy(dtype=np.float64)
    return bool(len(v) and np.all(v == np.round(v)))


# ---------------------------------------------------------------------------- sparse features
def item_attribute_matrix(
    dataset: Dataset, *, max_values: int = 100
) -> tuple[sp.csr_matrix, list[str]]:
    """Binary one-hot attributes.

    Returns
    -------
    matrix : (n_items, n_features) float32 CSR with 1 for each ``column=value`` the item has
        (several per column for ``|``-separated multi-values such as ``genres``).
    names : (n_features,) feature names ``"column=value"``.
    """
    key = ("features.attributes", max_values)
    if key in dataset._cache:
        return dataset._cache[key]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    names: list[str] = []
    for column in attribute_columns(dataset, max_values=max_values):
        values = pd.Series(_attribute_values(dataset, column))
        tokens = values.str.split(_MULTI_SEP, regex=False).explode().str.strip()
        tokens = tokens[tokens.notna() & (tokens != "")]
        codes, uniques = pd.factorize(tokens, sort=True)
        rows.append(tokens.index.to_numpy())
        cols.append(codes + len(names))
        names.extend(f"{column}={u}" for u in uniques)
    if names:
        r, c = np.concatenate(rows), np.concatenate(cols)
        m = sp.csr_matrix(
            (np.ones(len(r), np.float32), (r, c)), shape=(dataset.n_items, len(names))
        )
        m.sum_duplicates()
        m.data[:] = 1.0
    else:
        m = sp.csr_matrix((dataset.n_items, 0), dtype=np.float32)
    dataset._cache[key] = (m, names)
    return m, names


def tokenize(text: str) -> list[str]:
    """Word tokens for compact text features.

    Latin/digit words of 2+ characters, and character bigrams of CJK runs (a single
    character when the run has one).
    """
    out: list[str] = []
    for tok in _TOKEN_RE.findall(text.lower()):
        if re.match(rf"[{_CJK}]", tok):
            out.extend([tok] if len(tok) == 1 else [tok[i : i + 2] for i in range(len(tok) - 1)])
        elif len(tok) >= 2:
            out.append(tok)
    return out


def item_token_matrix(
    dataset: Dataset, *, max_features: int = 300, min_df: int = 2, max_share: float = 1.0
) -> tuple[sp.csr_matrix, list[str]]:
    """Binary bag of the ``max_features`` most frequent text tokens (see ``tokenize``).

    Tokens found in more than ``max_share`` of the items (words every title has) are left out.

    Returns ``(matrix (n_items, n_tokens) float32 CSR, names "text=token")``; (n_items, 0)
    when there is no text.
    """
    key = ("features.tokens", max_features, min_df, max_share)
    if key in dataset._cache:
        return dataset._cache[key]
    docs = _item_text(dataset.catalog)
    m, names = sp.csr_matrix((dataset.n_items, 0), dtype=np.float32), []
    if max_features > 0 and (docs != "").any():
        vec = CountVectorizer(
            analyzer=tokenize,
            binary=True,
            max_features=max_features,
            min_df=min(min_df, int((docs != "").sum())),
            max_df=float(max_share) if max_share < 1.0 else 1.0,
            dtype=np.float32,
        )
        try:
            m = vec.fit_transform(docs.tolist()).tocsr()
            names = [f"text={t}" for t in vec.get_feature_names_out()]
        except ValueError:  # empty vocabulary
            pass
    dataset._cache[key] = (m, names)
    return m, names


def item_feature_matrix(
    dataset: Dataset,
    *,
    text: bool = True,
    attributes: bool = True,
    max_text_features: int = 20000,
    text_weight: float = 1.0,
    attribute_weight: float = 1.0,
    ngram_range: tuple[int, int] = (2, 4),
) -> tuple[sp.csr_matrix, list[str]]:
    """Item content profiles for cosine similarity.

    Parameters
    ----------
    text : include TF-IDF over character n-grams (``analyzer="char_wb"``, ``ngram_range``,
        sublinear tf) of all text columns joined.
    attributes : include one-hot attributes (``item_attribute_matrix``).
    max_text_features : vocabulary size cap of the n-gram TF-IDF.
    text_weight, attribute_weight : block weights (each block is L2-normalised first).

    Returns
    -------
    matrix : (n_items, n_features) float32 CSR, rows L2-normalised; all-zero rows for items
        the catalog says nothing about.
    names : (n_features,) feature names (``"text:ngram"``, ``"column=value"``).
    """
    key = (
        "features.matrix",
        text,
        attributes,
        max_text_features,
        float(text_weight),
        float(attribute_weight),
        tuple(ngram_range),
    )
    if key in dataset._cache:
        return dataset._cache[key]
    blocks: list[sp.csr_matrix] = []
    names: list[str] = []
    if text and text_weight > 0:
        docs = _item_text(dataset.catalog)
        if (docs != "").any():
            vec = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(ngram_range),
                max_features=max_text_features,
                sublinear_tf=True,
                dtype=np.float32,
            )
            try:
                t = vec.fit_transform(docs.tolist())
                blocks.append(normalize(t.tocsr()) * np.float32(text_weight))
                names.extend(f"text:{g}" for g in vec.get_feature_names_out())
            except ValueError:  # empty vocabulary
                pass
    if attributes and attribute_weight > 0:
        a, a_names = item_attribute_matrix(dataset)
        if a.shape[1]:
            blocks.append(normalize(a) * np.float32(attribute_weight))
            names.extend(a_names)
    if blocks:
        m = normalize(sp.hstack(blocks, format="csr")).astype(np.float32)
    else:
        m = sp.csr_matrix((dataset.n_items, 0), dtype=np.float32)
    m.eliminate_zeros()
    dataset._cache[key] = (m, names)
    return m, names


# ---------------------------------------------------------------------------- dense vectors
def _svd_rows(x: sp.csr_matrix, dim: int, random_state: int) -> np.ndarray:
    """(n_rows, dim) float32 left singular vectors scaled by singular values, zero-padded."""
    n, f = x.shape
    out = np.zeros((n, dim), np.float32)
    if n == 0 or f == 0 or x.nnz == 0:
        return out
    if min(n, f) <= dim + 1 or min(n, f) < 50:
        u, s, _ = np.linalg.svd(x.toarray().astype(np.float64), full_matrices=False)
        k = min(dim, len(s))
        out[:, :k] = (u[:, :k] * s[:k]).astype(np.float32)
    else:
        svd = TruncatedSVD(n_components=dim, algorithm="randomized", random_state=random_state)
        out[:] = svd.fit_transform(x).astype(np.float32)
    return out


def item_dense_vectors(dataset: Dataset, dim: int = 32, random_state: int = 0) -> np.ndarray:
    """Dense unit-norm item vectors for diversity (MMR, intra-list diversity).

    TruncatedSVD of ``item_feature_matrix``; when the catalog gives no features at all, SVD of
    the item columns of the interaction matrix (binary) instead. Items with neither (no
    catalog row and, in the fallback, no interactions) get a zero vector: similar to nothing.

    Returns
    -------
    (n_items, dim) float32, rows of unit L2 norm (or zero, see above).
    """
    key = ("features.dense", dim, random_state)
    if key in dataset._cache:
        return dataset._cache[key]
    f, _ = item_feature_matrix(dataset)
    if f.nnz == 0:
        f = dataset.matrix("ones").T.tocsr()
    vec = _svd_rows(f, dim, random_state)
    norms = np.linalg.norm(vec, axis=1, keepdims=True)
    vec = np.divide(vec, norms, out=np.zeros_like(vec), where=norms > 1e-12)
    dataset._cache[key] = vec
    return vec


def item_label_codes(dataset: Dataset, column: str) -> np.ndarray:
    """(n_items,) int32 codes of a categorical catalog column (sorted values), -1 when unknown.

    ``price_band`` is derived from ``price`` when the catalog has no such column; a missing
    column gives all -1.
    """
    values = pd.Series(_attribute_values(dataset, column))
    codes, _ = pd.factorize(values.where(values != ""), sort=True)
    return codes.astype(np.int32)


def category_sets(values) -> tuple[sp.csr_matrix, list[str]] | None:
    """Multi-valued categories ("Action|Comedy") as an (n_items, n_labels) CSR matrix.

    Each item's row spreads weight 1 over its k values (1/k each), so shares computed through
    it count every value and still add up to one per item; labels are sorted. None when no
    item has more than one value: single-valued catalogs keep their label codes.
    """
    parts = pd.Series(values, dtype=object).fillna("").astype(str).str.split("|").explode()
    parts = parts.str.strip()
    parts = parts[parts != ""]
    if parts.empty or not parts.index.duplicated().any():
        return None
    codes, labels = pd.factorize(parts, sort=True)
    rows = parts.index.to_numpy(dtype=np.int64)
    pairs = np.unique(np.stack([rows, codes.astype(np.int64)]), axis=1)  # a value once per item
    per_item = np.bincount(pairs[0], minlength=len(values)).astype(np.float32)
    weights = 1.0 / per_item[pairs[0]]
    shape = (len(values), len(labels))
    return sp.csr_matrix((weights, (pairs[0], pairs[1])), shape=shape), [str(x) for x in labels]


def item_category_sets(dataset: Dataset) -> tuple[sp.csr_matrix, list[str]] | None:
    """The catalog's multi-valued categories (``Col.GENRES``) as ``category_sets``.

    None when the catalog has none (every item has at most one category).
    """
    if Col.GENRES not in dataset.catalog.columns:
        return None
    return category_sets(_attribute_values(dataset, Col.GENRES))


__all__ = [
    "attribute_columns",
    "category_sets",
    "item_category_sets",
    "item_attribute_matrix",
    "item_dense_vectors",
    "item_feature_matrix",
    "item_label_codes",
    "item_token_matrix",
    "text_columns",
    "tokenize",
]
