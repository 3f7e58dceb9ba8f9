"""The demo store's data tables: shopper personas, phone models, accessories, categories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
SEGMENT_SHARE = np.array([0.18, 0.15, 0.22, 0.15, 0.14, 0.16])
#: P(price band | segment); bands are 0 budget, 1 mid, 2 premium.
SEGMENT_BAND = np.array(
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
class Phone:
    """One phone model of the demo store's catalogue, with the segments it appeals to."""

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


PHONES: tuple[Phone, ...] = (
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
    Phone(
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
EARPHONES: tuple[tuple[str, str, str, float, str, tuple[str, ...]], ...] = (
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
WATCHES: tuple[tuple[str, str, str, float, str, tuple[str, ...]], ...] = (
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
CASE_STYLES = (
    ("Silicone Case", "液态硅胶保护壳", 59),
    ("Clear Case", "透明保护壳", 39),
    ("Leather Case", "真皮保护壳", 149),
    ("Rugged Armor Case", "军工防摔保护壳", 89),
    ("Magnetic Case", "磁吸保护壳", 99),
    ("Kickstand Case", "支架保护壳", 69),
)
CASE_BRANDS = ("ESR", "Spigen", "Nillkin", "Baseus", "UGREEN", "Anker")
PROTECTOR_STYLES = (
    ("Tempered Glass Screen Protector 2-Pack", "钢化玻璃膜 两片装", 39),
    ("Privacy Screen Protector", "防窥钢化膜", 59),
    ("Matte Screen Protector", "磨砂防指纹膜", 49),
    ("Camera Lens Protector", "镜头保护膜", 29),
)
PROTECTOR_BRANDS = ("ESR", "Nillkin", "UGREEN", "Baseus", "Spigen", "Belkin")
CHARGER_STYLES = (
    ("USB-C Wall Charger", "USB-C 充电头", (20, 30), 59),
    ("GaN Fast Charger", "氮化镓快充充电器", (45, 65, 100, 120), 129),
    ("Wireless Charging Pad", "无线充电板", (15,), 99),
    ("Magnetic Wireless Charger", "磁吸无线充电器", (15,), 149),
    ("Car Charger", "车载充电器", (30, 45), 69),
)
CHARGER_BRANDS = ("Anker", "Baseus", "UGREEN", "Belkin", "Apple", "Samsung", "Xiaomi", "Huawei")
CABLE_STYLES = (
    ("USB-C to USB-C Cable", "双 Type-C 数据线", 29),
    ("USB-C to Lightning Cable", "Type-C 转 Lightning 数据线", 49),
    ("USB-A to USB-C Cable", "USB-A 转 Type-C 数据线", 19),
    ("Braided Fast Charging Cable", "编织快充数据线", 39),
)
CABLE_BRANDS = ("Anker", "Baseus", "UGREEN", "Apple", "Xiaomi", "Belkin")
POWER_BANK_STYLES = (
    ("Power Bank", "移动电源", (10000, 20000), 99),
    ("Magnetic Power Bank", "磁吸充电宝", (5000, 10000), 199),
    ("Laptop Power Bank", "笔记本充电宝", (20000, 25000), 299),
)
POWER_BANK_BRANDS = ("Anker", "Baseus", "UGREEN", "Xiaomi", "Romoss")

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
CATEGORY_SHARE = np.array([0.14, 0.24, 0.14, 0.10, 0.08, 0.07, 0.12, 0.11])
#: P(cart | view session) per category; purchases follow carts.
CART_RATE = np.array([0.12, 0.35, 0.38, 0.30, 0.40, 0.28, 0.20, 0.16])
