r"""Personal data in uploads: find it, then drop it or replace it by a keyed hash.

``find_personal_columns`` looks at a sample of every column of a raw upload (all strings) and
flags the columns whose non-empty values mostly look like **e-mail addresses**, **phone
numbers**, **street addresses** or (when the column name says so) **person names**. It reports
the column, the kind and the share of matching values, never a value. Shapes alone decide for
e-mails, formatted phone numbers and addresses; bare digit strings count as phone numbers only
in a column named like one (``phone``, ``mobile``, ``电话`` ...) or in the Chinese mobile
format ``1[3-9]xxxxxxxxx``, so numeric ids are not flagged; names need a name-like column name
(``name``, ``first_name``, ``姓名`` ...) because a product title has the same shape.

``pseudonymise`` replaces values by ``HMAC-SHA-256(key, value)`` (hex, first 16 bytes): the
same key always gives the same pseudonym, so joins still work, and only the key holder can
link a pseudonym back (``mapping`` keeps the pairs for a local re-identification file).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from recsys.data.cleaning import strip_text
from recsys.data.column_roles import Kind, detect_roles
from recsys.data.csv_reader import RawTable
from recsys.data.report import ReadinessReport

log = logging.getLogger(__name__)

#: Kinds of personal data recognised.
PERSONAL_KINDS: tuple[str, ...] = ("email", "phone", "address", "name")
#: A column is flagged when at least this share of its sampled non-empty values match.
MATCH_SHARE = 0.6
#: Values looked at per column (the first ones, then a seeded sample of the rest).
SAMPLE_VALUES = 2000
#: Hex characters of a pseudonym (64 bits; collisions need about 4 billion distinct ids).
PSEUDONYM_CHARS = 16
#: Provenance column of a pseudonymised export: how its user ids were replaced.
PSEUDONYMISED_COLUMN = "user_id_pseudonymised"
PSEUDONYMISED_VALUE = "HMAC-SHA-256"

_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_PHONE_FORMATTED = r"(\+\d{1,3}[\s.\-]?)?(\(\d{1,4}\)[\s.\-]?)?\d{2,4}([\s.\-]\d{2,4}){1,4}"
_PHONE_DIGITS = r"\+?\d{7,15}"
_CN_MOBILE = r"(\+?86[\s\-]?)?1[3-9]\d{9}"
_ISO_DATE = r"\d{4}[\-./]\d{1,2}[\-./]\d{1,2}"
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|drive|dr|way|court|ct|place|pl|"
    r"square|sq|terrace|highway|hwy|strasse|straße|rue|calle|via"
)
_ADDRESS = (
    rf"(?i:\d+[A-Za-z]?\s+(\w+\s+){{0,4}}({_STREET_WORDS})\.?\b.*)"
    r"|(.*[\u4e00-\u9fff]+(路|街|大道|巷|弄|胡同)\s*\d+\s*号.*)"
)
_NAME_LATIN = r"[A-ZÀ-Þ][\w'\-]+(\s+[A-ZÀ-Þ][\w'\-]+){1,3}"
_NAME_CJK = r"[\u4e00-\u9fff]{2,4}"

_NAME_HINTS = (
    "name", "fullname", "firstname", "lastname", "surname", "givenname", "customername",
    "contactname", "recipient", "consignee", "姓名", "名字", "收货人", "联系人", "客户姓名",
)  # fmt: skip
_NOT_NAME_HINTS = ("productname", "itemname", "brandname", "categoryname", "storename", "skuname")
_PHONE_HINTS = ("phone", "mobile", "tel", "telephone", "cell", "手机", "电话", "联系电话")


@dataclass(frozen=True)
class PersonalColumn:
    """A column that holds personal data: which, what kind, and the share of matching values."""

    file: str
    column: str
    kind: str
    share: float

    def describe(self) -> str:
        """One line for reports and logs (never a value)."""
        return (
            f"file '{self.file}', column '{self.column}': looks like {self.kind} "
            f"({self.share:.0%} of sampled values)"
        )


def _key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name).lower())


#: Rows judged at once by :func:`_filled` (``\S`` is Python's regex, a string object per row).
_BLOCK_ROWS = 1 << 18


def _filled(values: pd.Series) -> np.ndarray:
    r"""(n,) bool: the value holds a character other than whitespace.

    A categorical column is judged on its categories (one byte a row, where pandas' own
    ``.str`` on a categorical makes an object per row); a text column block by block, as pandas
    runs ``\S`` through Python's ``re`` (RE2's ``\s`` misses some whitespace), which makes a
    string object per row: at once, about 540 MB for a column of 6.4M times.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array
        judged = pd.Series(cat.categories, dtype=object).str.contains(r"\S", regex=True)
        return np.append(judged.to_numpy(dtype=bool), False)[cat.codes]  # code -1: missing
    text = values.astype(str)
    out = np.empty(len(text), dtype=bool)
    for i in range(0, len(text), _BLOCK_ROWS):
        block = text.iloc[i : i + _BLOCK_ROWS]
        out[i : i + len(block)] = block.str.contains(r"\S", regex=True).to_numpy(dtype=bool)
    return out


def _sample(values: pd.Series, seed: int = 0) -> pd.Series:
    """Up to ``SAMPLE_VALUES`` non-empty values, stripped.

    The first half, then a seeded random half of the rest (as ``Series.sample``). Only the
    sampled values are copied, never the whole column.
    """
    filled = _filled(values)
    positions = np.flatnonzero(filled)
    if len(positions) > SAMPLE_VALUES:
        half = SAMPLE_VALUES // 2
        rest = positions[half:]
        picked = np.random.RandomState(seed).choice(len(rest), size=half, replace=False)
        positions = np.concatenate([positions[:half], rest[picked]])
    return strip_text(values.iloc[positions]).astype(str).reset_index(drop=True)


