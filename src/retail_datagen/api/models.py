"""Request and response models of the JSON API (every route declares one).

Request models reject unknown fields and impossible values, so a bad request is a 422 whose
one-line ``detail`` names the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NaiveDatetime,
    Strict,
    WithJsonSchema,
    model_validator,
)

from retail_datagen.schema.tables import TABLES
from retail_datagen.streaming.credentials import ConnectionInfo
from retail_datagen.streaming.dead_letters import DeadLetter, ReplayResult
from retail_datagen.streaming.event import EventEnvelope
from retail_datagen.streaming.report import StreamerStatistics

__all__ = [
    "LOCAL_DATE_PATTERN",
    "LOCAL_TIME_PATTERN",
    "ClearRequest",
    "ClearResponse",
    "ColumnInfo",
    "ConfigResponse",
    "ConfigValidation",
    "ConnectionTestRequest",
    "ConnectionTestResult",
    "ConnectionValidateRequest",
    "ConnectionValidation",
    "DailySales",
    "Dashboard",
    "DateRange",
    "DeadLetterList",
    "DisruptionCreate",
    "DisruptionInfo",
    "DisruptionList",
    "DisruptionsClearRequest",
    "ErrorResponse",
    "EventTypes",
    "ExportRequest",
    "FieldError",
    "GenerateDimensionsRequest",
    "GenerateFactsRequest",
    "GenerationEstimate",
    "Health",
    "HourTraffic",
    "Info",
    "ProgressInfo",
    "RecentEvents",
    "RemovedResponse",
    "ReplayRequest",
    "ReplayResponse",
    "RowCounts",
    "SimulatedClock",
    "StateResponse",
    "StreamParams",
    "StreamStartRequest",
    "StreamStatistics",
    "StreamStatus",
    "TableCount",
    "TableInfoModel",
    "TableList",
    "TablePreview",
    "TaskInfo",
    "TaskList",
    "ValidationCheck",
    "ValidationReportModel",
    "Version",
]

CLEAR_CONFIRMATION = "DELETE ALL DATA"
DISRUPTIONS_CLEAR_CONFIRMATION = "DELETE ALL DISRUPTIONS"

# Simulated times (EventTS, date ranges, disruptions) are the stores' local wall-clock time and
# carry no zone, so they are not RFC 3339 ``date-time``s: the schema gives them this pattern
# (a real calendar date, years 1-9999, optional time to microseconds) and requests are held to
# it. Wall-clock times (tasks, the streamer) are ``date-time``s in UTC with an offset.
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP = r"(?:0[48]|[2468][048]|[13579][26])"  # two digits divisible by 4 (not 00)
_LEAP_DAY = rf"(?:[0-9]{{2}}{_LEAP}|{_LEAP}00)-02-29"
_TIME = r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)?"
LOCAL_DATE_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})$"
LOCAL_TIME_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY}){_TIME}$"
_LOCAL_TIME = re.compile(LOCAL_TIME_PATTERN)


def _local_time_text(value: object) -> object:
    """Only the pattern's text (or a naive datetime from Python) becomes a local time."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value
    if isinstance(value, str) and _LOCAL_TIME.match(value):
        return value
    raise ValueError(
        "use the simulated local time without a zone, e.g. 2024-01-15T08:00 (YYYY-MM-DD, "
        "optionally [T ]HH:MM[:SS[.ffffff]])"
    )


LocalDateTime = Annotated[
    NaiveDatetime,
    BeforeValidator(_local_time_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_PATTERN,
            "description": "simulated local store time, ISO-8601 without a zone",
            "examples": ["2024-01-15T08:00:00"],
        }
    ),
]
FileFormat = Literal["parquet", "csv"]
FactFormat = Literal["parquet", "csv", "delta"]  # generate also writes Delta tables
JSONScalar = str | int | float | bool | None
# request fields take JSON types as they are (no "0" for false, no 1.0 for an integer)
SBool = Annotated[bool, Strict()]
SInt = Annotated[int, Strict()]
SStr = Annotated[str, Strict()]


