"""Shared fixtures: a small valid configuration, and small hand-built dimension and fact tables
that follow the registry schemas (so storage and validation can be tested without generators)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.volumes import small_volume

from retail_datagen.schema import TABLES, Kind, Table

SMALL_CONFIG: dict[str, Any] = {
    "seed": 7,
    "volume": small_volume(
        stores=6,
        total_customers=2000,
        total_products=500,
        total_geographies=40,
        customers_per_day=50,
        online_orders_per_day=20,
        marketing_impressions_per_day=100,
        refrigerated_trucks=2,
        non_refrigerated_trucks=2,
        supplier_refrigerated_trucks=1,
        supplier_non_refrigerated_trucks=1,
    ),
    "historical": {"start_date": "2024-01-01"},
}


@pytest.fixture
def small_config_dict() -> dict[str, Any]:
    return json.loads(json.dumps(SMALL_CONFIG))


@pytest.fixture
def small_config_file(tmp_path: Path, small_config_dict: dict[str, Any]) -> Path:
    """A config JSON with stores=6, dcs=2, customers=2000, products=500, geographies=40."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(small_config_dict, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def table_from_rows(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of registry table ``name`` built from Python rows (test sizes only)."""
    schema = TABLES[name].arrow_schema
    return pa.Table.from_pylist(rows, schema=schema)


# ---------------------------------------------------------------- dimensions
_GEOS = [
    # ID, City, State, Zip, District, Region, Lat, Lon
    (1, "Austin", "TX", "73301", "Travis", "South", 30.27, -97.74),
    (2, "Round Rock", "TX", "78664", "Williamson", "South", 30.51, -97.68),
    (3, "Dallas", "TX", "75201", "Dallas", "South", 32.78, -96.80),
    (4, "Fresno", "CA", "93650", "Fresno", "West", 36.74, -119.79),
    (5, "Sacramento", "CA", "94203", "Sacramento", "West", 38.58, -121.49),
    (6, "Reno", "NV", "89501", "Washoe", "West", 39.53, -119.81),
]
_DCS = [(1, 1), (2, 5)]  # DC id, geography id (Austin TX, Sacramento CA)
_STORE_GEOS = [1, 2, 3, 1, 2, 4, 5, 4, 5, 3]
_CLASSES = [
    ("FLAGSHIP", "HYPERMARKET", 2.8),
    ("HIGH", "SUPERSTORE", 2.1),
    ("MEDIUM", "STANDARD", 1.0),
    ("MEDIUM", "STANDARD", 0.9),
    ("LOW", "NEIGHBORHOOD", 0.5),
    ("KIOSK", "EXPRESS", 0.3),
    ("MEDIUM", "STANDARD", 1.1),
    ("LOW", "NEIGHBORHOOD", 0.6),
    ("HIGH", "SUPERSTORE", 1.9),
    ("MEDIUM", "STANDARD", 1.0),
]
_DEPARTMENTS = ["Grocery", "Grocery", "Grocery", "Electronics", "Clothing", "Home & Garden"]


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def build_dimensions() -> dict[str, pa.Table]:
    """A small, fully consistent set of the nine dimensions (every dimension check passes)."""
    geo_at = {g[0]: (g[6], g[7]) for g in _GEOS}
    geographies = [dict(zip(TABLES["dim_geographies"].column_names, g, strict=True)) for g in _GEOS]
    dcs = [
        {
            "ID": dc_id,
            "DCNumber": f"DC{dc_id:03d}",
            "Address": f"{dc_id} Depot Rd",
            "GeographyID": geo,
            "Latitude": geo_at[geo][0],
            "Longitude": geo_at[geo][1],
        }
        for dc_id, geo in _DCS
    ]
    stores = []
    for i, (geo, (volume, fmt, mult)) in enumerate(zip(_STORE_GEOS, _CLASSES, strict=True), 1):
        loc = (geo_at[geo][0] + 0.01 * i, geo_at[geo][1] - 0.01 * i)
        nearest = min(dcs, key=lambda d: _haversine(loc, (d["Latitude"], d["Longitude"])))
        stores.append(
            {
                "ID": i,
                "StoreNumber": f"ST{i:04d}",
                "Address": f"{i} Main St",
                "GeographyID": geo,
                "Latitude": loc[0],
                "Longitude": loc[1],
                "TaxRate": Decimal("0.08250"),
                "VolumeClass": volume,
                "StoreFormat": fmt,
                "OpenHour": 0 if fmt == "EXPRESS" else 8,
                "CloseHour": 24 if fmt == "EXPRESS" else 22,
                "TrafficMultiplier": mult,
                "DCID": nearest["ID"],
            }
        )
    trucks = [
        {
            "ID": 1,
            "LicensePlate": "TX-1001",
            "Refrigeration": True,
            "DCID": 1,
            "TruckType": "DC",
            "Capacity": 15000,
        },
        {
            "ID": 2,
            "LicensePlate": "CA-2002",
            "Refrigeration": False,
            "DCID": 2,
            "TruckType": "DC",
            "Capacity": 15000,
        },
        {
            "ID": 3,
            "LicensePlate": "SP-3003",
            "Refrigeration": False,
            "DCID": None,
            "TruckType": "SUPPLIER",
            "Capacity": 15000,
        },
    ]
    customers = [
        {
            "ID": i,
            "FirstName": "Alex",
            "LastName": f"Sample{i}",
            "Address": f"{i} Elm St",
            "GeographyID": _STORE_GEOS[(i - 1) % len(_STORE_GEOS)],
            "Latitude": 30.0,
            "Longitude": -97.0,
            "LoyaltyCard": f"LC{i:06d}",
            "Phone": f"(512) 555-01{i:02d}",
            "BLEId": f"BLE{i:06d}",
            "AdId": f"AD{i:06d}",
            "Segment": "BUDGET_CONSCIOUS",
            "HomeStoreID": (i - 1) % len(_STORE_GEOS) + 1,
        }
        for i in range(1, 21)
    ]
    products = []
    for i in range(1, 13):
        msrp = Decimal(10 + i)
        sale = msrp if i % 3 else (msrp * Decimal("0.80")).quantize(Decimal("0.01"))
        cost = (sale * Decimal("0.60")).quantize(Decimal("0.01"))
        products.append(
            {
                "ID": i,
                "ProductName": f"Product {i}",
                "Brand": "Acmeish",
                "Company": "Sample Co",
                "Department": _DEPARTMENTS[i % len(_DEPARTMENTS)],
                "Category": "General",
                "Subcategory": "General",
                "Cost": cost,
                "MSRP": msrp,
                "SalePrice": sale,
                "RequiresRefrigeration": i % 4 == 0,
                "Taxability": "TAXABLE",
                "LaunchDate": date(2023, 6, 1),
                "Tags": None,
            }
        )
    days = [date(2024, 1, 1) + timedelta(days=k) for k in range(31)]
    dim_date = [
        {
            "DateKey": int(d.strftime("%Y%m%d")),
            "Date": d,
            "Year": d.year,
            "Quarter": 1,
            "Month": d.month,
            "MonthName": d.strftime("%B"),
            "Day": d.day,
            "DayOfWeek": d.isoweekday(),
            "DayName": d.strftime("%A"),
            "WeekOfYear": d.isocalendar().week,
            "IsWeekend": d.isoweekday() >= 6,
            "HolidayName": "New Year's Day" if d.day == 1 else None,
        }
        for d in days
    ]
    stamp = datetime(2024, 1, 1)
    store_inv = [
        {
            "StoreID": s["ID"],
            "ProductID": p["ID"],
            "CurrentQuantity": 50,
            "ReorderPoint": 10,
            "LastUpdated": stamp,
        }
        for s in stores
        for p in products
    ]
    dc_inv = [
        {
            "DCID": d["ID"],
            "ProductID": p["ID"],
            "CurrentQuantity": 1000,
            "ReorderPoint": 100,
            "LastUpdated": stamp,
        }
        for d in dcs
        for p in products
    ]
    prices = [
        {
            "ProductID": p["ID"],
            "ValidFrom": datetime(2024, 1, 1),
            "ValidTo": None,
            "SalePrice": p["SalePrice"],
            "Reason": "INITIAL",
        }
        for p in products
    ]
    rows = {
        "dim_geographies": geographies,
        "dim_distribution_centers": dcs,
        "dim_stores": stores,
        "dim_trucks": trucks,
        "dim_customers": customers,
        "dim_products": products,
        "dim_product_prices": prices,
        "dim_date": dim_date,
        "dim_store_inventory_snapshots": store_inv,
        "dim_dc_inventory_snapshots": dc_inv,
    }
    return {name: table_from_rows(name, r) for name, r in rows.items()}


