"""Every table of SPEC §5 (dimensions) and §6 (facts), declared once.

Column names are PascalCase as in the seeds; the seeds' columns come first, extra ones after.
"""

from __future__ import annotations

from retail_datagen.errors import NotFoundError
from retail_datagen.schema.registry import Column, ForeignKey, Kind, Table

__all__ = ["DIMENSIONS", "EVENT_PAYLOADS", "FACTS", "TABLES", "get_payload", "get_table"]

I32, I64, F64, BOOL, STR = Kind.INT32, Kind.INT64, Kind.FLOAT64, Kind.BOOL, Kind.STRING
CAT = Kind.CATEGORY  # fact columns with a small vocabulary (dictionary-encoded)
DATE, TS, MONEY, RATE = Kind.DATE, Kind.TIMESTAMP, Kind.MONEY, Kind.RATE
MICRO_MONEY = Kind.MICRO_MONEY


def C(name: str, kind: Kind, doc: str = "", *, null: bool = False) -> Column:
    return Column(name, kind, nullable=null, doc=doc)


def FK(column: str, table: str, target: str = "ID") -> ForeignKey:
    return ForeignKey(column, table, target)


_TRACE = (C("TraceId", STR, "unique, deterministic row id"), C("EventTS", TS, "local store time"))

# ---------------------------------------------------------------- dimensions
DIM_GEOGRAPHIES = Table(
    "dim_geographies",
    "Places sampled from the geography dictionary; stores, DCs and customers sit in them.",
    (
        C("ID", I32),
        C("City", STR),
        C("State", STR, "2-letter code"),
        C("ZipCode", STR),
        C("District", STR, "county"),
        C("Region", STR),
        C("Latitude", F64),
        C("Longitude", F64),
    ),
    primary_key=("ID",),
)

DIM_DISTRIBUTION_CENTERS = Table(
    "dim_distribution_centers",
    "Distribution centres; placed first, stores only in their states.",
    (
        C("ID", I32),
        C("DCNumber", STR),
        C("Address", STR),
        C("GeographyID", I32),
        C("Latitude", F64),
        C("Longitude", F64),
    ),
    primary_key=("ID",),
    unique=(("DCNumber",),),
    foreign_keys=(FK("GeographyID", "dim_geographies"),),
)

DIM_STORES = Table(
    "dim_stores",
    "Stores with their volume profile, opening hours, tax rate and serving DC.",
    (
        C("ID", I32),
        C("StoreNumber", STR),
        C("Address", STR),
        C("GeographyID", I32),
        C("Latitude", F64),
        C("Longitude", F64),
        C("TaxRate", RATE, "combined sales tax rate of the store's jurisdiction"),
        C("VolumeClass", STR, "FLAGSHIP, HIGH, MEDIUM, LOW, KIOSK"),
        C("StoreFormat", STR, "HYPERMARKET, SUPERSTORE, STANDARD, NEIGHBORHOOD, EXPRESS"),
        C("OpenHour", I32, "0-23"),
        C("CloseHour", I32, "1-24; 0 to 24 means open around the clock"),
        C("TrafficMultiplier", F64),
        C("DCID", I32, "serving (nearest) DC"),
    ),
    primary_key=("ID",),
    unique=(("StoreNumber",),),
    foreign_keys=(FK("GeographyID", "dim_geographies"), FK("DCID", "dim_distribution_centers")),
)

DIM_TRUCKS = Table(
    "dim_trucks",
    "DC fleet (TruckType DC, with a home DC) and supplier fleet (TruckType SUPPLIER, DCID NULL).",
    (
        C("ID", I32),
        C("LicensePlate", STR),
        C("Refrigeration", BOOL),
        C("DCID", I32, null=True),
        C("TruckType", STR, "DC or SUPPLIER"),
        C("Capacity", I32, "units"),
    ),
    primary_key=("ID",),
    unique=(("LicensePlate",),),
    foreign_keys=(FK("DCID", "dim_distribution_centers"),),
)

DIM_CUSTOMERS = Table(
    "dim_customers",
    "Synthetic customers living near their home store.",
    (
        C("ID", I32),
        C("FirstName", STR),
        C("LastName", STR),
        C("Address", STR),
        C("GeographyID", I32),
        C("Latitude", F64),
        C("Longitude", F64),
        C("LoyaltyCard", STR),
        C("Phone", STR, "fictitious 555-01xx numbers"),
        C("BLEId", STR),
        C("AdId", STR),
        C("Segment", STR),
        C("HomeStoreID", I32),
    ),
    primary_key=("ID",),
    unique=(("LoyaltyCard",), ("BLEId",), ("AdId",)),
    foreign_keys=(FK("GeographyID", "dim_geographies"), FK("HomeStoreID", "dim_stores")),
)

