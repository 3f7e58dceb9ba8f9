"""A seeded phone-and-accessories store: a bilingual catalog and a view → cart → purchase log.

The generator plants the structure real stores have, so every model family has something
to learn and fusion has something to gain:

* **collaborative signal** – users belong to latent segments (gamers, photographers, budget
  students, business, fitness, family); each segment owns a few *taste clusters* of items that
  are drawn at random, independent of the item text, so only co-occurrence reveals them;
* **content signal** – brand loyalty, a price band per user and an *ecosystem*: whoever owns a
  Galaxy S24 browses S24 cases and protectors, Samsung earbuds and watches, chargers;
* **popularity** – a Zipf-like long tail;
* **funnels over time** – sessions of one or more views, sometimes a cart, sometimes a purchase
  later, over six months ending 2024-06-30; accessories follow the phone purchase.

Everything is vectorised with numpy (no per-user or per-event Python loop), so the default
store (2,000 users, 500 items, 50,000 events) takes a fraction of a second and benchmark sizes
(1M users, 20k items, 20M events) remain feasible.

The frames look like a raw export: string ids (item ids are zero-padded digits such as
``00042`` – a classic ingest trap – user ids look like ``U000123``), ISO timestamps as strings,
English and Chinese text (``title``/``title_zh`` and a bilingual ``description``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Seed of the demo store the app loads on first start.
DEMO_SEED = 42

#: Last moment of the generated log; the log covers ``HISTORY_DAYS`` days before it.
END_DATE = np.datetime64("2024-06-30T23:59:59", "s")
HISTORY_DAYS = 182

PERSONAS: tuple[str, ...] = (
    "gamers",
    "photographers",
    "budget students",
    "business",
    "fitness",
    "family",
)
_SEGMENT_SHARE = np.array([0.18, 0.15, 0.22, 0.15, 0.14, 0.16])
#: P(price band | segment); bands are 0 budget, 1 mid, 2 premium.
_SEGMENT_BAND = np.array(
    [
        [0.30, 0.50, 0.20],
        [0.10, 0.40, 0.50],
        [0.70, 0.25, 0.05],
        [0.05, 0.35, 0.60],
        [0.30, 0.50, 0.20],
        [0.45, 0.40, 0.15],
    ]
)
PRICE_BANDS: tuple[str, ...] = ("budget", "mid", "premium")
EVENTS: tuple[str, ...] = ("view", "cart", "purchase", "favorite")

# ---------------------------------------------------------------------------- vocabulary
BRAND_ZH: dict[str, str] = {
    "Apple": "苹果",
    "Samsung": "三星",
    "Xiaomi": "小米",
    "Huawei": "华为",
    "OPPO": "OPPO",
    "vivo": "vivo",
    "OnePlus": "一加",
    "Honor": "荣耀",
    "Anker": "安克",
    "Baseus": "倍思",
    "UGREEN": "绿联",
    "Sony": "索尼",
    "ESR": "亿色",
    "Nillkin": "耐尔金",
    "Spigen": "Spigen",
    "Belkin": "贝尔金",
    "Amazfit": "华米",
    "Edifier": "漫步者",
    "Romoss": "罗马仕",
}

COLORS: dict[str, str] = {
    "Black": "黑色",
    "White": "白色",
    "Blue": "蓝色",
    "Green": "绿色",
    "Purple": "紫色",
    "Gray": "灰色",
    "Pink": "粉色",
    "Gold": "金色",
    "Silver": "银色",
    "Clear": "透明",
}


@dataclass(frozen=True)
class _Phone:
    brand: str
    model: str
    model_zh: str
    price: float  # CNY, base storage
    launch: str
    tier: int  # 0 budget, 1 mid, 2 premium
    tags: tuple[str, ...]  # segments this phone appeals to
    share: float  # market share weight
    storages: tuple[int, ...] = (128, 256, 512)
    colors: tuple[str, ...] = ("Black", "White", "Blue")


PHONES: tuple[_Phone, ...] = (
    _Phone(
        "Apple",
        "iPhone 15 Pro Max",
        "iPhone 15 Pro Max",
        9999,
        "2023-09-22",
        2,
        ("business", "photographers"),
        5.0,
        (256, 512, 1024),
        ("Black", "White", "Blue", "Gray"),
    ),
    _Phone(
        "Apple",
        "iPhone 15 Pro",
        "iPhone 15 Pro",
        7999,
        "2023-09-22",
        2,
        ("business", "photographers"),
        5.0,
        (128, 256, 512),
        ("Black", "White", "Blue", "Gray"),
    ),
    _Phone(
        "Apple",
        "iPhone 15",
        "iPhone 15",
        5999,
        "2023-09-22",
        1,
        ("family", "fitness"),
        6.0,
        (128, 256, 512),
        ("Black", "Blue", "Green", "Pink"),
    ),
    _Phone(
        "Apple",
        "iPhone 14",
        "iPhone 14",
        5199,
        "2022-09-16",
        1,
        ("family", "budget students"),
        3.0,
        (128, 256),
        ("Black", "Blue", "Purple"),
    ),
    _Phone(
        "Apple",
        "iPhone 13",
        "iPhone 13",
        4399,
        "2021-09-24",
        1,
        ("budget students",),
        2.0,
        (128, 256),
        ("Black", "Pink", "Green"),
    ),
    _Phone(
        "Samsung",
        "Galaxy S24 Ultra",
        "Galaxy S24 Ultra",
        9699,
        "2024-01-31",
        2,
        ("photographers", "business"),
        3.0,
        (256, 512, 1024),
        ("Black", "Gray", "Purple"),
    ),
    _Phone(
        "Samsung",
        "Galaxy S24",
        "Galaxy S24",
        5999,
        "2024-01-31",
        1,
        ("fitness", "photographers"),
        3.0,
        (256, 512),
        ("Black", "Purple", "Gold"),
    ),
    _Phone(
        "Samsung",
        "Galaxy S23",
        "Galaxy S23",
        4999,
        "2023-02-17",
        1,
        ("family",),
        1.5,
        (128, 256),
        ("Black", "Green", "Pink"),
    ),
    _Phone(
        "Samsung",
        "Galaxy Z Flip5",
        "Galaxy Z Flip5",
        7499,
        "2023-08-11",
        2,
        ("business",),
        1.0,
        (256, 512),
        ("Gray", "Green", "Purple"),
    ),
    _Phone(
        "Samsung",
        "Galaxy A54",
        "Galaxy A54",
        2999,
        "2023-03-15",
        0,
        ("family", "budget students"),
        1.5,
        (128, 256),
        ("Black", "White", "Green"),
    ),
    _Phone(
        "Xiaomi",
        "Xiaomi 14 Pro",
        "小米14 Pro",
        4999,
        "2023-10-31",
        2,
        ("photographers",),
        3.0,
        (256, 512, 1024),
        ("Black", "White", "Green"),
    ),
    _Phone(
        "Xiaomi",
        "Xiaomi 14",
        "小米14",
        3999,
        "2023-10-31",
        1,
        ("photographers", "fitness"),
        4.0,
        (256, 512),
        ("Black", "White", "Green", "Pink"),
    ),
    _Phone(
        "Xiaomi",
        "Redmi K70",
        "红米 K70",
        2499,
        "2023-11-29",
        1,
        ("gamers",),
        4.0,
        (256, 512),
        ("Black", "White", "Purple"),
    ),
    _Phone(
        "Xiaomi",
        "Redmi Note 13 Pro",
        "红米 Note 13 Pro",
        1399,
        "2023-09-26",
        0,
        ("budget students", "family"),
        5.0,
        (128, 256, 512),
        ("Black", "White", "Blue"),
    ),
    _Phone(
        "Xiaomi",
        "Redmi 13C",
        "红米 13C",
        799,
        "2023-11-08",
        0,
        ("budget students",),
        3.0,
        (128, 256),
        ("Black", "Blue", "Green"),
    ),
    _Phone(
        "Huawei",
        "Mate 60 Pro",
        "Mate 60 Pro",
        6999,
        "2023-08-29",
        2,
        ("business",),
        6.0,
        (256, 512, 1024),
        ("Black", "White", "Green", "Purple"),
    ),
    _Phone(
        "Huawei",
        "Pura 70",
        "Pura 70",
        5499,
        "2024-04-18",
        2,
        ("photographers",),
        3.0,
        (256, 512),
        ("Black", "White", "Pink"),
    ),
    _Phone(
        "Huawei",
        "nova 12",
        "nova 12",
        2999,
        "2023-12-26",
        1,
        ("family", "budget students"),
        3.0,
        (256, 512),
        ("Black", "White", "Green"),
    ),
    _Phone(
        "OPPO",
        "Find X7 Ultra",
        "Find X7 Ultra",
        5999,
        "2024-01-08",
        2,
        ("photographers",),
        2.0,
        (256, 512),
        ("Black", "Blue"),
    ),
    _Phone(
        "OPPO",
        "Reno 11",
        "Reno 11",
        2499,
        "2023-11-23",
        1,
        ("family", "fitness"),
        3.0,
        (256, 512),
        ("Black", "Green", "Blue"),
    ),
    _Phone(
        "OPPO",
        "A2",
        "A2",
        1299,
        "2023-11-10",
        0,
        ("budget students",),
        2.0,
        (128, 256),
        ("Black", "Purple"),
    ),
    _Phone(
        "vivo",
        "X100 Pro",
        "X100 Pro",
        4999,
        "2023-11-13",
        2,
        ("photographers",),
        2.5,
        (256, 512),
        ("Black", "White", "Blue"),
    ),
    _Phone(
        "vivo",
        "iQOO 12",
        "iQOO 12",
        3999,
        "2023-11-07",
        1,
        ("gamers",),
        3.0,
        (256, 512),
        ("Black", "White"),
    ),
    _Phone(
        "vivo",
        "S18",
        "S18",
        2299,
        "2023-12-14",
        1,
        ("family", "fitness"),
        2.0,
        (256, 512),
        ("Black", "Green", "Purple"),
    ),
    _Phone(
        "vivo",
        "Y78",
        "Y78",
        1599,
        "2023-06-01",
        0,
        ("budget students",),
        1.5,
        (128, 256),
        ("Black", "Gold"),
    ),
    _Phone(
        "OnePlus",
        "OnePlus 12",
        "一加 12",
        4299,
        "2023-12-05",
        2,
        ("gamers",),
        2.5,
        (256, 512),
        ("Black", "Green", "White"),
    ),
    _Phone(
        "OnePlus",
        "OnePlus Ace 3",
        "一加 Ace 3",
        2599,
        "2024-01-04",
        1,
        ("gamers", "budget students"),
        2.5,
        (256, 512),
        ("Black", "Blue", "Gold"),
    ),
    _Phone(
        "Honor",
        "Magic6 Pro",
        "荣耀 Magic6 Pro",
        5699,
        "2024-01-11",
        2,
        ("business", "photographers"),
        1.5,
        (256, 512),
        ("Black", "Green", "Purple"),
    ),
    _Phone(
        "Honor",
        "Honor 100",
        "荣耀 100",
        2499,
        "2023-11-23",
        1,
        ("family", "fitness"),
        2.0,
        (256, 512),
        ("Black", "White", "Purple"),
    ),
)
PHONE_BRANDS: tuple[str, ...] = tuple(dict.fromkeys(p.brand for p in PHONES))

# (brand, model, model_zh, price, launch, tags)
_EARPHONES: tuple[tuple[str, str, str, float, str, tuple[str, ...]], ...] = (
    ("Apple", "AirPods Pro 2", "AirPods Pro 2", 1899, "2023-09-22", ("business",)),
    ("Apple", "AirPods 3", "AirPods 3", 1399, "2021-10-26", ("family",)),
    ("Samsung", "Galaxy Buds2 Pro", "Galaxy Buds2 Pro", 1099, "2022-08-26", ("business",)),
    ("Samsung", "Galaxy Buds FE", "Galaxy Buds FE", 699, "2023-10-05", ("fitness",)),
    ("Huawei", "FreeBuds Pro 3", "FreeBuds Pro 3", 1499, "2023-09-25", ("business",)),
    ("Huawei", "FreeBuds 5i", "FreeBuds 5i", 549, "2023-01-10", ("budget students",)),
    ("Xiaomi", "Xiaomi Buds 4 Pro", "小米 Buds 4 Pro", 799, "2022-08-11", ("fitness",)),
    ("Xiaomi", "Redmi Buds 5", "红米 Buds 5", 199, "2023-12-01", ("budget students",)),
    ("Sony", "WF-1000XM5", "WF-1000XM5", 1999, "2023-07-25", ("photographers", "business")),
    ("Sony", "WH-1000XM5", "WH-1000XM5 头戴式", 2499, "2022-05-20", ("business",)),
    ("OPPO", "Enco X2", "Enco X2", 999, "2022-08-24", ("gamers",)),
    ("vivo", "vivo TWS 3", "vivo TWS 3", 599, "2022-12-06", ("gamers",)),
    ("OnePlus", "OnePlus Buds 3", "一加 Buds 3", 449, "2024-01-04", ("gamers",)),
    ("Anker", "Soundcore Liberty 4", "声阔 Liberty 4", 899, "2022-09-20", ("fitness",)),
    ("Anker", "Soundcore Life P3", "声阔 Life P3", 399, "2021-05-10", ("budget students",)),
    ("Edifier", "NeoBuds Pro 2", "NeoBuds Pro 2", 699, "2023-05-18", ("gamers",)),
)
_WATCHES: tuple[tuple[str, str, str, float, str, tuple[str, ...]], ...] = (
    (
        "Apple",
        "Apple Watch Series 9",
        "Apple Watch Series 9",
        2999,
        "2023-09-22",
        ("fitness", "business"),
    ),
    ("Apple", "Apple Watch SE", "Apple Watch SE", 1999, "2023-09-22", ("family",)),
    ("Apple", "Apple Watch Ultra 2", "Apple Watch Ultra 2", 6499, "2023-09-22", ("fitness",)),
    ("Samsung", "Galaxy Watch6", "Galaxy Watch6", 1999, "2023-08-11", ("fitness",)),
    (
        "Samsung",
        "Galaxy Watch6 Classic",
        "Galaxy Watch6 Classic",
        2799,
        "2023-08-11",
        ("business",),
    ),
    ("Huawei", "Watch GT 4", "Watch GT 4", 1488, "2023-09-25", ("fitness", "business")),
    ("Huawei", "Watch 4 Pro", "Watch 4 Pro", 3999, "2023-05-18", ("business",)),
    ("Huawei", "Band 8", "手环 8", 269, "2023-04-17", ("budget students", "fitness")),
    ("Xiaomi", "Xiaomi Watch S3", "小米 Watch S3", 799, "2023-10-26", ("fitness",)),
    ("Xiaomi", "Xiaomi Smart Band 8", "小米手环 8", 239, "2023-04-18", ("budget students",)),
    ("Amazfit", "Amazfit GTR 4", "Amazfit GTR 4", 1099, "2022-09-01", ("fitness",)),
    ("Amazfit", "Amazfit Balance", "Amazfit Balance", 1299, "2023-09-20", ("fitness",)),
    ("OPPO", "OPPO Watch 4 Pro", "OPPO Watch 4 Pro", 2299, "2023-08-10", ("gamers",)),
    ("Honor", "Honor Watch 4", "荣耀手表 4", 999, "2023-05-20", ("family",)),
)

# (style, style_zh, base price)
_CASE_STYLES = (
    ("Silicone Case", "液态硅胶保护壳", 59),
    ("Clear Case", "透明保护壳", 39),
    ("Leather Case", "真皮保护壳", 149),
    ("Rugged Armor Case", "军工防摔保护壳", 89),
    ("Magnetic Case", "磁吸保护壳", 99),
    ("Kickstand Case", "支架保护壳", 69),
)
_CASE_BRANDS = ("ESR", "Spigen", "Nillkin", "Baseus", "UGREEN", "Anker")
_PROTECTOR_STYLES = (
    ("Tempered Glass Screen Protector 2-Pack", "钢化玻璃膜 两片装", 39),
    ("Privacy Screen Protector", "防窥钢化膜", 59),
    ("Matte Screen Protector", "磨砂防指纹膜", 49),
    ("Camera Lens Protector", "镜头保护膜", 29),
)
_PROTECTOR_BRANDS = ("ESR", "Nillkin", "UGREEN", "Baseus", "Spigen", "Belkin")
_CHARGER_STYLES = (
    ("USB-C Wall Charger", "USB-C 充电头", (20, 30), 59),
    ("GaN Fast Charger", "氮化镓快充充电器", (45, 65, 100, 120), 129),
    ("Wireless Charging Pad", "无线充电板", (15,), 99),
    ("Magnetic Wireless Charger", "磁吸无线充电器", (15,), 149),
    ("Car Charger", "车载充电器", (30, 45), 69),
)
_CHARGER_BRANDS = ("Anker", "Baseus", "UGREEN", "Belkin", "Apple", "Samsung", "Xiaomi", "Huawei")
_CABLE_STYLES = (
    ("USB-C to USB-C Cable", "双 Type-C 数据线", 29),
    ("USB-C to Lightning Cable", "Type-C 转 Lightning 数据线", 49),
    ("USB-A to USB-C Cable", "USB-A 转 Type-C 数据线", 19),
    ("Braided Fast Charging Cable", "编织快充数据线", 39),
)
_CABLE_BRANDS = ("Anker", "Baseus", "UGREEN", "Apple", "Xiaomi", "Belkin")
_POWER_BANK_STYLES = (
    ("Power Bank", "移动电源", (10000, 20000), 99),
    ("Magnetic Power Bank", "磁吸充电宝", (5000, 10000), 199),
    ("Laptop Power Bank", "笔记本充电宝", (20000, 25000), 299),
)
_POWER_BANK_BRANDS = ("Anker", "Baseus", "UGREEN", "Xiaomi", "Romoss")

CATEGORIES: tuple[str, ...] = (
    "phone",
    "case",
    "screen protector",
    "charger",
    "cable",
    "power bank",
    "earphones",
    "smartwatch",
)
CATEGORY_ZH: dict[str, str] = {
    "phone": "手机",
    "case": "手机壳",
    "screen protector": "屏幕保护膜",
    "charger": "充电器",
    "cable": "数据线",
    "power bank": "充电宝",
    "earphones": "耳机",
    "smartwatch": "智能手表",
}
_CATEGORY_SHARE = np.array([0.14, 0.24, 0.14, 0.10, 0.08, 0.07, 0.12, 0.11])
#: P(cart | view session) per category; purchases follow carts.
_CART_RATE = np.array([0.12, 0.35, 0.38, 0.30, 0.40, 0.28, 0.20, 0.16])


def _round_price(p: np.ndarray) -> np.ndarray:
    """Shop-style prices: ...9 below 1,000 CNY, ...99 above."""
    p = np.maximum(np.asarray(p, dtype=np.float64), 9.0)
    small = np.round(p / 10.0) * 10.0 - 1.0
    large = np.round(p / 100.0) * 100.0 - 1.0
    return np.where(p < 1000, np.maximum(small, 9.0), large)


def _category_counts(n_items: int) -> np.ndarray:
    raw = _CATEGORY_SHARE / _CATEGORY_SHARE.sum() * n_items
    counts = np.maximum(np.floor(raw).astype(int), 1)
    while counts.sum() < n_items:
        counts[np.argmax(raw - counts)] += 1
    while counts.sum() > n_items:
        counts[np.argmax(counts)] -= 1
    return counts


def _spread(
    rng: np.random.Generator, n: int, n_choices: int, p: np.ndarray | None = None
) -> np.ndarray:
    """``n`` choices among ``n_choices``: every choice once first (when ``n`` allows), then random."""
    first = rng.permutation(n_choices)[: min(n, n_choices)]
    rest = rng.choice(n_choices, size=max(n - n_choices, 0), p=p)
    return np.concatenate([first, rest]).astype(np.int64)


def _display(ph: _Phone) -> str:
    """How shops name a phone model: ``iPhone 15``, ``Galaxy S24``, ``OPPO A2``."""
    if ph.brand == "Apple" or ph.model.split()[0] in ("Galaxy", "Redmi", "iQOO", ph.brand):
        return ph.model
    return f"{ph.brand} {ph.model}"


# ---------------------------------------------------------------------------- catalog


def _named(brand: str, model: str) -> str:
    """``brand model`` unless the model name already starts with the brand (``OnePlus 12``)."""
    return model if model.startswith(brand) else f"{brand} {model}"


def _make_catalog(rng: np.random.Generator, n_items: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The catalog frame and, per item, the index of its phone model (-1 when generic)."""
    counts = _category_counts(n_items)
    share = np.array([p.share for p in PHONES])
    share = share / share.sum()
    model_brand = np.array([p.brand for p in PHONES], dtype=object)
    rows: list[dict] = []
    model_of: list[int] = []

    def add(**kw) -> None:
        rows.append(kw)

    # phones: every model once, then variants (storage x colour)
    n_phone = counts[0]
    models = _spread(rng, n_phone, len(PHONES), share)
    for m in models:
        ph = PHONES[m]
        storage = int(rng.choice(ph.storages))
        color = str(rng.choice(ph.colors))
        mult = 1.0 + 0.15 * ph.storages.index(storage)  # each storage step costs ~15% more
        size = "1TB" if storage >= 1024 else f"{storage}GB"
        add(
            category="phone",
            brand=ph.brand,
            model=ph.model,
            title=f"{_named(ph.brand, ph.model)} 5G Phone {size} {color}",
            title_zh=f"{_named(BRAND_ZH[ph.brand], ph.model_zh)} 5G手机 {size} {COLORS[color]}",
            description=(
                f"{ph.model} smartphone by {ph.brand}, {size} storage, "
                f"{color.lower()} finish, dual SIM 5G. "
                f"{_named(BRAND_ZH[ph.brand], ph.model_zh)}智能手机，{size}存储，{COLORS[color]}，双卡5G全网通。"
            ),
            price=ph.price * mult,
            color=color,
            storage_gb=float(storage),
            compatible_with="",
            launch_date=ph.launch,
        )
        model_of.append(int(m))

    def accessory(category: str, n: int, styles, brands, official_rate: float) -> None:
        targets = rng.choice(len(PHONES), size=n, p=share)
        for m in targets:
            ph = PHONES[m]
            style, style_zh, base = styles[rng.integers(len(styles))]
            official = rng.random() < official_rate
            brand = ph.brand if official else str(rng.choice(brands))
            color = (
                "Clear"
                if style.startswith("Clear") or category == "screen protector"
                else str(rng.choice(["Black", "Blue", "Green", "Pink", "Purple", "Gray"]))
            )
            premium = 1.8 if official else (1.25 if brand in ("Spigen", "Belkin") else 1.0)
            launch = np.datetime64(ph.launch) + np.timedelta64(int(rng.integers(0, 60)), "D")
            add(
                category=category,
                brand=brand,
                model="",
                title=f"{brand} {style} for {_display(ph)}"
                + ("" if color == "Clear" else f", {color}"),
                title_zh=f"{BRAND_ZH[brand]} {ph.model_zh} {style_zh}"
                + ("" if color == "Clear" else f" {COLORS[color]}"),
                description=(
                    f"{style} made for the {_named(ph.brand, ph.model)}: precise cut-outs, "
                    f"{'raised edges' if category == 'case' else '9H hardness, bubble-free install'}. "
                    f"专为{_named(BRAND_ZH[ph.brand], ph.model_zh)}设计的{style_zh}，"
                    f"{'精准开孔，边框加高保护' if category == 'case' else '9H硬度，无气泡贴合'}。"
                ),
                price=base * premium * rng.uniform(0.85, 1.25),
                color=color,
                storage_gb=np.nan,
                compatible_with=ph.model,
                launch_date=str(launch),
            )
            model_of.append(int(m))

    accessory("case", counts[1], _CASE_STYLES, _CASE_BRANDS, 0.2)
    accessory("screen protector", counts[2], _PROTECTOR_STYLES, _PROTECTOR_BRANDS, 0.1)

    def generic(category: str, n: int, styles, brands) -> None:
        for _ in range(n):
            style, style_zh, sizes, base = styles[rng.integers(len(styles))]
            brand = str(rng.choice(brands))
            size = int(rng.choice(sizes))
            unit = "W" if category == "charger" else "mAh"
            color = str(rng.choice(["Black", "White"]))
            official = brand in PHONE_BRANDS
            scale = (size / sizes[0]) ** 0.5
            launch = np.datetime64("2022-01-01") + np.timedelta64(int(rng.integers(0, 900)), "D")
            add(
                category=category,
                brand=brand,
                model="",
                title=f"{brand} {size}{unit} {style}, {color}",
                title_zh=f"{BRAND_ZH[brand]} {size}{unit} {style_zh} {COLORS[color]}",
                description=(
                    f"{size}{unit} {style.lower()} with USB-C Power Delivery fast charging, "
                    f"{'works with phones, tablets and laptops' if size >= 45 else 'compact travel size'}. "
                    f"{size}{unit}{style_zh}，支持PD快充，"
                    f"{'手机平板笔记本通用' if size >= 45 else '小巧便携'}。"
                ),
                price=base * scale * (1.4 if official else 1.0) * rng.uniform(0.85, 1.2),
                color=color,
                storage_gb=np.nan,
                compatible_with="",
                launch_date=str(launch),
            )
            model_of.append(-1)

    generic("charger", counts[3], _CHARGER_STYLES, _CHARGER_BRANDS)
    for _ in range(counts[4]):
        style, style_zh, base = _CABLE_STYLES[rng.integers(len(_CABLE_STYLES))]
        brand = str(rng.choice(_CABLE_BRANDS))
        length = int(rng.choice([1, 2]))
        color = str(rng.choice(["Black", "White"]))
        launch = np.datetime64("2022-01-01") + np.timedelta64(int(rng.integers(0, 900)), "D")
        add(
            category="cable",
            brand=brand,
            model="",
            title=f"{brand} {style} {length}m, {color}",
            title_zh=f"{BRAND_ZH[brand]} {style_zh} {length}米 {COLORS[color]}",
            description=(
                f"{length} m {style.lower()}, fast charging and data sync, 10,000+ bend lifespan. "
                f"{length}米{style_zh}，快充与数据传输，耐弯折一万次以上。"
            ),
            price=base
            * (1.0 + 0.3 * (length - 1))
            * (1.5 if brand == "Apple" else 1.0)
            * rng.uniform(0.9, 1.2),
            color=color,
            storage_gb=np.nan,
            compatible_with="",
            launch_date=str(launch),
        )
        model_of.append(-1)
    generic("power bank", counts[5], _POWER_BANK_STYLES, _POWER_BANK_BRANDS)

    def devices(category: str, n: int, table) -> None:
        picks = _spread(rng, n, len(table))
        for j in picks:
            brand, model, model_zh, price, launch, _tags = table[j]
            color = str(rng.choice(["Black", "White", "Silver", "Blue", "Pink"]))
            kind = "Wireless Earbuds" if category == "earphones" else "Smartwatch"
            kind_zh = "真无线蓝牙耳机" if category == "earphones" else "智能手表"
            add(
                category=category,
                brand=brand,
                model=model,
                title=f"{_named(brand, model)} {kind}, {color}",
                title_zh=f"{_named(BRAND_ZH[brand], model_zh)} {kind_zh} {COLORS[color]}",
                description=(
                    f"{model} {kind.lower()} by {brand}: "
                    f"{'active noise cancelling, long battery life' if category == 'earphones' else 'heart-rate, sleep and sport tracking, NFC payments'}. "
                    f"{_named(BRAND_ZH[brand], model_zh)}{kind_zh}，"
                    f"{'主动降噪，超长续航' if category == 'earphones' else '心率睡眠运动监测，NFC支付'}。"
                ),
                price=price * rng.uniform(0.95, 1.05),
                color=color,
                storage_gb=np.nan,
                compatible_with="",
                launch_date=launch,
            )
            # an own-brand device belongs to the ecosystem of that brand's phones
            model_of.append(-1)

    devices("earphones", counts[6], _EARPHONES)
    devices("smartwatch", counts[7], _WATCHES)

    cat = pd.DataFrame(rows)
    del model_brand
    n = len(cat)
    cat["price"] = _round_price(cat["price"].to_numpy())
    # price band: terciles of price within each category
    pct = cat.groupby("category")["price"].rank(pct=True, method="average").to_numpy()
    band = np.minimum((pct * 3 - 1e-9).astype(int), 2)
    cat["price_band"] = np.asarray(PRICE_BANDS, dtype=object)[band]
    cat["in_stock"] = rng.random(n) > 0.08
    launch = pd.to_datetime(cat["launch_date"]).to_numpy().astype("datetime64[D]")
    cat["is_new"] = (END_DATE.astype("datetime64[D]") - launch).astype(int) <= 120
    # shuffle rows so ids do not reveal the category, then number them
    order = rng.permutation(n)
    cat = cat.iloc[order].reset_index(drop=True)
    width = max(5, len(str(n)))
    cat.insert(0, "item_id", [str(i + 1).zfill(width) for i in range(n)])
    cols = [
        "item_id", "title", "title_zh", "description", "category", "brand", "model", "price",
        "price_band", "color", "storage_gb", "compatible_with", "in_stock", "launch_date", "is_new",
    ]  # fmt: skip
    return cat[cols], np.asarray(model_of, dtype=np.int64)[order]


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


