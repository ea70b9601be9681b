"""The shipped dictionaries and their loader: sizes and rules of the shipped files, one-line errors
naming file, row and column for every kind of bad value, and the per-file cache."""

from __future__ import annotations

import csv
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from retail_datagen.dictionaries import loader as loader_module
from retail_datagen.dictionaries.loader import (
    DICTIONARY_NAMES,
    REGIONS,
    SPECS,
    STATE_CODES,
    DictionaryLoader,
    packaged_directory,
)
from retail_datagen.errors import DictionaryError

Rows = list[list[str]]

REFRIGERATED = {"Dairy", "Meat & Seafood", "Produce", "Frozen", "Deli & Bakery"}
DEPARTMENTS = {
    "Grocery",
    "Electronics",
    "Clothing",
    "Health & Beauty",
    "Home & Garden",
    "Baby & Kids",
    "Pet Supplies",
    "Automotive",
    "Office Supplies",
    "Seasonal & Sports",
}
NO_SALES_TAX = {"OR", "MT", "NH", "DE"}


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def shipped() -> dict[str, pa.Table]:
    return DictionaryLoader().load_all()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the shipped dictionaries, safe to corrupt."""
    target = tmp_path / "dictionaries"
    shutil.copytree(packaged_directory(), target)
    return target


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: Rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def edit(folder: Path, name: str, change: Callable[[Rows], None]) -> None:
    """Apply ``change`` to the rows (header first) of ``name``.csv in ``folder``."""
    path = folder / f"{name}.csv"
    rows = read_rows(path)
    change(rows)
    write_rows(path, rows)


def set_cell(folder: Path, name: str, row: int, column: str, value: str) -> None:
    """Set data row ``row`` (1-based, header excluded) of ``column``."""

    def change(rows: Rows) -> None:
        rows[row][rows[0].index(column)] = value

    edit(folder, name, change)


def load_error(folder: Path, name: str) -> str:
    with pytest.raises(DictionaryError) as info:
        DictionaryLoader(folder).load(name)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- the shipped files
def test_shipped_dictionaries_load_with_the_declared_column_types(
    shipped: dict[str, pa.Table],
) -> None:
    kinds = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "decimal": pa.float64()}
    assert list(shipped) == list(DICTIONARY_NAMES)
    for name, table in shipped.items():
        spec = SPECS[name]
        assert table.column_names == [c.name for c in spec.columns]
        assert [f.type for f in table.schema] == [kinds[c.kind] for c in spec.columns]


def test_shipped_geographies_cover_every_state_with_unique_places(
    shipped: dict[str, pa.Table],
) -> None:
    geo = shipped["geographies"].to_pylist()
    assert 700 <= len(geo) <= 1000
    assert {g["State"] for g in geo} == STATE_CODES
    assert {g["Region"] for g in geo} == REGIONS
    assert len({(g["City"], g["State"]) for g in geo}) == len(geo)
    per_state = Counter(g["State"] for g in geo)
    assert per_state["CA"] >= 50 and per_state["TX"] >= 40
    for g in geo:
        assert len(g["ZipCode"]) == 5 and g["ZipCode"].isdigit()
        assert not g["District"].endswith((" County", " Parish"))
        assert 17 < g["Latitude"] < 72 and -180 < g["Longitude"] < -65
        assert g["Population"] > 0
    assert any(g["ZipCode"].startswith("0") for g in geo)  # leading zeros kept


def test_shipped_name_lists_are_large_and_unique(shipped: dict[str, pa.Table]) -> None:
    first = shipped["first_names"].column("FirstName").to_pylist()
    last = shipped["last_names"].column("LastName").to_pylist()
    assert 280 <= len(first) <= 330 and len(set(first)) == len(first)
    assert 330 <= len(last) <= 380 and len(set(last)) == len(last)


def test_shipped_products_have_ten_departments_with_grocery_largest(
    shipped: dict[str, pa.Table],
) -> None:
    products = shipped["products"].to_pylist()
    assert 580 <= len(products) <= 650
    assert len({p["ProductName"] for p in products}) == len(products)
    per_department = Counter(p["Department"] for p in products)
    assert set(per_department) == DEPARTMENTS
    assert per_department.most_common(1)[0][0] == "Grocery"
    assert 180 <= per_department["Grocery"] <= 220
    assert min(per_department.values()) >= 30
    categories: dict[str, set[str]] = defaultdict(set)
    for p in products:
        categories[p["Department"]].add(p["Category"])
        assert 0.5 <= p["BasePrice"] <= 1500
        assert round(p["BasePrice"], 2) == p["BasePrice"]
    assert all(3 <= len(c) <= 8 for c in categories.values())
    assert categories["Grocery"] >= REFRIGERATED
    assert {"Pantry", "Beverages", "Snacks & Candy"} <= categories["Grocery"]
    assert {"Men's Apparel", "Women's Apparel", "Kids' Apparel", "Shoes", "Accessories"} <= (
        categories["Clothing"]
    )
    assert {"Holiday Decor", "Grilling & Outdoor", "Sports Equipment"} <= (
        categories["Seasonal & Sports"]
    )
    assert "Toys" in categories["Baby & Kids"]
    assert {"Audio", "Computer Accessories", "TV & Video", "Phones & Tablets"} <= (
        categories["Electronics"]
    )


def test_shipped_brands_give_every_category_at_least_three_brands(
    shipped: dict[str, pa.Table],
) -> None:
    companies = shipped["product_companies"].column("Company").to_pylist()
    brands = shipped["product_brands"].to_pylist()
    assert 90 <= len(companies) <= 110 and len(set(companies)) == len(companies)
    assert 550 <= len(brands) <= 650
    assert len({b["Brand"] for b in brands}) == len(brands)
    assert {b["Company"] for b in brands} <= set(companies)
    per_category = Counter(b["Category"] for b in brands)
    product_categories = set(shipped["products"].column("Category").to_pylist())
    assert set(per_category) == product_categories
    assert min(per_category.values()) >= 3


def test_shipped_tax_rates_are_plausible_and_match_geographies(
    shipped: dict[str, pa.Table],
) -> None:
    rates = shipped["tax_rates"].to_pylist()
    assert 140 <= len(rates) <= 180
    assert all(0 <= r["CombinedRate"] <= 0.1025 for r in rates)
    keys = [(r["StateCode"], r["County"], r["City"]) for r in rates]
    assert len(set(keys)) == len(keys)
    state_level = {r["StateCode"]: r["CombinedRate"] for r in rates if not r["County"]}
    assert set(state_level) == STATE_CODES
    assert all(r["CombinedRate"] == 0 for r in rates if r["StateCode"] in NO_SALES_TAX)
    assert any(r["County"] and not r["City"] for r in rates)  # county-level rows exist
    places = {(g["State"], g["District"], g["City"]) for g in shipped["geographies"].to_pylist()}
    city_rows = [k for k in keys if k[2]]
    assert len(city_rows) >= 80
    assert all(k in places for k in city_rows)


def test_default_loader_reads_the_packaged_folder() -> None:
    loader = DictionaryLoader()
    assert loader.directory == packaged_directory()
    for name in DICTIONARY_NAMES:
        assert loader.path(name).is_file()


def test_shared_module_re_exports_the_loader() -> None:
    from retail_datagen.shared.dictionary_loader import DictionaryLoader as Shared

    assert Shared is DictionaryLoader


# ---------------------------------------------------------------- bad values
BAD_CELLS = [
    ("geographies", 12, "Latitude", "abc", "is not a number"),
    ("geographies", 3, "Latitude", "95.5", "is above the maximum 90"),
    ("geographies", 4, "Longitude", "inf", "is not a finite number"),
    ("geographies", 5, "Population", "12.5", "is not a whole number"),
    ("geographies", 6, "Population", "-3", "is below the minimum 0"),
    ("geographies", 7, "State", "XX", "is not a 2-letter US state code"),
    ("geographies", 8, "ZipCode", "2108", "is not a 5-digit ZIP code"),
    ("geographies", 9, "Region", "Midwst", "is not one of Midwest, Northeast"),
    ("geographies", 10, "City", "", "is empty but a value is required"),
    ("products", 2, "ProductName", "  ", "is empty but a value is required"),
    ("products", 20, "BasePrice", "3.999", "has more than 2 decimal places"),
    ("products", 21, "BasePrice", "0", "is below the minimum 0.01"),
    ("products", 22, "BasePrice", "$4.00", "is not a number"),
    ("products", 23, "Department", "", "is empty but a value is required"),
    ("tax_rates", 5, "CombinedRate", "0.5", "is above the maximum 0.15"),
    ("tax_rates", 6, "CombinedRate", "0.071234", "has more than 5 decimal places"),
    ("tax_rates", 7, "StateCode", "ca", "is not a 2-letter US state code"),
    ("product_brands", 4, "Category", "Spaceships", "is not a Category in products.csv"),
]


@pytest.mark.parametrize(("name", "row", "column", "value", "rule"), BAD_CELLS)
def test_a_bad_value_names_file_row_column_value_and_rule(
    folder: Path, name: str, row: int, column: str, value: str, rule: str
) -> None:
    set_cell(folder, name, row, column, value)
    message = load_error(folder, name)
    assert message.startswith(f"{name}.csv row {row}, column {column}: {value.strip()!r} {rule}")


def test_a_brand_of_an_unknown_company_is_rejected(folder: Path) -> None:
    set_cell(folder, "product_brands", 3, "Company", "Nobody Holdings")
    message = load_error(folder, "product_brands")
    assert message == (
        "product_brands.csv row 3, column Company: 'Nobody Holdings' is not a Company "
        "in product_companies.csv"
    )


def test_removing_a_company_that_brands_use_is_caught_on_the_next_brand_load(
    folder: Path,
) -> None:
    loader = DictionaryLoader(folder)
    brands = loader.product_brands()
    used = brands.column("Company")[0].as_py()
    edit(folder, "product_companies", lambda rows: rows.remove([used]))
    message = load_error(folder, "product_brands")
    assert message.startswith("product_brands.csv row 1, column Company:")
    assert repr(used) in message


def test_a_duplicate_key_names_the_earlier_row(folder: Path) -> None:
    edit(folder, "geographies", lambda rows: rows.append(list(rows[12])))
    count = len(read_rows(folder / "geographies.csv")) - 1
    message = load_error(folder, "geographies")
    city, state = read_rows(folder / "geographies.csv")[12][:2]
    assert message == (
        f"geographies.csv row {count}, column City: {city!r} with State {state!r} repeats row 12 "
        "(each City + State must be unique)"
    )


def test_a_duplicate_single_column_key_is_rejected(folder: Path) -> None:
    edit(folder, "first_names", lambda rows: rows.insert(5, list(rows[1])))
    message = load_error(folder, "first_names")
    assert message.startswith("first_names.csv row 5, column FirstName:")
    assert "repeats row 1" in message


def test_duplicate_state_level_tax_rows_are_rejected(folder: Path) -> None:
    edit(folder, "tax_rates", lambda rows: rows.append(["TX", "", "", "0.08"]))
    message = load_error(folder, "tax_rates")
    assert "column StateCode: 'TX' with no County with no City repeats row" in message


def test_a_category_in_two_departments_is_rejected(folder: Path) -> None:
    def change(rows: Rows) -> None:
        rows.append(["Mystery Widget", "9.99", "Automotive", "Dairy", "Widgets"])

    edit(folder, "products", change)
    message = load_error(folder, "products")
    assert "column Department: 'Automotive' conflicts with row" in message
    assert "Category 'Dairy' in Department 'Grocery'" in message


# ---------------------------------------------------------------- bad file shapes
def test_an_unknown_column_is_rejected(folder: Path) -> None:
    def change(rows: Rows) -> None:
        for row in rows:
            row.append("Color" if row is rows[0] else "red")

    edit(folder, "first_names", change)
    message = load_error(folder, "first_names")
    assert message == "first_names.csv header, column Color: unknown column (expected FirstName)"


def test_a_column_with_the_wrong_case_gets_a_suggestion(folder: Path) -> None:
    edit(folder, "last_names", lambda rows: rows[0].__setitem__(0, "lastname"))
    assert "did you mean LastName?" in load_error(folder, "last_names")


def test_a_missing_required_column_is_rejected(folder: Path) -> None:
    def change(rows: Rows) -> None:
        at = rows[0].index("Latitude")
        for row in rows:
            del row[at]

    edit(folder, "geographies", change)
    message = load_error(folder, "geographies")
    assert message == "geographies.csv header, column Latitude: required column is missing"


def test_a_repeated_column_is_rejected(folder: Path) -> None:
    def change(rows: Rows) -> None:
        for row in rows:
            row.append(row[0])

    edit(folder, "product_companies", change)
    assert "header, column Company: appears more than once" in load_error(
        folder, "product_companies"
    )


def test_an_optional_column_may_be_left_out_and_loads_as_null(folder: Path) -> None:
    text = "StateCode,City,CombinedRate\nTX,,0.0825\nTX,Austin,0.0825\n"
    (folder / "tax_rates.csv").write_text(text, encoding="utf-8")
    table = DictionaryLoader(folder).tax_rates()
    assert table.column_names == ["StateCode", "County", "City", "CombinedRate"]
    assert table.to_pylist() == [
        {"StateCode": "TX", "County": None, "City": None, "CombinedRate": 0.0825},
        {"StateCode": "TX", "County": None, "City": "Austin", "CombinedRate": 0.0825},
    ]


def test_a_row_with_an_extra_value_is_rejected(folder: Path) -> None:
    edit(folder, "product_companies", lambda rows: rows[3].append("extra"))
    message = load_error(folder, "product_companies")
    assert message == (
        "product_companies.csv row 3, column 2: unexpected extra value 'extra' "
        "(the header has 1 columns)"
    )


def test_a_short_row_names_the_first_missing_column(folder: Path) -> None:
    edit(folder, "products", lambda rows: rows.__setitem__(4, rows[4][:3]))
    message = load_error(folder, "products")
    assert message.startswith("products.csv row 4, column Category: missing")


def test_an_empty_file_and_a_header_only_file_are_rejected(folder: Path) -> None:
    (folder / "first_names.csv").write_text("", encoding="utf-8")
    assert "first_names.csv: the file is empty" in load_error(folder, "first_names")
    (folder / "last_names.csv").write_text("LastName\n", encoding="utf-8")
    assert "last_names.csv: no data rows" in load_error(folder, "last_names")


def test_a_file_that_is_not_utf8_is_rejected(folder: Path) -> None:
    (folder / "last_names.csv").write_bytes(b"LastName\nM\xfcller\n")
    assert "last_names.csv: not valid UTF-8" in load_error(folder, "last_names")


def test_an_unclosed_quote_is_rejected(folder: Path) -> None:
    (folder / "last_names.csv").write_text('LastName\nSmith\n"Jones\n', encoding="utf-8")
    assert "last_names.csv row 2: not readable as CSV" in load_error(folder, "last_names")


def test_a_byte_order_mark_spaces_and_blank_lines_are_tolerated(folder: Path) -> None:
    text = "\ufeffLastName \n Smith\n\nJones \n"
    (folder / "last_names.csv").write_text(text, encoding="utf-8")
    table = DictionaryLoader(folder).last_names()
    assert table.column("LastName").to_pylist() == ["Smith", "Jones"]


def test_blank_lines_still_count_in_row_numbers(folder: Path) -> None:
    (folder / "last_names.csv").write_text("LastName\nSmith\n\nSmith\n", encoding="utf-8")
    assert load_error(folder, "last_names").startswith(
        "last_names.csv row 3, column LastName: 'Smith' repeats row 1"
    )


def test_a_missing_file_says_where_and_how_to_fix_it(folder: Path) -> None:
    (folder / "geographies.csv").unlink()
    message = load_error(folder, "geographies")
    assert message == (
        f"dictionary file not found: {folder.absolute() / 'geographies.csv'} (set "
        "paths.dictionaries to a folder containing it, or remove the setting to use the "
        "shipped dictionaries)"
    )


def test_a_missing_referenced_file_is_reported_for_the_brand_load(folder: Path) -> None:
    (folder / "product_companies.csv").unlink()
    assert "product_companies.csv" in load_error(folder, "product_brands")


def test_an_unknown_dictionary_name_is_a_programming_error(folder: Path) -> None:
    with pytest.raises(ValueError, match="unknown dictionary 'stores'"):
        DictionaryLoader(folder).load("stores")


# ---------------------------------------------------------------- cache
def test_repeated_loads_return_the_same_table(folder: Path) -> None:
    first = DictionaryLoader(folder).products()
    assert DictionaryLoader(folder).load("products.csv") is first
    assert DictionaryLoader(folder).products() is first


def test_an_edited_file_is_read_again(folder: Path) -> None:
    loader = DictionaryLoader(folder)
    before = loader.first_names()
    path = folder / "first_names.csv"
    write_rows(path, [["FirstName"], ["Ada"], ["Grace"]])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = loader.first_names()
    assert after is not before
    assert after.column("FirstName").to_pylist() == ["Ada", "Grace"]
    assert loader.first_names() is after


def test_brands_are_revalidated_when_a_referenced_file_changes(folder: Path) -> None:
    loader = DictionaryLoader(folder)
    before = loader.product_brands()
    path = folder / "products.csv"
    spare = ["Spare Widget", "1.00", "Grocery", "Pantry", "Widgets"]
    edit(folder, "products", lambda rows: rows.append(spare))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert loader.product_brands() is not before


def test_clear_cache_forgets_tables(folder: Path) -> None:
    first = DictionaryLoader(folder).first_names()
    loader_module.clear_cache()
    assert DictionaryLoader(folder).first_names() is not first
