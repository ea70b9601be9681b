"""Request and response models of the JSON API (every route declares one).

Request models reject unknown fields and impossible values, so a bad request is a 422 whose
one-line ``detail`` names the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, Strict, model_validator

__all__ = [
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
    "ErrorResponse",
    "EventTypes",
    "ExportRequest",
    "FieldError",
    "GenerateDimensionsRequest",
    "GenerateFactsRequest",
    "Health",
    "HourTraffic",
    "Info",
    "ProgressInfo",
    "RecentEvents",
    "RemovedResponse",
    "ReplayRequest",
    "ReplayResult",
    "RowCounts",
    "StateResponse",
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
FileFormat = Literal["parquet", "csv"]
JSONScalar = str | int | float | bool | None
# request fields take JSON types as they are (no "0" for false, no 1.0 for an integer)
SBool = Annotated[bool, Strict()]
SInt = Annotated[int, Strict()]
SStr = Annotated[str, Strict()]


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
    streaming_available: bool
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

    start: date | None = Field(None, description="first day (default: continue the history)")
    end: date | None = Field(None, description="last day, inclusive (default: yesterday)")
    days: SInt | None = Field(None, ge=1, le=36_600, description="number of days")
    until_now: SBool = Field(False, description="generate up to yesterday (no end)")
    workers: SInt | None = Field(None, ge=1, le=256, description="worker processes")
    format: FileFormat | None = Field(None, description="fact file format")
    csv_daily: SBool = Field(False, description="with csv: Hive-style daily partitions")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.until_now and self.end is not None:
            raise ValueError("until_now and end exclude each other")
        if self.csv_daily and self.format == "parquet":
            raise ValueError("csv_daily only applies to format csv")
        return self


class ProgressInfo(BaseModel):
    percent: float
    tables_complete: int
    tables_total: int
    table_counter: str = Field(description='"X/N tables complete"')
    tables_in_progress: list[str]
    estimated_seconds_remaining: float | None
    progress_rate: float = Field(description="percent per second, rolling")
    last_update_timestamp: str
    message: str = ""
    rows_written: int = 0


class TaskInfo(BaseModel):
    id: str
    kind: str
    status: Literal["pending", "running", "succeeded", "failed", "cancelled"]
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
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
    start: datetime | None
    end: datetime | None


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
    recent_events: list[dict[str, Any]]
    streaming: bool


# ---------------------------------------------------------------- export, validate, clear
class ExportRequest(_Request):
    format: FileFormat
    tables: list[SStr] | None = Field(None, max_length=100, description="default: all tables")
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


class StreamStatus(BaseModel):
    available: bool
    running: bool
    sink: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    params: dict[str, Any] = {}
    error: str | None = None
    message: str = ""


class StreamStatistics(BaseModel):
    running: bool
    statistics: dict[str, Any]


class RecentEvents(BaseModel):
    running: bool
    events: list[dict[str, Any]]


class EventTypes(BaseModel):
    event_types: list[str]


class ConnectionValidateRequest(_Request):
    connection_string: SStr | None = Field(
        None, max_length=8192, description="default: the configured one (env, Key Vault, file)"
    )


class ConnectionValidation(BaseModel):
    valid: bool
    source: Literal["request", "configured", "none"]
    info: dict[str, Any] | None = Field(None, description="metadata; never the key")
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
    items: list[dict[str, Any]]


class ReplayRequest(_Request):
    sink: SStr = Field(max_length=4096)
    ids: list[SInt] | None = Field(None, max_length=10_000, description="default: all")


class ReplayResult(BaseModel):
    result: dict[str, Any]


class DisruptionCreate(_Request):
    """A supply-chain disruption; the disruption service checks kind/target combinations."""

    kind: Literal[
        "dc_outage", "inventory_shortage", "truck_breakdown", "weather_delay", "supplier_delay"
    ]
    target_type: Literal["dc", "store", "product", "truck", "network"]
    target_id: SInt | None = Field(None, ge=1, le=2**31, description="none for network")
    start: NaiveDatetime = Field(description="local simulated time, no time zone")
    end: NaiveDatetime
    severity: float = Field(0.5, ge=0.0, le=1.0)
    note: SStr = Field("", max_length=500)


class DisruptionInfo(BaseModel):
    id: str
    kind: str
    target_type: str
    target_id: int | None
    start: datetime
    end: datetime
    severity: float
    note: str = ""


class DisruptionList(BaseModel):
    disruptions: list[DisruptionInfo]


class RemovedResponse(BaseModel):
    removed: int