TableName = Annotated[
    SStr, WithJsonSchema({"type": "string", "enum": list(TABLES)}, mode="validation")
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- system
class ErrorResponse(BaseModel):
    detail: str = Field(description="one line saying what is wrong and how to fix it")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Version(BaseModel):
    version: str
    api: str = "1"


class Info(BaseModel):
    """What the web UI needs to know about this server."""

    version: str
    data_dir: str
    config_file: str
    auth_required: bool
    streaming_available: bool = Field(
        True, description="always true: streaming is part of every build (kept for clients)"
    )
    streaming_message: str = ""


# ---------------------------------------------------------------- config
class FieldError(BaseModel):
    key: str = Field(description="dotted configuration key, e.g. volume.stores")
    message: str


class ConfigResponse(BaseModel):
    config: dict[str, Any] = Field(description="the effective configuration, secrets masked")
    data_dir: str
    config_file: str


class ConfigValidation(BaseModel):
    valid: bool
    errors: list[FieldError] = []


# ---------------------------------------------------------------- generation and tasks
class GenerateDimensionsRequest(_Request):
    force: SBool = Field(
        False, description="regenerate although facts exist (removes all fact data first)"
    )


class GenerateFactsRequest(_Request):
    """Like ``retail-datagen generate``: at most two of start/end/days; none = until now."""

    model_config = ConfigDict(
        extra="forbid",
        # the cross-field rules of _consistent, stated in the schema
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"until_now": {"const": True}}, "required": ["until_now"]},
                    "then": {"properties": {"end": {"type": "null"}}},
                },
                {
                    "if": {"properties": {"csv_daily": {"const": True}}, "required": ["csv_daily"]},
                    "then": {"properties": {"format": {"not": {"enum": ["parquet", "delta"]}}}},
                },
            ]
        },
    )

    start: date | None = Field(None, description="first day (default: continue the history)")
    end: date | None = Field(None, description="last day, inclusive (default: yesterday)")
    days: SInt | None = Field(None, ge=1, le=36_600, description="number of days")
    until_now: SBool = Field(False, description="generate up to yesterday (no end)")
    workers: SInt | None = Field(None, ge=1, le=256, description="worker processes")
    format: FactFormat | None = Field(
        None, description="fact file format (delta: Parquet plus a Delta log per table)"
    )
    csv_daily: SBool = Field(False, description="with csv: Hive-style daily partitions")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.until_now and self.end is not None:
            raise ValueError("until_now and end exclude each other")
        if self.csv_daily and self.format in ("parquet", "delta"):
            raise ValueError("csv_daily only applies to format csv")
        return self


class ProgressInfo(BaseModel):
    percent: float
    tables_complete: int
    tables_total: int
    table_counter: str = Field(description='"X/N tables complete"')
    tables_in_progress: list[str]
    estimated_seconds_remaining: float | None
    progress_rate: float = Field(description="percent per second, smoothed")
    last_update_timestamp: str
    message: str = ""
    rows_written: int = 0
    days_complete: int | None = Field(None, description="fact runs: whole days written")
    days_total: int | None = None
    rows_per_second: float | None = Field(None, description="none while warming up")
    counter: str = Field(
        "", description='what advances: "X/N days complete" for facts, else the table counter'
    )


class GenerationEstimate(BaseModel):
    """What a fact run would write and roughly how long it takes (within about 2×)."""

    start: date | None = Field(description="first day; none when the facts are up to date")
    end: date | None = Field(description="last day, inclusive")
    days: int
    rows: int = Field(description="fact rows")
    bytes: int = Field(description="fact files on disk")
    seconds: float = Field(description="wall time on a machine like the project's (2 cores)")
    workers: int
    output_format: FactFormat
    needs_confirmation: bool = Field(description="above 20 GB or 30 minutes")
    summary: str = Field(description="the estimate on one line, as the CLI prints it")


