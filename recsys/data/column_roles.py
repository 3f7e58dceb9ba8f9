"""Column roles: which column of an upload is the user, the item, the event, the price ...

Columns are recognised by name in English or Chinese (case-, space- and underscore-
insensitive, see :func:`detect_roles`); an explicit ``{role: column}`` mapping wins
(:func:`resolve_mapping`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Literal

from recsys.errors import DataValidationError

Kind = Literal["interactions", "catalog", "users"]

#: role -> accepted column names, best first (compared after ``_norm_name``).
# fmt: off
_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "user": (
        "user_id", "userId", "user", "customer_id", "CustomerID", "customer", "visitorid",
        "visitor_id", "reviewerID", "member_id", "buyer_id", "client_id", "uid", "用户ID", "用户",
        "会员ID", "会员", "客户ID", "顾客ID", "买家ID",
    ),
    "item": (
        "item_id", "itemId", "item", "product_id", "productId", "product", "sku", "StockCode",
        "asin", "movieId", "book_id", "isbn", "article_id", "goods_id", "iid", "商品ID", "商品编号",
        "商品", "货号", "产品ID", "SKU编码",
    ),
    "rating": (
        "rating", "score", "stars", "star", "rating_value", "overall", "评分", "打分", "星级",
    ),
    "timestamp": (
        "timestamp", "datetime", "event_time", "InvoiceDate", "order_date", "order_time", "time", "date", "ts",
        "created_at", "when", "event_date", "purchase_date", "unixReviewTime", "时间", "时间戳",
        "日期", "下单时间",
    ),
    "event": (
        "event", "event_type", "behavior", "behaviour", "behavior_type", "action", "action_type",
        "interaction", "行为", "行为类型", "事件",
    ),
    "quantity": (
        "quantity", "qty", "amount_qty", "count", "数量", "购买数量",
    ),
    "order": (
        "InvoiceNo", "invoice", "invoice_no", "order_id", "transaction_id", "订单号", "订单ID",
    ),
    "title": (
        "title", "name", "product_name", "item_name", "product_title", "标题", "商品名称", "名称", "商品标题",
        "产品名称",
    ),
    "description": (
        "description", "desc", "details", "detail", "描述", "商品描述", "详情",
    ),
    "category": (
        "category", "categories", "genres", "genre", "category_name", "category_id", "cat", "类目",
        "分类", "类别", "品类", "类目ID",
    ),
    "brand": (
        "brand", "brand_name", "manufacturer", "品牌",
    ),
    "price": (
        "price", "UnitPrice", "unit_price", "sale_price", "价格", "单价", "售价",
    ),
}
# fmt: on

ITEM_ATTRIBUTE_ROLES: tuple[str, ...] = ("title", "description", "category", "brand", "price")
KIND_ROLES: dict[str, tuple[str, ...]] = {
    # detection order: a column taken by an earlier role is not offered to later ones
    "interactions": (
        "user",
        "item",
        "event",
        "rating",
        "quantity",
        "timestamp",
        "order",
        "description",
        "title",
        "category",
        "brand",
        "price",
    ),
    "catalog": ("item", "description", "title", "category", "brand", "price"),
    "users": ("user",),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "interactions": ("user", "item"),
    "catalog": ("item",),
    "users": ("user",),
}
#: A user attribute with more distinct values than this, and mostly unique, is free text.


def _norm_name(name: str) -> str:
    """Column name -> comparison key: NFKC, lower case, no spaces / ``_`` / ``-`` / ``.``."""
    name = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return re.sub(r"[\s_\-.]+", "", name.lower())


_ALIAS_KEYS: dict[str, tuple[str, ...]] = {
    role: tuple(dict.fromkeys(_norm_name(a) for a in aliases))
    for role, aliases in _ROLE_ALIASES.items()
}


def role_aliases(role: str) -> tuple[str, ...]:
    """Column names recognised for ``role`` (for help texts and error messages)."""
    return _ROLE_ALIASES[role]


def detect_roles(columns: Sequence[str], kind: Kind) -> dict[str, str]:
    """Guess which column plays which role.

    Parameters
    ----------
    columns : column names as in the file.
    kind : ``"interactions"`` (roles user, item, event, rating, quantity, timestamp, order and
        the item attributes title, description, category, brand, price that a log may carry)
        or ``"catalog"`` (item, title, description, category, brand, price).

    Returns
    -------
    dict role -> column, only for roles found. Each column gets at most one role. A
    ``Description`` column is the title when there is no title-like column (Online Retail).
    """
    keys = [_norm_name(c) for c in columns]
    taken: set[int] = set()
    found: dict[str, str] = {}
    for role in KIND_ROLES[kind]:
        for alias in _ALIAS_KEYS[role]:
            hit = next((i for i, k in enumerate(keys) if k == alias and i not in taken), None)
            if hit is not None:
                found[role] = columns[hit]
                taken.add(hit)
                break
    if "title" not in found and "description" in found:
        found["title"] = found.pop("description")
    order = KIND_ROLES[kind]
    return {role: found[role] for role in order if role in found}


def resolve_mapping(
    columns: Sequence[str], kind: Kind, mapping: Mapping[str, str | None] | None, file_name: str
) -> dict[str, str]:
    """Detected roles updated by an explicit mapping; validates the explicit part."""
    roles = detect_roles(columns, kind)
    if mapping:
        known = KIND_ROLES[kind]
        for role, column in mapping.items():
            if role not in known:
                raise DataValidationError(
                    f"unknown role '{role}' in the column mapping; roles for {kind} are: "
                    + ", ".join(known)
                    + ".",
                    file=file_name,
                )
            if column is None or str(column).strip() == "":
                roles.pop(role, None)  # explicitly "no column for this role"
                continue
            if column not in columns:
                stripped = {str(c).strip().lower(): c for c in columns}
                if str(column).strip().lower() not in stripped:
                    raise DataValidationError(
                        f"the mapping says {role} = '{column}', but there is no such column. "
                        "Columns in the file: " + ", ".join(f"'{c}'" for c in columns) + ".",
                        file=file_name,
                        column=str(column),
                    )
                column = stripped[str(column).strip().lower()]
            # a column explicitly given to a role is taken away from any other detected role
            for other in [r for r, c in roles.items() if c == column and r != role]:
                if other not in mapping:
                    roles.pop(other)
            roles[role] = column
    for role in _REQUIRED[kind]:
        if role not in roles:
            names = ", ".join(_ROLE_ALIASES[role][:10])
            raise DataValidationError(
                f"no {role} column found. Columns in the file: "
                + ", ".join(f"'{c}'" for c in columns)
                + f". We look for names like {names}. Rename the column, or map it "
                f"explicitly (in the app's column mapping, or --map {role}=COLUMN).",
                file=file_name,
            )
    order = KIND_ROLES[kind]
    return {role: roles[role] for role in order if role in roles}


__all__ = [
    "ITEM_ATTRIBUTE_ROLES",
    "Kind",
    "KIND_ROLES",
    "detect_roles",
    "resolve_mapping",
    "role_aliases",
]
