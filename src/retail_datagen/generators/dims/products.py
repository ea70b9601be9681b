"""dim_products: SKUs = base product x synthetic brand, with a supercenter department mix.

How a SKU list is chosen (all column-at-a-time):
1. Candidates: every (base product, brand) pair whose brand serves the product's Category
   (tier 1); when a department has too few of those, brands of another category of the same
   Department (tier 2) fill in.
2. SKUs per department follow ``profiles.DEPARTMENT_MIX`` (largest remainder, capped by what the
   dictionaries can supply), not whatever the brand list happens to contain.
3. Inside a department, tier 1 comes first and base products take turns: every base product gets
   one brand before any gets a second (random order within a turn), for the widest assortment.

Pricing in integer cents (SPEC §5): MSRP = base price x a per-brand factor (1 ± up to 15 %);
SalePrice = MSRP, or with 40 % probability 5–35 % off; Cost = 50–85 % of SalePrice; then
Cost < SalePrice ≤ MSRP and Cost ≥ 1 cent are enforced after rounding.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import money, rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import DictionaryError
from retail_datagen.generators.allocation import capped_allocation
from retail_datagen.generators.dims.profiles import DEPARTMENT_MIX, OTHER_DEPARTMENT_SKU_SHARE
from retail_datagen.schema.tables import DIM_PRODUCTS

__all__ = [
    "BRAND_PRICE_SPREAD",
    "REDUCED_RATE_DEPARTMENTS",
    "REFRIGERATED_CATEGORIES",
    "TAXABLE_FOOD_CATEGORIES",
    "generate_products",
]

# ---------------------------------------------------------------- rules as data
BRAND_PRICE_SPREAD = 0.15  # a brand prices its products at base x (1 ± up to 15 %)
DISCOUNT_PROBABILITY = 0.40
DISCOUNT_RANGE_BP = (500, 3_500)  # 5-35 % off MSRP, in basis points
COST_RANGE_BP = (5_000, 8_500)  # cost = 50-85 % of the sale price
_BP = 10_000

REFRIGERATED_CATEGORIES: frozenset[str] = frozenset(
    {"Dairy", "Meat & Seafood", "Produce", "Frozen", "Deli & Bakery"}
)
FOOD_DEPARTMENT = "Grocery"  # non-taxable food, except the categories below
TAXABLE_FOOD_CATEGORIES: frozenset[str] = frozenset({"Snacks & Candy", "Beverages"})
REDUCED_RATE_DEPARTMENTS: frozenset[str] = frozenset({"Clothing"})

LAUNCHED_BEFORE_SHARE = 0.90
LAUNCH_HISTORY_DAYS = 3 * 365  # launched up to three years before historical.start_date
LAUNCH_AFTER_DAYS = 548  # or within 18 months after it
NEW_PRODUCT_DAYS = 180  # tagged "new" when launched this close to the start or later
PREMIUM_FACTOR, VALUE_FACTOR = 1.10, 0.90  # brand factors tagged "premium" / "value"

# Random tags: (tag, departments it applies to (None = all), probability).
RANDOM_TAGS: tuple[tuple[str, frozenset[str] | None, float], ...] = (
    ("organic", frozenset({"Grocery", "Baby & Kids"}), 0.15),
    ("gluten-free", frozenset({"Grocery"}), 0.08),
    ("eco-friendly", frozenset({"Home & Garden", "Health & Beauty", "Baby & Kids"}), 0.10),
    ("bestseller", None, 0.08),
)
TAG_ORDER: tuple[str, ...] = (*(t for t, _, _ in RANDOM_TAGS), "new", "premium", "value")

_TIER_CATEGORY, _TIER_DEPARTMENT = 0, 1


def generate_products(config: RetailConfig, base_products: pa.Table, brands: pa.Table) -> pa.Table:
    """Up to ``volume.total_products`` SKUs with prices, refrigeration, taxability and launch."""
    seed = config.seed
    product_ix, brand_ix = _choose_skus(seed, config.volume.total_products, base_products, brands)
    n = product_ix.size
    take_product = pa.array(product_ix)
    take_brand = pa.array(brand_ix)
    department = base_products.column("Department").take(take_product)
    category = base_products.column("Category").take(take_product)
    brand = brands.column("Brand").take(take_brand)

    factor = _brand_factors(seed, brands.num_rows)[brand_ix]
    base_cents = np.rint(base_products.column("BasePrice").to_numpy() * 100).astype(np.int64)
    cost, msrp, sale = _prices(seed, base_cents[product_ix], factor)
    launch = _launch_dates(seed, n, config.historical.start_date)

    table = pa.table(
        {
            "ID": pa.array(np.arange(1, n + 1), pa.int32()),
            "ProductName": pc.binary_join_element_wise(
                brand, base_products.column("ProductName").take(take_product), " "
            ),
            "Brand": brand,
            "Company": brands.column("Company").take(take_brand),
            "Department": department,
            "Category": category,
            "Subcategory": base_products.column("Subcategory").take(take_product),
            "Cost": money.cents_to_decimal(cost),
            "MSRP": money.cents_to_decimal(msrp),
            "SalePrice": money.cents_to_decimal(sale),
            "RequiresRefrigeration": pc.is_in(category, pa.array(sorted(REFRIGERATED_CATEGORIES))),
            "Taxability": _taxability(department, category),
            "LaunchDate": pa.array(launch, pa.date32()),
            "Tags": _tags(seed, department, factor, launch, config.historical.start_date),
        }
    )
    return schema.normalise(DIM_PRODUCTS, table)


# ---------------------------------------------------------------- assortment


def _codes(*columns: pa.ChunkedArray | pa.Array) -> list[np.ndarray]:
    """Integer codes of string columns over one shared vocabulary (so they compare)."""
    values = [np.asarray(c.to_pylist(), dtype=object) for c in columns]
    _, inverse = np.unique(np.concatenate(values), return_inverse=True)
    bounds = np.cumsum([0, *(v.size for v in values)])
    return [inverse[bounds[i] : bounds[i + 1]] for i in range(len(values))]


def _pairs(product_key: np.ndarray, brand_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (product, brand) index pairs with equal keys, without a Python loop over rows."""
    brand_order = np.argsort(brand_key, kind="stable")
    sorted_keys = brand_key[brand_order]
    start = np.searchsorted(sorted_keys, product_key, side="left")
    count = np.searchsorted(sorted_keys, product_key, side="right") - start
    product = np.repeat(np.arange(product_key.size), count)
    offset = np.arange(product.size) - np.repeat(np.cumsum(count) - count, count)
    return product, brand_order[np.repeat(start, count) + offset]