class TaskInfo(BaseModel):
    id: str
    kind: str
    status: Literal["pending", "running", "succeeded", "failed", "cancelled"]
    params: dict[str, Any]
    created_at: AwareDatetime
    started_at: AwareDatetime | None
    finished_at: AwareDatetime | None
    progress: ProgressInfo | None
    result: dict[str, Any] | None
    error: str | None


class TaskList(BaseModel):
    tasks: list[TaskInfo]


class StateResponse(BaseModel):
    data_dir: str
    has_store: bool
    has_dimensions: bool
    state: dict[str, Any]


class SimulatedClock(BaseModel):
    simulated_now: LocalDateTime = Field(
        description="the first moment not generated or streamed yet (simulated local time)"
    )


# ---------------------------------------------------------------- tables and dashboard
class TableInfoModel(BaseModel):
    name: str
    kind: Literal["dimension", "fact"]
    rows: int | None = Field(description="None when the table does not exist yet")
    doc: str


class TableList(BaseModel):
    tables: list[TableInfoModel]


class RowCounts(BaseModel):
    counts: dict[str, int | None]
    total_rows: int


class ColumnInfo(BaseModel):
    name: str
    type: str
    doc: str = ""


class TablePreview(BaseModel):
    table: str
    columns: list[ColumnInfo]
    rows: list[list[JSONScalar]] = Field(description="money as exact decimal strings")
    limit: int
    offset: int


class DateRange(BaseModel):
    table: str
    start: LocalDateTime | None = Field(description="first EventTS (simulated local time)")
    end: LocalDateTime | None = Field(description="last EventTS (simulated local time)")


class TableCount(BaseModel):
    name: str
    kind: Literal["dimension", "fact"]
    rows: int | None


class DailySales(BaseModel):
    date: date
    sales: float = Field(description="sum of Total of SALE receipts")
    receipts: int


class HourTraffic(BaseModel):
    hour: int = Field(ge=0, le=23)
    visitors: int


class Dashboard(BaseModel):
    counts: list[TableCount]
    daily_sales: list[DailySales]
    traffic_by_hour: list[HourTraffic]
    recent_events: list[EventEnvelope]
    streaming: bool


# ---------------------------------------------------------------- export, validate, clear
class ExportRequest(_Request):
    model_config = ConfigDict(
        extra="forbid",
        # the cross-field rule of _daily_needs_csv, stated in the schema
        json_schema_extra={
            "if": {"properties": {"csv_daily": {"const": True}}, "required": ["csv_daily"]},
            "then": {"properties": {"format": {"const": "csv"}}},
        },
    )

    format: FileFormat
    tables: list[TableName] | None = Field(None, max_length=100, description="default: all tables")
    csv_daily: SBool = False
    out_dir: SStr | None = Field(
        None, max_length=1024, description="inside the data folder only; default <data>/export"
    )

    @model_validator(mode="after")
    def _daily_needs_csv(self) -> Self:
        if self.csv_daily and self.format != "csv":
            raise ValueError("csv_daily only applies to format csv")
        return self


class ValidationCheck(BaseModel):
    name: str
    kind: Literal["hard", "range"]
    passed: bool
    violations: int | None
    measured: float | None
    accepted: list[float | None] | None
    detail: str


class ValidationReportModel(BaseModel):
    passed: bool
    checks: int
    failures: int
    seconds: float
    results: list[ValidationCheck]


class ClearRequest(_Request):
    confirm: Literal["DELETE ALL DATA"] = Field(description="the explicit confirmation")
    cancel_running: SBool = Field(
        False, description="cancel running tasks and stop the streamer first (else 409)"
    )


class ClearResponse(BaseModel):
    data_dir: str
    removed: list[str]
    cancelled_tasks: list[str]
    stream_stopped: bool


