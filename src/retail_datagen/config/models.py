"""RetailConfig: every configuration key, its default and its rule, in one place (SPEC §3).

Validation is strict: unknown keys, wrong JSON types and impossible values are rejected with one
line that names the key, the value and the rule, so a user can fix a file without reading code.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from retail_datagen.errors import ConfigError

__all__ = [
    "CostBand",
    "HistoricalConfig",
    "MarketingCostConfig",
    "PathsConfig",
    "RealtimeConfig",
    "RetailConfig",
    "SimulationConfig",
    "StreamConfig",
    "VolumeConfig",
    "format_validation_error",
]

MAX_PRODUCTS = 10_000
MAX_GEOGRAPHIES = 1_000


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors and JSON types must match exactly."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class VolumeConfig(_Strict):
    """How big the simulated chain is and how busy it gets."""

    stores: int = Field(42, ge=1, le=5_000, description="number of stores")
    dcs: int = Field(5, ge=1, le=200, description="number of distribution centres")
    total_geographies: int = Field(
        100, ge=1, le=MAX_GEOGRAPHIES, description="geographies sampled from the dictionary"
    )
    total_customers: int = Field(250_000, ge=1, le=50_000_000, description="customers")
    total_products: int = Field(
        10_000, ge=1, le=MAX_PRODUCTS, description="product SKUs (at most 10000)"
    )
    customers_per_day: int = Field(
        2_000, ge=1, le=1_000_000, description="mean sales per store per day before multipliers"
    )
    items_per_ticket_mean: float = Field(
        8.2, gt=0, le=100, description="mean items per in-store basket"
    )
    online_orders_per_day: int = Field(2_500, ge=0, le=10_000_000, description="network-wide")
    marketing_impressions_per_day: int = Field(
        10_000, ge=0, le=100_000_000, description="network-wide"
    )
    refrigerated_trucks: int | None = Field(
        None, ge=0, le=100_000, description="DC reefers; null: sized from the network"
    )
    non_refrigerated_trucks: int | None = Field(
        None, ge=0, le=100_000, description="DC dry trucks; null: sized from the network"
    )
    supplier_refrigerated_trucks: int | None = Field(
        None, ge=0, le=100_000, description="supplier reefers; null: sized from the DCs' inbound"
    )
    supplier_non_refrigerated_trucks: int | None = Field(
        None, ge=0, le=100_000, description="supplier dry trucks; null: sized from the DCs' inbound"
    )
    truck_capacity: int = Field(15_000, ge=1, le=10_000_000, description="units per truck")
    dc_initial_inventory_min: int = Field(500, ge=0)
    dc_initial_inventory_max: int = Field(5_000, ge=0)
    store_initial_inventory_min: int = Field(20, ge=0)
    store_initial_inventory_max: int = Field(200, ge=0)

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Self:
        for low, high in (
            ("dc_initial_inventory_min", "dc_initial_inventory_max"),
            ("store_initial_inventory_min", "store_initial_inventory_max"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo > hi:
                raise ValueError(
                    f"volume.{low} = {lo} is greater than volume.{high} = {hi}; "
                    f"the minimum must not exceed the maximum"
                )
        if self.refrigerated_trucks == 0 and self.non_refrigerated_trucks == 0:
            raise ValueError(
                "volume.refrigerated_trucks + volume.non_refrigerated_trucks = 0; "
                "the DC fleet needs at least one truck"
            )
        if self.supplier_refrigerated_trucks == 0 and self.supplier_non_refrigerated_trucks == 0:
            raise ValueError(
                "volume.supplier_refrigerated_trucks + volume.supplier_non_refrigerated_trucks = 0;"
                " the supplier fleet needs at least one truck"
            )
        return self


class HistoricalConfig(_Strict):
    """Where the first historical run starts."""

    start_date: date = Field(date(2024, 1, 1), description="first run starts here (ISO date)")

    @field_validator("start_date")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(f"must not be in the future (today is {date.today().isoformat()})")
        return value


class SimulationConfig(_Strict):
    """Behaviour switches of the simulation that are not volumes."""

    open_24h_stores_on_christmas: bool = Field(
        False, description="keep 24/7 stores open on December 25 (all others always close)"
    )


class RealtimeConfig(_Strict):
    """Streaming pacing, batching and resilience."""

    emit_interval_ms: int = Field(500, ge=1, le=3_600_000)
    burst: int = Field(100, ge=1, le=10_000_000)
    azure_connection_string: SecretStr = Field(
        SecretStr(""), description="prefer AZURE_EVENTHUB_CONNECTION_STRING in the environment"
    )
    max_batch_size: int = Field(256, ge=1, le=100_000)
    batch_timeout_ms: int = Field(1_000, ge=1, le=3_600_000)
    retry_attempts: int = Field(3, ge=0, le=100)
    backoff_multiplier: float = Field(2.0, ge=1.0, le=60.0)
    circuit_breaker_enabled: bool = True
    circuit_breaker_threshold: int = Field(5, ge=1, le=10_000)
    circuit_breaker_recovery_seconds: float = Field(2.0, gt=0, le=86_400)
    max_buffer_size: int = Field(10_000, ge=1, le=100_000_000)
    enable_dead_letter_queue: bool = True
    monitoring_interval: int = Field(30, ge=1, le=86_400)
    use_keyvault: bool = False
    keyvault_url: str = ""
    keyvault_secret_name: str = "eventhub-connection-string"

    @model_validator(mode="after")
    def _keyvault_needs_url(self) -> Self:
        if self.use_keyvault and not self.keyvault_url:
            raise ValueError(
                "realtime.use_keyvault is true but realtime.keyvault_url is empty; "
                "set the vault URL (https://<name>.vault.azure.net/) or turn Key Vault off"
            )
        return self


class PathsConfig(_Strict):
    """Where inputs and outputs live; ``data`` is the root of the embedded store."""

    data: str = Field("data", min_length=1, description="data folder: retail.duckdb, export/")
    dictionaries: str = Field(
        "data/dictionaries",
        min_length=1,
        description="dictionary CSV folder; the shipped dictionaries are used when it is absent",
    )
    master: str = Field("data/master", min_length=1, description="legacy CSV dimension folder")
    facts: str = Field("data/facts", min_length=1, description="legacy CSV fact folder")


class StreamConfig(_Strict):
    """Event destination naming."""

    hub: str = Field("retail-events", min_length=1, description="Event Hub / topic name")


class CostBand(_Strict):
    """A uniform CPM band: USD per thousand impressions (one impression costs CPM / 1000)."""

    cpm_min: float = Field(ge=0, le=1_000, description="lowest USD per 1,000 impressions")
    cpm_max: float = Field(ge=0, le=1_000, description="highest USD per 1,000 impressions")

    @model_validator(mode="before")
    @classmethod
    def _no_per_impression_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"min", "max"} & set(data)):
            raise ValueError(
                "min/max (dollars per impression) were replaced by cpm_min/cpm_max "
                "(dollars per 1,000 impressions; see config.example.json)"
            )
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.cpm_min > self.cpm_max:
            raise ValueError(f"cpm_min = {self.cpm_min} is greater than cpm_max = {self.cpm_max}")
        return self


def _band(low: float, high: float) -> CostBand:
    return CostBand(cpm_min=low, cpm_max=high)


class MarketingCostConfig(_Strict):
    """CPM band by channel, and the multiplier by device (SPEC §6.8)."""

    EMAIL: CostBand = _band(0.1, 2.0)  # per thousand sends
    DISPLAY: CostBand = _band(2.0, 10.0)
    SOCIAL: CostBand = _band(5.0, 15.0)
    SEARCH: CostBand = _band(20.0, 60.0)  # effective CPM of paid clicks
    VIDEO: CostBand = _band(10.0, 30.0)
    FACEBOOK: CostBand = _band(5.0, 15.0)
    GOOGLE: CostBand = _band(20.0, 60.0)
    INSTAGRAM: CostBand = _band(5.0, 15.0)
    YOUTUBE: CostBand = _band(10.0, 30.0)
    device_multipliers: dict[str, float] = Field(
        default_factory=lambda: {"MOBILE": 1.0, "TABLET": 1.2, "DESKTOP": 1.5}
    )

    @field_validator("device_multipliers")
    @classmethod
    def _three_devices(cls, value: dict[str, float]) -> dict[str, float]:
        expected = {"MOBILE", "TABLET", "DESKTOP"}
        if set(value) != expected:
            raise ValueError(f"must have exactly the keys {sorted(expected)}")
        if any(v <= 0 or v > 10 for v in value.values()):
            raise ValueError("multipliers must be above 0 and at most 10")
        return value

    def band(self, channel: str) -> CostBand:
        band: CostBand = getattr(self, channel)
        return band


class RetailConfig(_Strict):
    """The whole configuration. Every field has the SPEC default, so ``RetailConfig()`` works."""

    seed: int = Field(42, ge=0, le=2**63 - 1, description="master seed")
    volume: VolumeConfig = Field(default_factory=lambda: VolumeConfig())
    historical: HistoricalConfig = Field(default_factory=lambda: HistoricalConfig())
    simulation: SimulationConfig = Field(default_factory=lambda: SimulationConfig())
    realtime: RealtimeConfig = Field(default_factory=lambda: RealtimeConfig())
    paths: PathsConfig = Field(default_factory=lambda: PathsConfig())
    stream: StreamConfig = Field(default_factory=lambda: StreamConfig())
    marketing_cost: MarketingCostConfig = Field(default_factory=lambda: MarketingCostConfig())

    @classmethod
    def from_file(cls, path: str | Path) -> RetailConfig:
        """Load and validate a JSON file; any problem raises one-line :class:`ConfigError`."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {file}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
        return cls.from_json(text, source=file.name)

    @classmethod
    def from_json(cls, text: str, source: str = "config") -> RetailConfig:
        """Validate JSON text (the form both files and the API deliver)."""
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise ConfigError(f"{source}: {format_validation_error(exc)}") from None

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "config") -> RetailConfig:
        """Validate a mapping with the same (JSON) rules as a file."""
        return cls.from_json(json.dumps(data, default=str), source=source)

    def to_public_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready data with every secret masked."""
        data: dict[str, Any] = self.model_dump(mode="json")
        secret = self.realtime.azure_connection_string.get_secret_value()
        data["realtime"]["azure_connection_string"] = "***" if secret else ""
        return data

    def with_data_dir(self, data_dir: str | Path) -> RetailConfig:
        """A copy whose data root is ``data_dir`` (the CLI's ``--data-dir``)."""
        return self.model_copy(
            update={"paths": self.paths.model_copy(update={"data": str(data_dir)})}
        )


def _describe_input(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_validation_error(exc: ValidationError) -> str:
    """All problems of a pydantic error on one line: ``key = value: rule``."""
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"])
        kind = err["type"]
        message = str(err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if kind == "extra_forbidden":
            parts.append(f"{key}: unknown key (check the spelling; see config.example.json)")
        elif kind == "missing":
            parts.append(f"{key}: required key is missing")
        elif kind.startswith("value_error") and message.startswith(("volume.", "realtime.")):
            parts.append(message)
        elif key:
            parts.append(f"{key} = {_describe_input(err.get('input'))}: {message.lower()}")
        else:
            parts.append(message)
    return "; ".join(parts)
