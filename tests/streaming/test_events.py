"""Events are the facts: the mapping, the envelope, the payload values and the JSON Schemas."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.volumes import STREAM_VOLUME as SMALL_VOLUME

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.simulation import Simulation
from retail_datagen.generators.master_generator import build_dimensions
from retail_datagen.schema import EVENT_PAYLOADS, FACTS, get_payload
from retail_datagen.streaming.event_streamer import order_window
from retail_datagen.streaming.events import (
    EVENT_SOURCES,
    EVENT_TYPES,
    PRICE_CHANGES,
    DayEvents,
    EventSource,
    check_event_types,
    encode_rows,
    event_schemas,
    ingest_stamp,
    schema_texts,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"
DAY = date(2024, 3, 4)
ORDER_WINDOW = "order_window"
VOLUME = SMALL_VOLUME
ENVELOPE_KEYS = [
    "event_type",
    "payload",
    "trace_id",
    "ingest_timestamp",
    "schema_version",
    "source",
    "partition_key",
]


@pytest.fixture(scope="module")
def sim() -> Simulation:
    config = RetailConfig.from_mapping(
        {"seed": 11, "volume": VOLUME, "historical": {"start_date": "2024-03-03"}}
    )
    return Simulation(config, build_dimensions(config), date(2024, 3, 3))


@pytest.fixture(scope="module")
def two_days(sim: Simulation) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """The fact tables of two consecutive simulated days (carried state passed along); the
    second day's tables also hold its order window under ``ORDER_WINDOW``."""
    first, carry = sim.run_day(DAY - timedelta(days=1), {})
    second, after = sim.run_day(DAY, carry)
    return first, {**second, ORDER_WINDOW: order_window(second, after)}


@pytest.fixture(scope="module")
def price_rows(sim: Simulation) -> pa.Table:
    """The shelf-price changes of DAY (event-only rows: the history is dim_product_prices)."""
    return sim.price_changes(DAY)


@pytest.fixture(scope="module")
def day_events(
    two_days: tuple[dict[str, pa.Table], dict[str, pa.Table]], price_rows: pa.Table
) -> DayEvents:
    _, second = two_days
    tables = {k: v for k, v in second.items() if k != ORDER_WINDOW}
    return DayEvents.plan(DAY, tables, second[ORDER_WINDOW], {PRICE_CHANGES: price_rows})


@pytest.fixture(scope="module")
def envelopes(day_events: DayEvents) -> list[dict[str, Any]]:
    segment = day_events.segment(0, len(day_events))
    return [json.loads(e.body) for e in segment.events(0, len(segment), ingest_stamp())]