# ---------------------------------------------------------------- streaming
class StreamStartRequest(_Request):
    sink: SStr = Field(
        "stdout",
        max_length=4096,
        description="stdout, file:///path.jsonl (inside the data folder or an allowed "
        "directory), kafka://host:port/topic, eventhub (the configured connection string)",
    )
    event_types: list[SStr] | None = Field(None, max_length=64, description="default: all")
    speed: float | None = Field(None, gt=0, le=100_000, description="real-time speed factor")
    rate: float | None = Field(None, gt=0, le=1_000_000, description="target events/second")
    burst: SInt | None = Field(None, ge=1, le=1_000_000, description="events per interval")
    interval_ms: SInt | None = Field(None, ge=1, le=3_600_000)
    duration: float | None = Field(None, gt=0, le=31_536_000, description="seconds")
    from_now: bool = Field(
        False,
        description="start at the present in real time (speed 1 unless given) instead of "
        "after the history; such a stream is not persisted as history",
    )


class StreamParams(BaseModel):
    """What the current (or last) stream was started with; the sink redacted."""

    sink: str
    event_types: list[str] | None = None
    speed: float | None = None
    rate: float | None = None
    burst: int | None = None
    interval_ms: int | None = None
    duration: float | None = None
    from_now: bool = False


class StreamStatus(BaseModel):
    available: bool = Field(
        True, description="always true: streaming is part of every build (kept for clients)"
    )
    running: bool
    sink: str | None = None
    started_at: AwareDatetime | None = None
    stopped_at: AwareDatetime | None = None
    params: StreamParams | None = Field(None, description="none before the first stream")
    error: str | None = None
    message: str = ""


class StreamStatistics(BaseModel):
    running: bool
    statistics: StreamerStatistics | None = Field(description="none before the first stream")


class RecentEvents(BaseModel):
    running: bool
    events: list[EventEnvelope] = Field(description="newest last")


class EventTypes(BaseModel):
    event_types: list[str]


class ConnectionValidateRequest(_Request):
    connection_string: SStr | None = Field(
        None, max_length=8192, description="default: the configured one (env, Key Vault, file)"
    )


class ConnectionValidation(BaseModel):
    valid: bool
    source: Literal["request", "configured", "none"]
    info: ConnectionInfo | None = Field(None, description="metadata; never the key")
    error: str | None = None


class ConnectionTestRequest(_Request):
    sink: SStr = Field(max_length=4096, description="sink URL as for streaming")


class ConnectionTestResult(BaseModel):
    """``ok`` only when the destination answered: a Kafka broker its metadata request, an
    Event Hub its properties, a file sink's folder is writable."""

    ok: bool
    sink: str
    seconds: float
    error: str | None = None
    detail: dict[str, Any] | None = Field(
        None, description="what the destination said (brokers/partitions, hub partitions, path)"
    )


class DeadLetterList(BaseModel):
    count: int
    items: list[DeadLetter]


class ReplayRequest(_Request):
    sink: SStr = Field(max_length=4096)
    ids: list[SInt] | None = Field(None, max_length=10_000, description="default: all")


class ReplayResponse(BaseModel):
    result: ReplayResult


class DisruptionCreate(_Request):
    """A supply-chain disruption; the disruption service checks kind/target combinations."""

    kind: Literal[
        "dc_outage", "inventory_shortage", "truck_breakdown", "weather_delay", "supplier_delay"
    ]
    target_type: Literal["dc", "store", "product", "truck", "network"]
    target_id: SInt | None = Field(None, ge=1, le=2**31, description="none for network")
    start: LocalDateTime
    end: LocalDateTime
    severity: float = Field(0.5, ge=0.0, le=1.0)
    note: SStr = Field("", max_length=500)


class DisruptionsClearRequest(_Request):
    """Like clearing data: removing every disruption needs the explicit confirmation."""

    confirm: Literal["DELETE ALL DISRUPTIONS"] = Field(description="the explicit confirmation")


class DisruptionInfo(BaseModel):
    id: str
    kind: str
    target_type: str
    target_id: int | None
    start: LocalDateTime
    end: LocalDateTime
    severity: float
    note: str = ""


class DisruptionList(BaseModel):
    disruptions: list[DisruptionInfo]


class RemovedResponse(BaseModel):
    removed: int