DIM_PRODUCTS = Table(
    "dim_products",
    "Product SKUs: base product x category-matched synthetic brand, with pricing.",
    (
        C("ID", I32),
        C("ProductName", STR),
        C("Brand", STR),
        C("Company", STR),
        C("Department", STR),
        C("Category", STR),
        C("Subcategory", STR),
        C("Cost", MONEY),
        C("MSRP", MONEY),
        C("SalePrice", MONEY, "current shelf price: the dim_product_prices row with ValidTo NULL"),
        C("RequiresRefrigeration", BOOL),
        C("Taxability", STR, "TAXABLE, NON_TAXABLE, REDUCED_RATE"),
        C("LaunchDate", DATE, "never sold before this date"),
        C("Tags", STR, "semicolon-separated", null=True),
    ),
    primary_key=("ID",),
)

DIM_PRODUCT_PRICES = Table(
    "dim_product_prices",
    "Shelf-price history of every product; each sale and online line uses the price valid at "
    "its EventTS.",
    (
        C("ProductID", I32),
        C("ValidFrom", TS, "local midnight the price takes effect (inclusive)"),
        C(
            "ValidTo",
            TS,
            "local midnight the next price takes effect (exclusive); NULL = current",
            null=True,
        ),
        C("SalePrice", MONEY, "Cost < SalePrice <= MSRP"),
        C("Reason", STR, "INITIAL, MARKDOWN, CLEARANCE, PRICE_INCREASE, RESTORE"),
    ),
    primary_key=("ProductID", "ValidFrom"),
    foreign_keys=(FK("ProductID", "dim_products"),),
)

DIM_DATE = Table(
    "dim_date",
    "One row per calendar day with named holidays.",
    (
        C("DateKey", I32, "YYYYMMDD"),
        C("Date", DATE),
        C("Year", I32),
        C("Quarter", I32),
        C("Month", I32),
        C("MonthName", STR),
        C("Day", I32),
        C("DayOfWeek", I32, "1 = Monday ... 7 = Sunday"),
        C("DayName", STR),
        C("WeekOfYear", I32, "ISO week"),
        C("IsWeekend", BOOL),
        C("HolidayName", STR, null=True),
    ),
    primary_key=("DateKey",),
    unique=(("Date",),),
)

DIM_STORE_INVENTORY_SNAPSHOTS = Table(
    "dim_store_inventory_snapshots",
    "Starting on-hand stock per store and product; the simulation starts from it.",
    (
        C("StoreID", I32),
        C("ProductID", I32),
        C("CurrentQuantity", I32),
        C("ReorderPoint", I32),
        C("LastUpdated", TS),
    ),
    primary_key=("StoreID", "ProductID"),
    foreign_keys=(FK("StoreID", "dim_stores"), FK("ProductID", "dim_products")),
)

DIM_DC_INVENTORY_SNAPSHOTS = Table(
    "dim_dc_inventory_snapshots",
    "Starting on-hand stock per DC and product.",
    (
        C("DCID", I32),
        C("ProductID", I32),
        C("CurrentQuantity", I32),
        C("ReorderPoint", I32),
        C("LastUpdated", TS),
    ),
    primary_key=("DCID", "ProductID"),
    foreign_keys=(FK("DCID", "dim_distribution_centers"), FK("ProductID", "dim_products")),
)

# ---------------------------------------------------------------- facts
FACT_RECEIPTS = Table(
    "fact_receipts",
    "In-store sale and return receipts; Total = Subtotal - Discount + Tax to the cent.",
    (
        *_TRACE,
        C("StoreID", I32),
        C("CustomerID", I32, "NULL for an anonymous shopper", null=True),
        C("ReceiptId", STR),
        C("Subtotal", MONEY, "sum of UnitPrice x Qty"),
        C("Tax", MONEY),
        C("Total", MONEY),
        C("TenderType", CAT),
        C("Discount", MONEY, "sum of line discounts"),
        C("ReceiptType", CAT, "SALE or RETURN"),
        C("OriginalReceiptId", STR, "the sale a return refers to", null=True),
        C("ItemCount", I32, "units on the receipt"),
        C("CampaignId", STR, "marketing attribution", null=True),
        C("ImpressionId", STR, "marketing attribution", null=True),
    ),
    primary_key=("TraceId",),
    unique=(("ReceiptId",),),
    foreign_keys=(FK("StoreID", "dim_stores"), FK("CustomerID", "dim_customers")),
    time_column="EventTS",
)