def _choose_skus(
    seed: int, total: int, base_products: pa.Table, brands: pa.Table
) -> tuple[np.ndarray, np.ndarray]:
    """(base product row, brand row) per SKU, in SKU order."""
    product_category, brand_category = _codes(
        base_products.column("Category"), brands.column("Category")
    )
    (product_department,) = _codes(base_products.column("Department"))
    # The department of each brand's category (a Category determines its Department: the
    # loader validates it); -1 for a category no base product has.
    department_of_category = np.full(
        max(product_category.max(initial=-1), brand_category.max(initial=-1)) + 1, -1
    )
    department_of_category[product_category] = product_department
    brand_department = department_of_category[brand_category]

    same_category = _pairs(product_category, brand_category)
    same_department = _pairs(product_department, brand_department)
    other_category = product_category[same_department[0]] != brand_category[same_department[1]]
    product = np.concatenate([same_category[0], same_department[0][other_category]])
    brand = np.concatenate([same_category[1], same_department[1][other_category]])
    tier = np.repeat(
        [_TIER_CATEGORY, _TIER_DEPARTMENT], [same_category[0].size, int(other_category.sum())]
    )
    if product.size == 0:
        raise DictionaryError(
            "product_brands.csv: no brand serves a Category (or Department) of products.csv, "
            "so no product can be made; give brands the categories of the base products"
        )

    order_key = rng.stream(seed, "dim_products.assortment").random(product.size)
    turn = _rank_within(np.stack([product, tier]), order_key)  # a product's 1st, 2nd... brand
    department = product_department[product]
    names = np.unique(np.asarray(base_products.column("Department").to_pylist(), dtype=object))
    weights = [DEPARTMENT_MIX.get(name, OTHER_DEPARTMENT_SKU_SHARE) for name in names]
    quota = capped_allocation(weights, np.bincount(department, minlength=names.size), total)

    ranked = np.lexsort((order_key, turn, tier, department))
    position = _rank_within(department[ranked][None, :], np.arange(ranked.size))
    keep = ranked[position < quota[department[ranked]]]
    keep = keep[np.lexsort((turn[keep], tier[keep], product[keep]))]
    return product[keep], brand[keep]


