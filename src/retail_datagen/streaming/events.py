"""Which fact rows become which events, and how a row becomes its JSON envelope (SPEC §7).

"Events are the facts": every event type is declared once in :data:`EVENT_SOURCES` as (event
type, fact table, row filter, time column, partition rule). The payload is the fact row itself
with the registry's snake_case keys, so payloads and JSON Schemas derive from
``retail_datagen.schema`` and never drift from the stored tables.

Envelopes are assembled column-wise with pyarrow compute (no per-row ``json.dumps``): each column
becomes a string array of JSON values, the columns are joined into payload objects, and each
envelope is kept as a *head* (everything up to the ``ingest_timestamp`` value) and a *tail*, so
the send time can be filled in per batch with one bytes concatenation per event.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.order_lifecycle import as_of
from retail_datagen.schema import Column, Kind, Table, get_payload
from retail_datagen.storage.atomic import atomic_write_text
from retail_datagen.streaming.event import Event

__all__ = [
    "EVENT_SOURCES",
    "EVENT_TYPES",
    "NETWORK_KEY",
    "SCHEMA_VERSION",
    "SOURCE",
    "DayEvents",
    "EncodedRows",
    "EventSegment",
    "EventSource",
    "Lookup",
    "check_event_types",
    "encode_rows",
    "event_schemas",
    "ingest_stamp",
    "lifecycle_tables",
    "write_event_schemas",
]

SCHEMA_VERSION = "1.0"
SOURCE = "retail-datagen"
NETWORK_KEY = "network"

EVENT_TYPES: tuple[str, ...] = (
    "receipt_created",
    "receipt_line_added",
    "payment_processed",
    "inventory_updated",
    "stockout_detected",
    "reorder_triggered",
    "customer_entered",
    "customer_zone_changed",
    "ble_ping_detected",
    "truck_arrived",
    "truck_departed",
    "store_opened",
    "store_closed",
    "ad_impression",
    "promotion_applied",
    "online_order_created",
    "online_order_picked",
    "online_order_shipped",
    "online_order_delivered",
    "price_changed",
)


@dataclass(frozen=True)
class Lookup:
    """A column fetched from another table of the same day by key (receipt line → its store)."""

    key: str
    table: str
    column: str


@dataclass(frozen=True)
class EventSource:
    """One row-to-event rule: rows of ``table`` (those with ``where`` = value) become
    ``event_type`` events due at ``time_column``; the partition key is the first non-null of
    ``partition`` ((prefix, column) pairs, e.g. ("store", "StoreID") → ``store-7``), else
    ``network``. Lifecycle sources read the day's order window (orders with a step on the day,
    see ``DayEvents.plan``) and emit the rows whose ``time_column`` falls on the day, as the
    order stood at that step (its status then, EventTS = the step's time); their trace id gets
    ``trace_suffix``.
    """

    event_type: str
    table: str
    time_column: str = "EventTS"
    where: tuple[str, str] | None = None
    partition: tuple[tuple[str, str], ...] = ()
    lookup: Lookup | None = None
    trace_suffix: str = ""
    lifecycle: bool = False

    @property
    def decl(self) -> Table:
        return get_payload(self.table)


_STORE = ("store", "StoreID")
PRICE_CHANGES = "price_changes"  # stream-only rows: the day's changes of dim_product_prices
_DC = ("dc", "DCID")

# The whole mapping. Truck moves with other statuses (SCHEDULED, LOADING, UNLOADING, COMPLETED,
# DELAYED) are persisted but not emitted; online-order events all use the ``network`` key so one
# order's created → payment → picked → shipped → delivered events stay in order.
EVENT_SOURCES: tuple[EventSource, ...] = (
    # first: a price change at midnight comes before any sale of that moment (24/7 stores)
    EventSource("price_changed", PRICE_CHANGES),
    EventSource("receipt_created", "fact_receipts", partition=(_STORE,)),
    EventSource(
        "receipt_line_added",
        "fact_receipt_lines",
        partition=(_STORE,),
        lookup=Lookup("ReceiptId", "fact_receipts", "StoreID"),
    ),
    EventSource("payment_processed", "fact_payments", partition=(_STORE,)),
    EventSource("inventory_updated", "fact_store_inventory_txn", partition=(_STORE,)),
    EventSource("inventory_updated", "fact_dc_inventory_txn", partition=(_DC,)),
    EventSource("stockout_detected", "fact_stockouts", partition=(_STORE, _DC)),
    EventSource("reorder_triggered", "fact_reorders", partition=(_STORE, _DC)),
    EventSource("customer_entered", "fact_foot_traffic", partition=(_STORE,)),
    EventSource("customer_zone_changed", "fact_customer_zone_changes", partition=(_STORE,)),
    EventSource("ble_ping_detected", "fact_ble_pings", partition=(_STORE,)),
    EventSource("truck_arrived", "fact_truck_moves", where=("Status", "ARRIVED"), partition=(_DC,)),
    EventSource(
        "truck_departed", "fact_truck_moves", where=("Status", "IN_TRANSIT"), partition=(_DC,)
    ),
    EventSource(
        "store_opened", "fact_store_ops", where=("Operation", "OPENED"), partition=(_STORE,)
    ),
    EventSource(
        "store_closed", "fact_store_ops", where=("Operation", "CLOSED"), partition=(_STORE,)
    ),
    EventSource("ad_impression", "fact_marketing"),
    EventSource("promotion_applied", "fact_promotions", partition=(_STORE,)),
    EventSource("online_order_created", "fact_online_orders", lifecycle=True),
    EventSource(
        "online_order_picked",
        "fact_online_orders",
        time_column="PickedTS",
        trace_suffix=":picked",
        lifecycle=True,
    ),
    EventSource(
        "online_order_shipped",
        "fact_online_orders",
        time_column="ShippedTS",
        trace_suffix=":shipped",
        lifecycle=True,
    ),
    EventSource(
        "online_order_delivered",
        "fact_online_orders",
        time_column="DeliveredTS",
        trace_suffix=":delivered",
        lifecycle=True,
    ),
)

_TYPE_CODE = {name: i for i, name in enumerate(EVENT_TYPES)}


def lifecycle_tables() -> tuple[str, ...]:
    """Tables whose persisted rows of recent days feed lifecycle events of later days."""
    return tuple(sorted({s.table for s in EVENT_SOURCES if s.lifecycle}))


def check_event_types(names: Iterable[str] | None) -> tuple[str, ...] | None:
    """Validated event-type filter (None = all); an unknown name lists the known ones."""
    if names is None:
        return None
    chosen = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in chosen if n not in _TYPE_CODE]
    if unknown:
        from retail_datagen.errors import UserError

        raise UserError(
            f"unknown event type(s) {', '.join(unknown)}; known types: {', '.join(EVENT_TYPES)}"
        )
    if not chosen:
        from retail_datagen.errors import UserError

        raise UserError("the event-type filter is empty; omit it to send every type")
    return chosen


def ingest_stamp(now: datetime | None = None) -> str:
    """UTC send time as ISO-8601 with milliseconds and ``Z``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- column → JSON values
def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


@functools.lru_cache(maxsize=1024)
def _lit(text: str) -> pa.Scalar:
    """A cached string scalar: converting Python strings on every compute call is slow."""
    return pa.scalar(text, pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of arrays and literal strings."""
    args = [_lit(p) if isinstance(p, str) else p for p in parts]
    return _flat(pc.binary_join_element_wise(*args, _lit("")))


_NEEDS_ESCAPE = r'[\\"\x00-\x1f]'  # backslash, quote or a control character


def _json_strings(values: pa.Array) -> pa.Array:
    """JSON string literals (quoted, escaped) of a string array; nulls stay null."""
    if pa.types.is_dictionary(values.type):  # escape the small vocabulary once, then index
        return _flat(_json_strings(values.dictionary).take(values.indices))
    if not pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        return _join('"', values, '"')  # the common case: ids and codes need no escaping
    if pc.all(pc.utf8_is_printable(values), skip_nulls=True).as_py() is False:
        # rare (control characters): exact escaping per value keeps the fast path simple
        return pa.array(
            [None if v is None else json.dumps(v, ensure_ascii=False) for v in values.to_pylist()],
            pa.string(),
        )
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return _join('"', escaped, '"')


def _json_values(values: pa.Array, kind: Kind) -> pa.Array:
    """One JSON value per row (string array without nulls: NULL becomes ``null``)."""
    values = _flat(values)
    family = _FAMILY[kind.value]
    if pa.types.is_dictionary(values.type) and family != "string":
        values = values.dictionary_decode()
    if family == "string":
        out = _json_strings(values)
    elif family == "number":
        out = pc.cast(values, pa.string())
        if pa.types.is_floating(values.type):
            out = pc.if_else(pc.is_finite(values), out, _NULL)
    elif family == "timestamp":
        # cast + replace is ~15x faster than strftime: "2024-03-03 08:00:00.000000" → ISO "T"
        iso = pc.replace_substring(pc.cast(values, pa.string()), " ", "T", max_replacements=1)
        out = _join('"', iso, '"')
    else:  # dates and exact decimals: their text, quoted
        out = _join('"', pc.cast(values, pa.string()), '"')
    return _flat(pc.fill_null(out, _lit("null")))


# how each logical type (by Kind value, so new kinds fail loudly here) is written in JSON
_FAMILY: dict[str, str] = {
    "int32": "number",
    "int64": "number",
    "float64": "number",
    "bool": "number",  # Arrow writes true/false
    "string": "string",
    "category": "string",
    "date": "quoted",
    "timestamp": "timestamp",
    "money": "quoted",
    "micro_money": "quoted",
    "rate": "quoted",
}


@dataclass(frozen=True)
class EncodedRows:
    """Envelopes of some rows of one source, split around the ingest timestamp value."""

    head: pa.Array  # {"event_type":…,"payload":{…},"trace_id":"…","ingest_timestamp":"
    tail: pa.Array  # ","schema_version":"1.0","source":"retail-datagen","partition_key":"…"}
    trace_id: pa.Array
    partition_key: pa.Array


def _partition_keys(
    source: EventSource, table: pa.Table, extra: Mapping[str, pa.Array]
) -> pa.Array:
    keys: list[pa.Array] = []
    for prefix, column in source.partition:
        values = _flat(extra[column] if column in extra else table.column(column))
        keys.append(_join(f"{prefix}-", pc.cast(values, pa.string())))
    if not keys:
        return pa.array([NETWORK_KEY] * table.num_rows, pa.string())
    return _flat(pc.coalesce(*keys, _lit(NETWORK_KEY)))


def encode_rows(
    source: EventSource, rows: pa.Table, partition_key: pa.Array | None = None
) -> EncodedRows:
    """Envelope parts for ``rows`` (a table of ``source.table``), vectorised.

    ``partition_key`` may be given when it needs other tables (see :class:`Lookup`).
    """
    decl = source.decl
    pieces: list[pa.Array | str] = ['{"event_type":"', source.event_type, '","payload":{']
    for i, col in enumerate(decl.columns):
        pieces.append(("," if i else "") + f'"{col.snake}":')
        pieces.append(_json_values(rows.column(col.name), col.kind))
    trace = _flat(rows.column("TraceId"))
    if source.trace_suffix:
        trace = _join(trace, source.trace_suffix)
    pieces += ['},"trace_id":', _json_strings(trace), ',"ingest_timestamp":"']
    head = _join(*pieces)
    pk = partition_key if partition_key is not None else _partition_keys(source, rows, {})
    tail = _join(
        f'","schema_version":"{SCHEMA_VERSION}","source":"{SOURCE}","partition_key":"', pk, '"}'
    )
    return EncodedRows(head, tail, trace, pk)


# ---------------------------------------------------------------- a day's events
_NULL = pa.scalar(None, pa.string())
_US = np.int64(1_000_000)
_DAY_US = np.int64(86_400) * _US
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _day_start_us(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * int(_DAY_US)


def _micros(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Microseconds since the epoch (NULL → 0; callers mask NULLs themselves)."""
    ints = pc.fill_null(pc.cast(values, pa.int64()), 0)
    return np.asarray(_flat(ints).to_numpy(zero_copy_only=False), dtype=np.int64)


def _as_datetimes(us: np.ndarray) -> list[datetime]:
    """Naive local datetimes (numpy's conversion is ~10x faster than Arrow's ``to_pylist``)."""
    out: list[datetime] = us.astype("datetime64[us]").astype(object).tolist()
    return out


@dataclass
class EventSegment:
    """Ready-to-send events for a contiguous range of a day's canonical positions.

    ``positions`` are the canonical positions of the events kept by the type filter; the
    envelope of event ``k`` is ``heads[k] + ingest timestamp + tails[k]``.
    """

    start: int
    stop: int
    positions: np.ndarray
    times_us: np.ndarray
    heads: list[bytes]
    tails: list[bytes]
    trace_ids: list[str]
    partition_keys: list[str]
    event_types: list[str]
    event_times: list[datetime]

    def __len__(self) -> int:
        return len(self.heads)

    def events(self, i: int, j: int, ingest: str) -> list[Event]:
        """Events ``i..j`` of the segment stamped with ``ingest`` (see :func:`ingest_stamp`)."""
        stamp = ingest.encode()
        heads, tails = self.heads, self.tails
        return [
            Event(
                self.event_types[k],
                self.trace_ids[k],
                self.partition_keys[k],
                heads[k] + stamp + tails[k],
                self.event_times[k],
            )
            for k in range(i, j)
        ]


@dataclass
class DayEvents:
    """Every event due on one simulated day, in canonical order: sorted by event time, ties in
    declaration order of :data:`EVENT_SOURCES` and then row order — deterministic, so a
    restarted streamer regenerates the same sequence and can skip a settled prefix."""

    day: date
    tables: dict[str, pa.Table]  # the day's fact tables (what gets persisted)
    orders: pa.Table  # recent online orders (lifecycle sources)
    source_idx: np.ndarray  # per canonical position: index into EVENT_SOURCES
    row_idx: np.ndarray  # per canonical position: row of the source's table
    time_us: np.ndarray  # per canonical position: local event time, µs since the epoch
    _pkeys: dict[int, pa.Array] = field(default_factory=dict, repr=False)
    streamed: dict[str, pa.Table] = field(default_factory=dict)  # event-only rows (not persisted)

    @classmethod
    def plan(
        cls,
        day: date,
        tables: Mapping[str, pa.Table],
        orders: pa.Table,
        streamed: Mapping[str, pa.Table] | None = None,
    ) -> DayEvents:
        """Order the day's events. ``orders`` holds every online order with a step on ``day``
        (the orders that became final on it and those in flight at its end, planned steps
        included); ``streamed`` holds event-only rows such as the day's ``price_changes``."""
        extra = dict(streamed or {})
        begin, end = _day_start_us(day), _day_start_us(day + timedelta(days=1))
        src_parts: list[np.ndarray] = []
        row_parts: list[np.ndarray] = []
        time_parts: list[np.ndarray] = []
        pkeys: dict[int, pa.Array] = {}
        for s, source in enumerate(EVENT_SOURCES):
            table = (
                orders if source.lifecycle else tables.get(source.table, extra.get(source.table))
            )
            if table is None or table.num_rows == 0:
                continue
            times = _micros(table.column(source.time_column))
            mask = np.ones(table.num_rows, dtype=bool)
            if source.lifecycle:
                valid = np.asarray(
                    pc.is_valid(table.column(source.time_column)).to_numpy(zero_copy_only=False)
                )
                mask &= valid & (times >= begin) & (times < end)
            if source.where is not None:
                column, value = source.where
                values = _flat(table.column(column))
                if pa.types.is_dictionary(values.type):
                    values = values.dictionary_decode()
                hit = pc.fill_null(pc.equal(values, _lit(value)), False)
                mask &= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
            rows = np.flatnonzero(mask)
            if rows.size == 0:
                continue
            src_parts.append(np.full(rows.size, s, dtype=np.int16))
            row_parts.append(rows.astype(np.int64))
            time_parts.append(times[rows])
            if source.lookup is not None:
                pkeys[s] = _lookup_partition(source, table, tables)
        if src_parts:
            src = np.concatenate(src_parts)
            rows_all = np.concatenate(row_parts)
            times_all = np.concatenate(time_parts)
            order = np.argsort(times_all, kind="stable")
            src, rows_all, times_all = src[order], rows_all[order], times_all[order]
        else:
            src = np.empty(0, np.int16)
            rows_all = np.empty(0, np.int64)
            times_all = np.empty(0, np.int64)
        return cls(day, dict(tables), orders, src, rows_all, times_all, pkeys, extra)

    def __len__(self) -> int:
        return int(self.source_idx.size)

    @property
    def type_codes(self) -> np.ndarray:
        """Index into :data:`EVENT_TYPES` per canonical position."""
        lut = np.array([_TYPE_CODE[s.event_type] for s in EVENT_SOURCES], dtype=np.int16)
        codes: np.ndarray = lut[self.source_idx]
        return codes

    def counts(self) -> dict[str, int]:
        codes = np.bincount(self.type_codes, minlength=len(EVENT_TYPES))
        return {name: int(codes[i]) for i, name in enumerate(EVENT_TYPES) if codes[i]}

    def keep_mask(self, event_types: Sequence[str] | None) -> np.ndarray:
        if event_types is None:
            return np.ones(len(self), dtype=bool)
        wanted = np.zeros(len(EVENT_TYPES), dtype=bool)
        wanted[[_TYPE_CODE[t] for t in event_types]] = True
        keep: np.ndarray = wanted[self.type_codes]
        return keep

    def _table(self, s: int) -> pa.Table:
        source = EVENT_SOURCES[s]
        if source.lifecycle:
            return self.orders
        table = self.tables.get(source.table)
        return self.streamed[source.table] if table is None else table

    def segment(self, start: int, stop: int, keep: np.ndarray | None = None) -> EventSegment:
        """Build the envelopes of canonical positions ``start..stop`` (those ``keep`` allows)."""
        positions = np.arange(start, stop, dtype=np.int64)
        if keep is not None:
            positions = positions[keep[start:stop]]
        src = self.source_idx[positions]
        rows = self.row_idx[positions]
        grouped = np.argsort(src, kind="stable")
        heads: list[pa.Array] = []
        tails: list[pa.Array] = []
        traces: list[pa.Array] = []
        pks: list[pa.Array] = []
        types: list[pa.Array] = []
        sorted_src = src[grouped]
        bounds = np.flatnonzero(np.diff(sorted_src)) + 1
        for chunk in np.split(grouped, bounds) if grouped.size else []:
            s = int(src[chunk[0]])
            source = EVENT_SOURCES[s]
            take = pa.array(rows[chunk])
            pk = self._pkeys[s].take(take) if s in self._pkeys else None
            chosen = self._table(s).take(take)
            if source.lifecycle:
                chosen = _at_step(chosen, source.time_column)
            enc = encode_rows(source, chosen, pk)
            heads.append(enc.head)
            tails.append(enc.tail)
            traces.append(enc.trace_id)
            pks.append(enc.partition_key)
            types.append(pa.array([source.event_type] * len(chunk), pa.string()))
        inverse = np.empty_like(grouped)
        inverse[grouped] = np.arange(grouped.size)
        back = pa.array(inverse)

        def ordered(parts: list[pa.Array], kind: pa.DataType) -> list[Any]:
            if not parts:
                return []
            joined = pa.concat_arrays([p.cast(kind) for p in parts])
            return joined.take(back).to_pylist()  # type: ignore[no-any-return]

        times = self.time_us[positions]
        return EventSegment(
            start=start,
            stop=stop,
            positions=positions,
            times_us=times,
            heads=ordered(heads, pa.binary()),
            tails=ordered(tails, pa.binary()),
            trace_ids=ordered(traces, pa.string()),
            partition_keys=ordered(pks, pa.string()),
            event_types=ordered(types, pa.string()),
            event_times=_as_datetimes(times),
        )


def _at_step(orders: pa.Table, time_column: str) -> pa.Table:
    """Orders as they stood at ``time_column`` (a lifecycle step): status then, later steps
    unrecorded, EventTS = the step's time."""
    step = orders.column(time_column)
    rows = as_of(orders, _micros(step))
    return rows.set_column(rows.schema.get_field_index("EventTS"), "EventTS", step)


def _lookup_partition(
    source: EventSource, table: pa.Table, tables: Mapping[str, pa.Table]
) -> pa.Array:
    """Partition keys of ``table`` via the lookup table (NULL → network)."""
    assert source.lookup is not None
    lk = source.lookup
    other = tables.get(lk.table)
    if other is None or other.num_rows == 0:
        return pa.array([NETWORK_KEY] * table.num_rows, pa.string())
    index = pc.index_in(table.column(lk.key), value_set=other.column(lk.key).combine_chunks())
    fetched = other.column(lk.column).combine_chunks().take(index)
    return _partition_keys(source, table, {lk.column: fetched})


# ---------------------------------------------------------------- JSON Schemas
_TS_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"
_PATTERNS = {
    "timestamp": _TS_PATTERN,
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "money": r"^-?\d+\.\d{2}$",
    "micro_money": r"^-?\d+\.\d{6}$",
    "rate": r"^-?\d+\.\d{5}$",
}
_JSON_TYPES = {
    "int32": "integer",
    "int64": "integer",
    "float64": "number",
    "bool": "boolean",
    "string": "string",
    "category": "string",
    "date": "string",
    "timestamp": "string",
    "money": "string",
    "micro_money": "string",
    "rate": "string",
}
_NOTES = {
    "timestamp": "ISO-8601 local time without zone",
    "money": "exact decimal with 2 places, as a string",
    "micro_money": "exact decimal with 6 places, as a string",
    "rate": "exact decimal with 5 places, as a string",
}


def _column_schema(col: Column) -> dict[str, Any]:
    kind = col.kind.value
    kind_type = _JSON_TYPES[kind]
    out: dict[str, Any] = {"type": [kind_type, "null"] if col.nullable else kind_type}
    if kind in _PATTERNS:
        out["pattern"] = _PATTERNS[kind]
    doc = "; ".join(d for d in (col.doc, _NOTES.get(kind, "")) if d)
    if doc:
        out["description"] = doc
    return out


def _payload_schema(table: Table) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"a row of {table.name}: {table.doc}",
        "properties": {c.snake: _column_schema(c) for c in table.columns},
        "required": [c.snake for c in table.columns],
        "additionalProperties": False,
    }


def _describe(source: EventSource) -> str:
    text = f"{source.table}"
    if source.where:
        text += f" rows with {source.where[0]} = {source.where[1]}"
    text += f" rows, at {source.time_column}"
    if source.lifecycle:
        if source.time_column != "EventTS":
            text += " (when not null)"
        text += ", as the order stood then (EventTS = that time)"
    return text


def event_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema (draft 2020-12) of every event type's envelope, derived from the registry."""
    out: dict[str, dict[str, Any]] = {}
    for event_type in EVENT_TYPES:
        sources = [s for s in EVENT_SOURCES if s.event_type == event_type]
        payloads = [_payload_schema(s.decl) for s in sources]
        payload = payloads[0] if len(payloads) == 1 else {"oneOf": payloads}
        suffix = sources[0].trace_suffix
        trace_doc = "the fact row's TraceId" + (f" + {suffix!r}" if suffix else "")
        out[event_type] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://retail-datagen.local/events/{event_type}.schema.json",
            "title": event_type,
            "description": "from " + "; ".join(_describe(s) for s in sources),
            "type": "object",
            "properties": {
                "event_type": {"const": event_type},
                "payload": payload,
                "trace_id": {
                    "type": "string",
                    "description": trace_doc,
                    **({"pattern": f"{suffix}$"} if suffix else {}),
                },
                "ingest_timestamp": {
                    "type": "string",
                    "description": "UTC send time",
                    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$",
                },
                "schema_version": {"const": SCHEMA_VERSION},
                "source": {"const": SOURCE},
                "partition_key": {
                    "type": "string",
                    "description": "store-<id>, dc-<id> or network: one key's events stay ordered",
                    "pattern": r"^(store-\d+|dc-\d+|network)$",
                },
            },
            "required": [
                "event_type",
                "payload",
                "trace_id",
                "ingest_timestamp",
                "schema_version",
                "source",
                "partition_key",
            ],
            "additionalProperties": False,
        }
    return out


def schema_texts() -> dict[str, str]:
    """File name → text of every event schema (what ``docs/events/`` must contain)."""
    return {
        f"{name}.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in event_schemas().items()
    }


def write_event_schemas(folder: Path) -> list[Path]:
    """Write ``<folder>/<event_type>.schema.json`` for every event type (atomically)."""
    written = []
    for name, text in schema_texts().items():
        path = Path(folder) / name
        atomic_write_text(path, text)
        written.append(path)
    return written