@pytest.fixture
def dims() -> dict[str, pa.Table]:
    return build_dimensions()


# ---------------------------------------------------------------- facts
def _default(table: Table, column: str, i: int, start: datetime) -> Any:
    col = table.column(column)
    if col.nullable:
        return None
    kind = col.kind
    if column == "TraceId":
        return f"{table.name}-{i}"
    if kind in (Kind.INT32, Kind.INT64):
        return 1
    if kind is Kind.FLOAT64:
        return 1.0
    if kind is Kind.BOOL:
        return False
    if kind is Kind.STRING:
        return f"{column}-{i}"
    if kind is Kind.CATEGORY:
        return column.upper()
    if kind is Kind.DATE:
        return start.date()
    if kind is Kind.TIMESTAMP:
        return start + timedelta(hours=i)
    if kind is Kind.MONEY:
        return Decimal("1.00")
    if kind is Kind.MICRO_MONEY:
        return Decimal("0.002500")
    return Decimal("0.05000")


FactFactory = Callable[..., pa.Table]


def build_fact(
    name: str, n: int, start: datetime = datetime(2024, 1, 1, 9), **columns: Any
) -> pa.Table:
    """``n`` rows of fact table ``name``: valid defaults (IDs = 1, unique TraceId and string
    ids, hourly EventTS from ``start``); a keyword gives a column a constant or a list."""
    table = TABLES[name]
    rows = []
    for i in range(n):
        row = {c: _default(table, c, i, start) for c in table.column_names}
        for key, value in columns.items():
            row[key] = value[i] if isinstance(value, list) else value
        rows.append(row)
    return table_from_rows(name, rows)


@pytest.fixture
def make_fact() -> FactFactory:
    return build_fact