def _as_str_series(values: pa.Array) -> pd.Series:
    return pd.Series(pd.array(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def _str_take(labels: list[str], codes: np.ndarray) -> pd.Series:
    """``labels[codes]`` as a pandas string column, built in Arrow (no per-row Python objects)."""
    return _as_str_series(pa.array(labels, pa.string()).take(pa.array(codes)))


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
    return _as_str_series(pc.binary_join_element_wise(day_part, tod_part, "T"))


# ---------------------------------------------------------------------------- the store
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
    catalog, model_of = _make_catalog(rng, n_items)
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
    seg = rng.choice(len(PERSONAS), n_users, p=_SEGMENT_SHARE)
    cdf = np.cumsum(_SEGMENT_BAND, axis=1)
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
    cart_p = _CART_RATE[category[s_item]] * np.where(phone_session, 5.0, 1.0)
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
            "user_id": _str_take(user_ids, s_user[r_sess[ordering]]),
            "item_id": _str_take(catalog["item_id"].tolist(), row_item[ordering]),
            "event": _str_take(list(EVENTS), event[ordering]),
            "timestamp": _iso_seconds(start, t[ordering]),
            "quantity": quantity[ordering],
        }
    )
    if with_users:
        return catalog, interactions, _make_users(user_ids, seg, ubund, seed)
    return catalog, interactions