# ---------------------------------------------------------------- a minimal JSON Schema check
def _type_ok(value: Any, kind: str) -> bool:
    return {
        "object": isinstance(value, dict),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[kind]


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The subset of JSON Schema our event schemas use (type, const, pattern, properties,
    required, additionalProperties: false, oneOf)."""
    errors: list[str] = []
    if "oneOf" in schema:
        matches = sum(not validate(value, option, path) for option in schema["oneOf"])
        return [] if matches == 1 else [f"{path}: matches {matches} of oneOf"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, k) for k in kinds):
            return [f"{path}: {value!r} is not {kinds}"]
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}: unexpected {k}" for k in value if k not in props]
        for key, sub in props.items():
            if key in value:
                errors += validate(value[key], sub, f"{path}.{key}")
    return errors


# ---------------------------------------------------------------- the mapping
def test_every_event_type_is_mapped_from_a_fact_table_or_a_declared_payload() -> None:
    assert len(EVENT_TYPES) == 20
    assert {s.event_type for s in EVENT_SOURCES} == set(EVENT_TYPES)
    sources = {t.name for t in (*FACTS, *EVENT_PAYLOADS)}
    assert all(s.table in sources for s in EVENT_SOURCES)
    by_type = {s.event_type: s for s in EVENT_SOURCES}
    assert by_type["truck_arrived"].where == ("Status", "ARRIVED")
    assert by_type["truck_departed"].where == ("Status", "IN_TRANSIT")
    assert by_type["online_order_delivered"].time_column == "DeliveredTS"
    inventory = {s.table for s in EVENT_SOURCES if s.event_type == "inventory_updated"}
    assert inventory == {"fact_store_inventory_txn", "fact_dc_inventory_txn"}


def test_unknown_event_type_filter_lists_the_known_ones() -> None:
    from retail_datagen.errors import UserError

    assert check_event_types(["receipt_created", " ad_impression "]) == (
        "receipt_created",
        "ad_impression",
    )
    with pytest.raises(UserError, match="known types: receipt_created"):
        check_event_types(["receipt_made"])


# ---------------------------------------------------------------- envelopes
def test_envelope_has_exactly_the_spec_keys(envelopes: list[dict[str, Any]]) -> None:
    assert envelopes
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    for envelope in envelopes:
        assert list(envelope) == ENVELOPE_KEYS
        assert envelope["schema_version"] == "1.0"
        assert envelope["source"] == "retail-datagen"
        assert stamp.match(envelope["ingest_timestamp"])
        assert re.match(r"^(store-\d+|dc-\d+|network)$", envelope["partition_key"])


def test_events_are_in_time_order_with_lifecycle_events_of_earlier_orders(
    day_events: DayEvents, envelopes: list[dict[str, Any]]
) -> None:
    times = day_events.time_us
    assert (times[1:] >= times[:-1]).all()
    delivered = [e for e in envelopes if e["event_type"] == "online_order_delivered"]
    shipped = [e for e in envelopes if e["event_type"] == "online_order_shipped"]
    assert shipped and all(e["trace_id"].endswith(":shipped") for e in shipped)
    for event in delivered:
        assert event["trace_id"] == event["payload"]["trace_id"] + ":delivered"
        assert event["payload"]["delivered_ts"].startswith(DAY.isoformat())
    orders = [e for e in envelopes if e["event_type"].startswith("online_order_")]
    yesterday = f"ORD-{DAY - timedelta(days=1):%Y%m%d}-"
    assert any(e["payload"]["order_id"].startswith(yesterday) for e in orders)
    # every lifecycle event carries its own step's time, never the order's creation time
    assert all(e["payload"]["event_ts"].startswith(DAY.isoformat()) for e in orders)


STEP_STATE = {  # event type -> (time column, statuses, columns that are null at that step)
    "online_order_created": (
        "event_ts",
        {"CREATED", "CANCELLED"},
        ("picked_ts", "shipped_ts", "delivered_ts"),
    ),
    "online_order_picked": ("picked_ts", {"PICKED"}, ("shipped_ts", "delivered_ts")),
    "online_order_shipped": ("shipped_ts", {"SHIPPED"}, ("delivered_ts",)),
    "online_order_delivered": ("delivered_ts", {"DELIVERED", "PICKED_UP"}, ()),
}


def test_lifecycle_payloads_show_the_order_as_it_stood_at_the_step(
    envelopes: list[dict[str, Any]],
) -> None:
    seen = set()
    for event in envelopes:
        state = STEP_STATE.get(event["event_type"])
        if state is None:
            continue
        column, statuses, unrecorded = state
        payload = event["payload"]
        assert payload["event_ts"] == payload[column]
        assert payload["status"] in statuses
        assert all(payload[c] is None for c in unrecorded)
        seen.add(event["event_type"])
    assert seen == set(STEP_STATE)


def _json_form(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_payloads_are_the_fact_rows_with_exact_money(
    two_days: tuple[dict[str, pa.Table], dict[str, pa.Table]],
    price_rows: pa.Table,
    envelopes: list[dict[str, Any]],
) -> None:
    """Every non-lifecycle event is one row of the day's tables, value for value (online-order
    events show the order as it stood at their step: see the test above)."""
    _, tables = two_days
    tables = {k: v for k, v in tables.items() if k not in (ORDER_WINDOW, "fact_online_orders")}
    rows: dict[str, dict[str, Any]] = {}
    for name, table in {**tables, PRICE_CHANGES: price_rows}.items():
        decl = get_payload(name)
        for row in table.to_pylist():
            rows[row["TraceId"]] = {decl.column(k).snake: _json_form(v) for k, v in row.items()}
    checked = 0
    for envelope in envelopes:
        trace = envelope["trace_id"].split(":")[0]
        if trace not in rows:
            assert envelope["event_type"] in STEP_STATE
            continue
        assert envelope["payload"] == rows[trace]
        checked += 1
    money = [e["payload"]["total"] for e in envelopes if e["event_type"] == "receipt_created"]
    assert money and all(re.fullmatch(r"-?\d+\.\d{2}", m) for m in money)
    assert checked > 1000


def test_every_row_of_a_mapped_table_becomes_one_event(
    two_days: tuple[dict[str, pa.Table], dict[str, pa.Table]], day_events: DayEvents
) -> None:
    _, tables = two_days
    counts = day_events.counts()
    assert counts["receipt_created"] == tables["fact_receipts"].num_rows
    assert counts["receipt_line_added"] == tables["fact_receipt_lines"].num_rows
    assert counts["ble_ping_detected"] == tables["fact_ble_pings"].num_rows
    ops = tables["fact_store_ops"].num_rows
    assert counts["store_opened"] + counts["store_closed"] == ops


def test_receipt_lines_keep_their_receipts_store_partition(
    envelopes: list[dict[str, Any]],
) -> None:
    store_of = {
        e["payload"]["receipt_id"]: e["partition_key"]
        for e in envelopes
        if e["event_type"] == "receipt_created"
    }
    lines = [e for e in envelopes if e["event_type"] == "receipt_line_added"]
    assert lines
    for line in lines:
        assert line["partition_key"] == store_of[line["payload"]["receipt_id"]]
        assert line["partition_key"].startswith("store-")


def test_strings_are_escaped_exactly() -> None:
    source = EventSource("store_opened", "fact_store_ops", partition=(("store", "StoreID"),))
    weird = ['quote " back \\ slash', "tab\tnew\nline", "café ☕", "ctrl\x01"]
    table = pa.table(
        {
            "TraceId": pa.array(weird),
            "EventTS": pa.array([datetime(2024, 1, 1, 8)] * 4, pa.timestamp("us")),
            "StoreID": pa.array([1, 2, None, 4], pa.int32()),
            "Operation": pa.array(["OPENED"] * 4),
        }
    )
    encoded = encode_rows(source, table)
    bodies = [
        json.loads(h + "2024-01-01T00:00:00.000Z" + t)
        for h, t in zip(encoded.head.to_pylist(), encoded.tail.to_pylist(), strict=True)
    ]
    assert [b["payload"]["trace_id"] for b in bodies] == weird
    assert [b["trace_id"] for b in bodies] == weird
    assert [b["partition_key"] for b in bodies] == ["store-1", "store-2", "network", "store-4"]
    assert bodies[0]["payload"]["event_ts"] == "2024-01-01T08:00:00.000000"


def test_type_filter_keeps_positions_of_every_event(day_events: DayEvents) -> None:
    keep = day_events.keep_mask(["receipt_created"])
    segment = day_events.segment(0, len(day_events), keep)
    assert set(segment.event_types) == {"receipt_created"}
    assert len(segment) == day_events.counts()["receipt_created"]
    assert (segment.positions[1:] > segment.positions[:-1]).all()


# ---------------------------------------------------------------- JSON Schemas
def test_committed_schemas_are_up_to_date() -> None:
    expected = schema_texts()
    present = {p.name for p in DOCS.glob("*.schema.json")}
    assert present == set(expected), "run scripts/gen_event_schemas.py"
    for name, text in expected.items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, (
            f"docs/events/{name} is stale; run scripts/gen_event_schemas.py"
        )


def test_sample_envelopes_validate_against_their_schemas(
    envelopes: list[dict[str, Any]],
) -> None:
    schemas = event_schemas()
    seen: set[str] = set()
    for envelope in envelopes[::7] + envelopes[-50:]:
        schema = schemas[envelope["event_type"]]
        assert validate(envelope, schema) == [], envelope
        seen.add(envelope["event_type"])
    assert len(seen) >= 10
    broken = dict(envelopes[0], schema_version="2.0", extra=1)
    assert len(validate(broken, schemas[broken["event_type"]])) == 2


def test_schemas_are_valid_for_a_real_validator_when_installed(
    envelopes: list[dict[str, Any]],
) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schemas = event_schemas()
    validators = {name: jsonschema_rs.validator_for(s) for name, s in schemas.items()}
    for envelope in envelopes[::5]:
        validators[envelope["event_type"]].validate(envelope)


def test_price_changes_are_streamed_at_midnight_before_the_days_sales(
    price_rows: pa.Table, day_events: DayEvents, envelopes: list[dict[str, Any]]
) -> None:
    prices = [e for e in envelopes if e["event_type"] == "price_changed"]
    assert prices and len(prices) == price_rows.num_rows == day_events.counts()["price_changed"]
    assert envelopes[: len(prices)] == prices  # midnight, and first among equal times
    schema = event_schemas()["price_changed"]
    for event in prices:
        assert validate(event, schema) == [], event
        payload = event["payload"]
        assert payload["event_ts"] == payload["valid_from"] == f"{DAY.isoformat()}T00:00:00.000000"
        assert payload["old_sale_price"] != payload["new_sale_price"]
        assert payload["reason"] in ("MARKDOWN", "CLEARANCE", "PRICE_INCREASE", "RESTORE")
        assert event["partition_key"] == "network"
    only = day_events.segment(0, len(day_events), day_events.keep_mask(["price_changed"]))
    assert set(only.event_types) == {"price_changed"} and len(only) == len(prices)