_LINE_COLUMNS = (
    C("Line", I32, "1-based line number"),
    C("ProductID", I32),
    C("Qty", I32, "negative on returns"),
    C("UnitPrice", MONEY),
    C("ExtPrice", MONEY, "UnitPrice x Qty - Discount"),
    C("PromoCode", CAT, null=True),
    C("Discount", MONEY),
    C("Tax", MONEY, "on the post-discount amount"),
)

FACT_RECEIPT_LINES = Table(
    "fact_receipt_lines",
    "Receipt lines.",
    (*_TRACE, C("ReceiptId", STR), *_LINE_COLUMNS),
    primary_key=("TraceId",),
    unique=(("ReceiptId", "Line"), ("ReceiptId", "ProductID")),  # one line per product
    foreign_keys=(
        FK("ReceiptId", "fact_receipts", "ReceiptId"),
        FK("ProductID", "dim_products"),
    ),
    time_column="EventTS",
)

FACT_PAYMENTS = Table(
    "fact_payments",
    "Payment attempts for receipts and online orders, declines and refunds included.",
    (
        *_TRACE,
        C("PaymentId", STR),
        C("ReceiptId", STR, null=True),
        C("OrderId", STR, null=True),
        C("StoreID", I32, null=True),
        C("CustomerID", I32, "NULL for an anonymous shopper", null=True),
        C("TenderType", CAT),
        C("Amount", MONEY, "negative for refunds"),
        C("Status", CAT, "APPROVED or DECLINED"),
        C("DeclineReason", CAT, null=True),
        C("ProcessingTimeMs", I32),
    ),
    primary_key=("TraceId",),
    unique=(("PaymentId",),),
    foreign_keys=(
        FK("ReceiptId", "fact_receipts", "ReceiptId"),
        FK("OrderId", "fact_online_orders", "OrderId"),
        FK("StoreID", "dim_stores"),
        FK("CustomerID", "dim_customers"),
    ),
    time_column="EventTS",
)

_LEDGER_TAIL = (
    C("ProductID", I32),
    C("QtyDelta", I32),
    C("Reason", CAT, "SALE, RETURN, INBOUND_SHIPMENT, OUTBOUND_SHIPMENT, ADJUSTMENT, DAMAGED"),
    C("Source", CAT, "STORE, ONLINE, DC, SUPPLIER, COUNT"),
    C("SourceId", STR, "receipt, order or shipment id", null=True),
    C("Balance", I32, "on-hand after this row"),
)

FACT_STORE_INVENTORY_TXN = Table(
    "fact_store_inventory_txn",
    "Store stock ledger: every movement is a row and Balance is the running on-hand.",
    (*_TRACE, C("StoreID", I32), *_LEDGER_TAIL),
    primary_key=("TraceId",),
    foreign_keys=(FK("StoreID", "dim_stores"), FK("ProductID", "dim_products")),
    time_column="EventTS",
)

FACT_DC_INVENTORY_TXN = Table(
    "fact_dc_inventory_txn",
    "DC stock ledger.",
    (*_TRACE, C("DCID", I32), *_LEDGER_TAIL),
    primary_key=("TraceId",),
    foreign_keys=(FK("DCID", "dim_distribution_centers"), FK("ProductID", "dim_products")),
    time_column="EventTS",
)

FACT_TRUCK_MOVES = Table(
    "fact_truck_moves",
    "One row per truck status of a shipment leg, in strict time order.",
    (
        *_TRACE,
        C("TruckId", I32),
        C("DCID", I32),
        C("StoreID", I32, "NULL for supplier deliveries to a DC", null=True),
        C("ShipmentId", STR),
        C("Status", CAT, "SCHEDULED, LOADING, IN_TRANSIT, ARRIVED, UNLOADING, COMPLETED, DELAYED"),
        C("ETA", TS, null=True),
        C("ETD", TS, null=True),
    ),
    primary_key=("TraceId",),
    unique=(("ShipmentId", "Status"),),
    foreign_keys=(
        FK("TruckId", "dim_trucks"),
        FK("DCID", "dim_distribution_centers"),
        FK("StoreID", "dim_stores"),
    ),
    time_column="EventTS",
)

FACT_FOOT_TRAFFIC = Table(
    "fact_foot_traffic",
    "Visitor counts per sensor and zone per interval, with average dwell seconds.",
    (
        *_TRACE,
        C("StoreID", I32),
        C("SensorId", STR),
        C("Zone", CAT),
        C("Dwell", I32, "average dwell seconds"),
        C("Count", I32),
    ),
    primary_key=("TraceId",),
    foreign_keys=(FK("StoreID", "dim_stores"),),
    time_column="EventTS",
)