def _share(s: pd.Series, pattern: str) -> float:
    return float(s.str.fullmatch(pattern).mean()) if len(s) else 0.0


def classify_column(name: str, values: pd.Series) -> tuple[str, float] | None:
    """``(kind, share)`` when the column looks personal, else None (module docstring)."""
    s = _sample(values)
    if len(s) == 0:
        return None
    key = _key(name)
    scores = {"email": _share(s, _EMAIL)}
    not_date = ~s.str.fullmatch(_ISO_DATE)
    phone_like = s.str.fullmatch(_PHONE_FORMATTED) & s.str.contains(r"[\s.\-()+]") & not_date
    phone_like |= s.str.fullmatch(_CN_MOBILE)
    if any(h in key for h in _PHONE_HINTS):
        phone_like |= s.str.fullmatch(_PHONE_DIGITS)
    digits = s.str.count(r"\d")
    scores["phone"] = float((phone_like & (digits >= 7) & (digits <= 15)).mean())
    scores["address"] = _share(s, _ADDRESS)
    if any(h in key for h in _NAME_HINTS) and not any(h in key for h in _NOT_NAME_HINTS):
        shaped = s.str.fullmatch(_NAME_LATIN) | s.str.fullmatch(_NAME_CJK)
        scores["name"] = float((shaped & ~s.str.contains(r"\d")).mean())
    kind = max(scores, key=lambda k: scores[k])
    return (kind, scores[kind]) if scores[kind] >= MATCH_SHARE else None


def find_personal_columns(
    frame: pd.DataFrame, file_name: str, columns: Sequence[str] | None = None
) -> list[PersonalColumn]:
    """Columns of a raw upload (strings) that look like personal data; values never kept."""
    out = []
    for column in columns if columns is not None else frame.columns:  # a few columns
        found = classify_column(str(column), frame[column])
        if found is not None:
            out.append(PersonalColumn(file_name, str(column), found[0], round(found[1], 3)))
    return out


def pseudonymise(values: pd.Series | Sequence[str], key: bytes) -> np.ndarray:
    """(n,) object array: ``HMAC-SHA-256(key, value)`` hex (``PSEUDONYM_CHARS``) per value.

    Each distinct value is hashed once (a million distinct ids take about a second).
    """
    if len(key) < 16:
        raise ValueError("the pseudonymisation key must have at least 16 bytes.")
    codes, uniques = pd.factorize(pd.Series(values, dtype=object).astype(str), sort=False)
    hashed = np.asarray(
        [
            hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]
            for u in uniques
        ],
        dtype=object,
    )
    return hashed[codes] if len(codes) else np.zeros(0, dtype=object)


def mapping(values: pd.Series | Sequence[str], key: bytes) -> pd.DataFrame:
    """``pseudonym, original`` for each distinct value: the local re-identification file."""
    distinct = pd.Series(pd.unique(pd.Series(values, dtype=object).astype(str)), dtype=object)
    return pd.DataFrame({"pseudonym": pseudonymise(distinct, key), "original": distinct})


def protect(
    frame: pd.DataFrame,
    found: Sequence[PersonalColumn],
    action: str,
    key: bytes | None = None,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """A copy of ``frame`` with the ``found`` columns dropped (``action="drop"``) or hashed.

    Columns in ``keep`` (those the data needs, such as the user id) are hashed, never dropped.
    ``action="keep"`` returns ``frame`` unchanged.
    """
    if action == "keep" or not found:
        return frame
    if action not in ("drop", "hash"):
        raise ValueError(f"unknown action '{action}': keep, drop or hash.")
    out = frame.copy()
    for col in found:
        if col.column not in out.columns:
            continue
        if action == "drop" and col.column not in keep:
            out = out.drop(columns=col.column)
        else:
            if key is None:
                raise ValueError("hashing personal data needs a key.")
            out[col.column] = pseudonymise(out[col.column], key)
    return out


__all__ = [
    "MATCH_SHARE",
    "PERSONAL_KINDS",
    "PSEUDONYMISED_COLUMN",
    "PSEUDONYMISED_VALUE",
    "PersonalColumn",
    "classify_column",
    "find_personal_columns",
    "mapping",
    "protect",
    "pseudonymise",
]


def screen_personal(
    report: ReadinessReport,
    raw: RawTable,
    kind: Kind,
    personal: tuple[str, bytes | None],
    mapping: Mapping[str, str | None] | None = None,
) -> RawTable:
    """Report the raw table's personal-data columns (no values); drop or hash them if asked.

    Columns that play a role (the user id, a title ...) are hashed, never dropped.
    """
    action, key = personal
    found = find_personal_columns(raw.frame, raw.file_name)
    if not found:
        return raw
    ids = set(detect_roles(list(raw.frame.columns), kind).values())
    ids |= {str(c) for c in (mapping or {}).values() if c}
    for col in found:
        done = {"keep": "kept", "drop": "dropped", "hash": "hashed"}[action]
        if action == "drop" and col.column in ids:
            done = "hashed (an id column is needed)"
        report.personal_columns.append({**asdict(col), "action": done})
        advice = "; drop or hash it before sharing the data" if action == "keep" else ""
        report.warnings.append(f"{col.describe()}: personal data, {done}{advice}.")
    log.info("%d column(s) of %s look like personal data (%s)", len(found), kind, action)
    frame = protect(raw.frame, found, action, key, keep=sorted(ids))
    return replace(raw, frame=frame)
