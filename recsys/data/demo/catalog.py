"""The demo catalog: phones and accessories with bilingual titles, prices and attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.demo.tables import (
    BRAND_ZH,
    CABLE_BRANDS,
    CABLE_STYLES,
    CASE_BRANDS,
    CASE_STYLES,
    CATEGORY_SHARE,
    CHARGER_BRANDS,
    CHARGER_STYLES,
    COLORS,
    EARPHONES,
    END_DATE,
    PHONE_BRANDS,
    PHONES,
    POWER_BANK_BRANDS,
    POWER_BANK_STYLES,
    PRICE_BANDS,
    PROTECTOR_BRANDS,
    PROTECTOR_STYLES,
    WATCHES,
    Phone,
)


def _round_price(p: np.ndarray) -> np.ndarray:
    """Shop-style prices: ...9 below 1,000 CNY, ...99 above."""
    p = np.maximum(np.asarray(p, dtype=np.float64), 9.0)
    small = np.round(p / 10.0) * 10.0 - 1.0
    large = np.round(p / 100.0) * 100.0 - 1.0
    return np.where(p < 1000, np.maximum(small, 9.0), large)


def _category_counts(n_items: int) -> np.ndarray:
    raw = CATEGORY_SHARE / CATEGORY_SHARE.sum() * n_items
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


def _display(ph: Phone) -> str:
    """How shops name a phone model: ``iPhone 15``, ``Galaxy S24``, ``OPPO A2``."""
    if ph.brand == "Apple" or ph.model.split()[0] in ("Galaxy", "Redmi", "iQOO", ph.brand):
        return ph.model
    return f"{ph.brand} {ph.model}"


# ---------------------------------------------------------------------------- catalog


def _named(brand: str, model: str) -> str:
    """``brand model`` unless the model name already starts with the brand (``OnePlus 12``)."""
    return model if model.startswith(brand) else f"{brand} {model}"


#: Colours a duplicate's variant may take, per category (phones: their model's colours).
VARIANT_COLORS = {
    "case": ("Black", "Blue", "Green", "Pink", "Purple", "Gray"),
    "charger": ("Black", "White"),
    "power bank": ("Black", "White"),
    "cable": ("Black", "White"),
    "earphones": ("Black", "White", "Silver", "Blue", "Pink", "Green", "Gold", "Gray", "Purple"),
    "smartwatch": ("Black", "White", "Silver", "Blue", "Pink", "Green", "Gold", "Gray", "Purple"),
}
#: Brands a duplicate's variant may take, per category (accessories from third-party brands).
VARIANT_BRANDS = {
    "case": CASE_BRANDS,
    "screen protector": PROTECTOR_BRANDS,
    "charger": CHARGER_BRANDS,
    "cable": CABLE_BRANDS,
    "power bank": POWER_BANK_BRANDS,
}


def _variants(row: dict, colors: tuple[str, ...], storages: tuple[int, ...] = ()):
    """Candidate (brand, colour, storage) for a duplicate.

    Other colours, other capacities (phones), then other brands (third-party accessories).
    """
    brand, color, storage = row["brand"], row["color"], row["storage_gb"]
    palette = colors if color in colors else (color,)
    for c in palette:
        if c != color:
            yield brand, c, storage
    for size in (float(x) for x in storages if float(x) != storage):
        for c in palette:
            yield brand, c, size
    if row["model"]:  # an own-brand product (phone, earphones, watch) keeps its brand
        return
    for b in VARIANT_BRANDS.get(row["category"], ()):
        if b != brand:
            for c in palette:
                yield b, c, storage


def _size_text(storage: float) -> str:
    return "1TB" if storage >= 1024 else f"{int(storage)}GB"


def _retitled(row: dict, brand: str, color: str, storage: float) -> dict | None:
    """``row`` as the variant ``(brand, color, storage)``: titles, description, price follow."""
    title, title_zh, desc, price = row["title"], row["title_zh"], row["description"], row["price"]
    if storage == storage and storage != row["storage_gb"]:  # NaN: no capacity
        old, new = f" {_size_text(row['storage_gb'])} ", f" {_size_text(storage)} "
        if old not in title or old not in title_zh:
            return None
        title, title_zh = title.replace(old, new), title_zh.replace(old, new)
        desc = desc.replace(f"{old.strip()} storage", f"{new.strip()} storage")
        desc = desc.replace(f"{old.strip()}存储", f"{new.strip()}存储")
        price = price * (1.0 + 0.15 * np.log2(storage / row["storage_gb"]))
    if color != row["color"]:
        old, old_zh = row["color"], COLORS[row["color"]]
        if not (title.endswith(old) and title_zh.endswith(old_zh)):
            return None
        title = title[: -len(old)] + color
        title_zh = title_zh[: -len(old_zh)] + COLORS[color]
        desc = desc.replace(f"{old.lower()} finish", f"{color.lower()} finish").replace(
            f"，{old_zh}，", f"，{COLORS[color]}，"
        )
    if brand != row["brand"]:
        old, old_zh = row["brand"], BRAND_ZH[row["brand"]]
        if not (title.startswith(old + " ") and title_zh.startswith(old_zh + " ")):
            return None
        title = brand + title[len(old) :]
        title_zh = BRAND_ZH[brand] + title_zh[len(old_zh) :]
    return {**row, "brand": brand, "color": color, "storage_gb": storage, "title": title,
            "title_zh": title_zh, "description": desc, "price": price}  # fmt: skip


def _distinct_titles(rows: list[dict], model_of: list[int]) -> None:
    """Give every item its own title (in both languages), in place.

    A row whose title an earlier row already has becomes another variant of the same product:
    another colour of its palette, then another brand (accessories), and only when every
    variant is taken an edition number. Rows with a unique title are left as drawn.
    """
    seen: set[str] = set()
    seen_zh: set[str] = set()
    for i, row in enumerate(rows):
        if row["title"] not in seen and row["title_zh"] not in seen_zh:
            seen.add(row["title"])
            seen_zh.add(row["title_zh"])
            continue
        phone = PHONES[model_of[i]] if row["category"] == "phone" else None
        colors = (
            tuple(phone.colors) if phone is not None else VARIANT_COLORS.get(row["category"], ())
        )
        storages = tuple(phone.storages) if phone is not None else ()
        new = None
        for brand, color, storage in _variants(row, colors, storages):
            candidate = _retitled(row, brand, color, storage)
            if (
                candidate
                and candidate["title"] not in seen
                and candidate["title_zh"] not in seen_zh
            ):
                new = candidate
                break
        if new is None:
            k = 2
            while (
                f"{row['title']} (Edition {k})" in seen
                or f"{row['title_zh']}（第{k}版）" in seen_zh
            ):
                k += 1
            new = {**row, "title": f"{row['title']} (Edition {k})",
                   "title_zh": f"{row['title_zh']}（第{k}版）"}  # fmt: skip
        rows[i] = new
        seen.add(new["title"])
        seen_zh.add(new["title_zh"])


def make_catalog(rng: np.random.Generator, n_items: int) -> tuple[pd.DataFrame, np.ndarray]:
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

    accessory("case", counts[1], CASE_STYLES, CASE_BRANDS, 0.2)
    accessory("screen protector", counts[2], PROTECTOR_STYLES, PROTECTOR_BRANDS, 0.1)

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

    generic("charger", counts[3], CHARGER_STYLES, CHARGER_BRANDS)
    for _ in range(counts[4]):
        style, style_zh, base = CABLE_STYLES[rng.integers(len(CABLE_STYLES))]
        brand = str(rng.choice(CABLE_BRANDS))
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
    generic("power bank", counts[5], POWER_BANK_STYLES, POWER_BANK_BRANDS)

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

    devices("earphones", counts[6], EARPHONES)
    devices("smartwatch", counts[7], WATCHES)

    _distinct_titles(rows, model_of)
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