FACT_BLE_PINGS = Table(
    "fact_ble_pings",
    "Beacon detections of visitors' devices; about 30 % resolve to a known customer.",
    (
        *_TRACE,
        C("StoreID", I32),
        C("BeaconId", STR),
        C("CustomerBLEId", STR),
        C("RSSI", I32, "dBm, -80 to -30"),
        C("Zone", CAT),
        C("CustomerID", I32, null=True),
    ),
    primary_key=("TraceId",),
    foreign_keys=(FK("StoreID", "dim_stores"), FK("CustomerID", "dim_customers")),
    time_column="EventTS",
)

FACT_CUSTOMER_ZONE_CHANGES = Table(
    "fact_customer_zone_changes",
    "Zone transitions derived from consecutive BLE pings of one visit.",
    (
        *_TRACE,
        C("StoreID", I32),
        C("CustomerBLEId", STR),
        C("FromZone", CAT),
        C("ToZone", CAT),
    ),
    primary_key=("TraceId",),
    foreign_keys=(FK("StoreID", "dim_stores"),),
    time_column="EventTS",
)

FACT_MARKETING = Table(
    "fact_marketing",
    "Ad impressions with their cost; about 5 % resolve to a known customer.",
    (
        *_TRACE,
        C("Channel", CAT),
        C("CampaignId", STR),
        C("CreativeId", STR),
        C("CustomerAdId", STR),
        C("ImpressionId", STR),
        C("Cost", MICRO_MONEY, "USD to 6 places: an impression costs a fraction of a cent"),
        C("Device", CAT, "MOBILE, DESKTOP, TABLET"),
        C("CustomerID", I32, null=True),
    ),
    primary_key=("TraceId",),
    unique=(("ImpressionId",),),
    foreign_keys=(FK("CustomerID", "dim_customers"),),
    time_column="EventTS",
)

FACT_ONLINE_ORDERS = Table(
    "fact_online_orders",
    "Online orders with fulfilment node, money and lifecycle timestamps.",
    (
        *_TRACE,
        C("OrderId", STR),
        C("CustomerID", I32),
        C("FulfillmentMode", CAT, "SHIP_FROM_DC, SHIP_FROM_STORE, BOPIS"),
        C("NodeType", CAT, "DC or STORE"),
        C("NodeID", I32),
        C("ItemCount", I32),
        C("Subtotal", MONEY),
        C("Discount", MONEY),
        C("Tax", MONEY),
        C("Total", MONEY),
        C("TenderType", CAT),
        C(
            "Status",
            CAT,
            "DELIVERED, PICKED_UP or CANCELLED; CREATED, PICKED or SHIPPED while in flight "
            "at the end of the generated range",
        ),
        C("PickedTS", TS, null=True),
        C("ShippedTS", TS, null=True),
        C("DeliveredTS", TS, null=True),
    ),
    primary_key=("TraceId",),
    unique=(("OrderId",),),
    foreign_keys=(FK("CustomerID", "dim_customers"),),
    time_column="EventTS",
)

FACT_ONLINE_ORDER_LINES = Table(
    "fact_online_order_lines",
    "Online order lines.",
    (*_TRACE, C("OrderId", STR), *_LINE_COLUMNS),
    primary_key=("TraceId",),
    unique=(("OrderId", "Line"), ("OrderId", "ProductID")),  # one line per product
    foreign_keys=(
        FK("OrderId", "fact_online_orders", "OrderId"),
        FK("ProductID", "dim_products"),
    ),
    time_column="EventTS",
)

FACT_PROMOTIONS = Table(
    "fact_promotions",
    "One row per promoted receipt or order; DiscountAmount equals its lines' discounts.",
    (
        *_TRACE,
        C("ReceiptId", STR, null=True),
        C("OrderId", STR, null=True),
        C("StoreID", I32, null=True),
        C("CustomerID", I32, null=True),  # NULL: anonymous shopper
        C("PromoCode", CAT),
        C("DiscountType", CAT, "PERCENT or BOGO"),
        C("DiscountAmount", MONEY),
        C("ProductCount", I32, "distinct products the code applied to"),
    ),
    primary_key=("TraceId",),
    foreign_keys=(
        FK("ReceiptId", "fact_receipts", "ReceiptId"),
        FK("OrderId", "fact_online_orders", "OrderId"),
        FK("StoreID", "dim_stores"),
        FK("CustomerID", "dim_customers"),
    ),
    time_column="EventTS",
)