#: P(age band | segment), columns ``AGE_BANDS``.
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
_SEGMENT_AGE = np.array(
    [
        [0.55, 0.35, 0.07, 0.02, 0.01],  # gamers
        [0.10, 0.40, 0.30, 0.15, 0.05],  # photographers
        [0.85, 0.13, 0.01, 0.01, 0.00],  # budget students
        [0.02, 0.30, 0.40, 0.22, 0.06],  # business
        [0.20, 0.45, 0.25, 0.08, 0.02],  # fitness
        [0.02, 0.20, 0.45, 0.23, 0.10],  # family
    ]
)
CITY_TIERS: tuple[str, ...] = ("tier 1", "tier 2", "tier 3")
#: P(city tier | price band), budget / mid / premium.
_BAND_CITY = np.array([[0.15, 0.35, 0.50], [0.35, 0.40, 0.25], [0.65, 0.28, 0.07]])
MEMBERSHIPS: tuple[str, ...] = ("none", "silver", "gold")
#: P(membership | price band).
_BAND_MEMBER = np.array([[0.75, 0.20, 0.05], [0.50, 0.35, 0.15], [0.30, 0.35, 0.35]])


def _make_users(user_ids: list[str], seg: np.ndarray, band: np.ndarray, seed: int) -> pd.DataFrame:
    """User attribute table drawn from (segment, price band); own random stream."""
    rng = np.random.default_rng([seed, 1_000_003])

    def draw(probs: np.ndarray) -> np.ndarray:  # one categorical draw per row of probs
        cdf = np.cumsum(probs, axis=1)
        return (rng.random(len(probs))[:, None] > cdf).sum(axis=1).clip(0, probs.shape[1] - 1)

    return pd.DataFrame(
        {
            "user_id": user_ids,
            "age_band": _str_take(list(AGE_BANDS), draw(_SEGMENT_AGE[seg])),
            "city_tier": _str_take(list(CITY_TIERS), draw(_BAND_CITY[band])),
            "membership": _str_take(list(MEMBERSHIPS), draw(_BAND_MEMBER[band])),
        }
    )


def write_demo(
    out_dir: str | Path,
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write ``catalog.csv``, ``interactions.csv`` and ``users.csv`` (UTF-8) into ``out_dir``.

    Returns the two paths ``(catalog_path, interactions_path)``; ``users.csv`` (the user
    attribute table) sits next to them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalog, interactions, users = generate_store(n_users, n_items, n_events, seed, with_users=True)
    catalog_path = out / "catalog.csv"
    interactions_path = out / "interactions.csv"
    catalog.to_csv(catalog_path, index=False, encoding="utf-8")
    interactions.to_csv(interactions_path, index=False, encoding="utf-8")
    users.to_csv(out / "users.csv", index=False, encoding="utf-8")
    return catalog_path, interactions_path


__all__ = ["DEMO_SEED", "generate_store", "write_demo"]