def _rank_within(groups: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0-based rank of each element by ``key`` among elements with the same group columns."""
    order = np.lexsort((key, *groups[::-1]))
    grouped = groups[:, order]
    new_group = np.ones(order.size, dtype=bool)
    new_group[1:] = (grouped[:, 1:] != grouped[:, :-1]).any(axis=0)
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, order.size))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - np.repeat(starts, sizes)
    return rank


# ---------------------------------------------------------------- prices and attributes


def _brand_factors(seed: int, n_brands: int) -> np.ndarray:
    """Price factor per brand row: some brands are premium, some value, consistently."""
    draws = rng.stream(seed, "dim_products.brand_factor")
    return 1.0 + draws.uniform(-BRAND_PRICE_SPREAD, BRAND_PRICE_SPREAD, size=n_brands)


def _prices(
    seed: int, base_cents: np.ndarray, factor: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Cost, MSRP, SalePrice) in cents with Cost < SalePrice ≤ MSRP and Cost ≥ 1."""
    n = base_cents.size
    draws = rng.stream(seed, "dim_products.price")
    discounted = draws.random(n) < DISCOUNT_PROBABILITY
    discount_bp = draws.integers(DISCOUNT_RANGE_BP[0], DISCOUNT_RANGE_BP[1] + 1, size=n)
    cost_bp = draws.integers(COST_RANGE_BP[0], COST_RANGE_BP[1] + 1, size=n)

    msrp = np.maximum(money.round_div(base_cents * np.rint(factor * _BP).astype(np.int64), _BP), 2)
    sale = np.where(discounted, msrp - money.round_div(msrp * discount_bp, _BP), msrp)
    sale = np.clip(sale, 2, msrp)
    cost = np.clip(money.round_div(sale * cost_bp, _BP), 1, sale - 1)
    return cost, msrp, sale


def _taxability(department: pa.ChunkedArray, category: pa.ChunkedArray) -> pa.Array:
    food = pc.and_(
        pc.equal(department, FOOD_DEPARTMENT),
        pc.invert(pc.is_in(category, pa.array(sorted(TAXABLE_FOOD_CATEGORIES)))),
    )
    reduced = pc.is_in(department, pa.array(sorted(REDUCED_RATE_DEPARTMENTS)))
    return pc.if_else(food, "NON_TAXABLE", pc.if_else(reduced, "REDUCED_RATE", "TAXABLE"))


def _launch_dates(seed: int, n: int, start: date) -> np.ndarray:
    """Most products launched in the three years before the start, some in the 18 months after."""
    draws = rng.stream(seed, "dim_products.launch")
    before = draws.random(n) < LAUNCHED_BEFORE_SHARE
    days_before = draws.integers(1, LAUNCH_HISTORY_DAYS + 1, size=n)
    days_after = draws.integers(1, LAUNCH_AFTER_DAYS + 1, size=n)
    offset = np.where(before, -days_before, days_after)
    launch: np.ndarray = np.datetime64(start, "D") + offset
    return launch


_TAG_LOOKUP = pa.array(
    [
        ";".join(tag for bit, tag in enumerate(TAG_ORDER) if mask >> bit & 1) or None
        for mask in range(1 << len(TAG_ORDER))
    ],
    pa.string(),
)


def _tags(
    seed: int, department: pa.ChunkedArray, factor: np.ndarray, launch: np.ndarray, start: date
) -> pa.Array:
    """Semicolon-separated tags (NULL when none): a bit per tag, then one lookup per row."""
    n = factor.size
    draws = rng.stream(seed, "dim_products.tags")
    mask = np.zeros(n, dtype=np.int64)
    for bit, (_, departments, probability) in enumerate(RANDOM_TAGS):
        eligible = (
            np.ones(n, dtype=bool)
            if departments is None
            else pc.is_in(department, pa.array(sorted(departments))).to_numpy(zero_copy_only=False)
        )
        mask |= (eligible & (draws.random(n) < probability)).astype(np.int64) << bit
    derived = (
        launch >= np.datetime64(start - timedelta(days=NEW_PRODUCT_DAYS), "D"),
        factor >= PREMIUM_FACTOR,
        factor <= VALUE_FACTOR,
    )
    for bit, flag in enumerate(derived, start=len(RANDOM_TAGS)):
        mask |= flag.astype(np.int64) << bit
    return _TAG_LOOKUP.take(pa.array(mask))