FACT_STOCKOUTS = Table(
    "fact_stockouts",
    "A node-product reached zero on hand (at most once per node-product-day).",
    (
        *_TRACE,
        C("StoreID", I32, null=True),
        C("DCID", I32, null=True),
        C("ProductID", I32),
        C("LastKnownQuantity", I32),
    ),
    primary_key=("TraceId",),
    foreign_keys=(
        FK("StoreID", "dim_stores"),
        FK("DCID", "dim_distribution_centers"),
        FK("ProductID", "dim_products"),
    ),
    time_column="EventTS",
)

FACT_REORDERS = Table(
    "fact_reorders",
    "Replenishment requests raised when on hand falls to the reorder point.",
    (
        *_TRACE,
        C("StoreID", I32, null=True),
        C("DCID", I32),
        C("ProductID", I32),
        C("CurrentQuantity", I32),
        C("ReorderPoint", I32),
        C("ReorderQuantity", I32),
        C("Priority", CAT, "NORMAL, HIGH, URGENT"),
        C("ShipmentId", STR, null=True),
    ),
    primary_key=("TraceId",),
    foreign_keys=(
        FK("StoreID", "dim_stores"),
        FK("DCID", "dim_distribution_centers"),
        FK("ProductID", "dim_products"),
    ),
    time_column="EventTS",
)

FACT_STORE_OPS = Table(
    "fact_store_ops",
    "Store opening and closing, two rows per store per open day.",
    (*_TRACE, C("StoreID", I32), C("Operation", CAT, "OPENED or CLOSED")),
    primary_key=("TraceId",),
    foreign_keys=(FK("StoreID", "dim_stores"),),
    time_column="EventTS",
)

# ---------------------------------------------------------------- stream-only payloads
PRICE_CHANGES = Table(
    "price_changes",
    "A shelf-price change of dim_product_prices at the local midnight it takes effect: the "
    "payload of price_changed events (the stored history is dim_product_prices).",
    (
        C("TraceId", STR, "PRC-<yyyymmdd>-<ProductID>: unique, deterministic"),
        C("EventTS", TS, "local midnight the change takes effect"),
        C("ProductID", I32),
        C("OldSalePrice", MONEY, "the price until ValidFrom"),
        C("NewSalePrice", MONEY, "the price from ValidFrom (dim_product_prices.SalePrice)"),
        C("Reason", CAT, "MARKDOWN, CLEARANCE, PRICE_INCREASE, RESTORE"),
        C("ValidFrom", TS, "local midnight the new price takes effect"),
    ),
    primary_key=("TraceId",),
    foreign_keys=(FK("ProductID", "dim_products"),),
)

DIMENSIONS: tuple[Table, ...] = (
    DIM_GEOGRAPHIES,
    DIM_DISTRIBUTION_CENTERS,
    DIM_STORES,
    DIM_TRUCKS,
    DIM_CUSTOMERS,
    DIM_PRODUCTS,
    DIM_PRODUCT_PRICES,
    DIM_DATE,
    DIM_STORE_INVENTORY_SNAPSHOTS,
    DIM_DC_INVENTORY_SNAPSHOTS,
)

FACTS: tuple[Table, ...] = (
    FACT_RECEIPTS,
    FACT_RECEIPT_LINES,
    FACT_PAYMENTS,
    FACT_STORE_INVENTORY_TXN,
    FACT_DC_INVENTORY_TXN,
    FACT_TRUCK_MOVES,
    FACT_FOOT_TRAFFIC,
    FACT_BLE_PINGS,
    FACT_CUSTOMER_ZONE_CHANGES,
    FACT_MARKETING,
    FACT_ONLINE_ORDERS,
    FACT_ONLINE_ORDER_LINES,
    FACT_PROMOTIONS,
    FACT_STOCKOUTS,
    FACT_REORDERS,
    FACT_STORE_OPS,
)

TABLES: dict[str, Table] = {t.name: t for t in (*DIMENSIONS, *FACTS)}

# Event payloads that are not a stored table's rows (they derive from one: see each doc).
EVENT_PAYLOADS: tuple[Table, ...] = (PRICE_CHANGES,)


def get_table(name: str) -> Table:
    """The table called ``name`` — the one lookup by name (CLI options, API paths, storage), so
    no SQL is ever built from any other name; an unknown one is a :class:`NotFoundError` that
    lists the known ones."""
    table = TABLES.get(name)
    if table is None:
        raise NotFoundError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
    return table


def get_payload(name: str) -> Table:
    """The declaration of an event payload: a stored table, or one of :data:`EVENT_PAYLOADS`."""
    for table in EVENT_PAYLOADS:
        if table.name == name:
            return table
    return get_table(name)
