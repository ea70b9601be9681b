"""The OpenAPI schema says what the server really does: complete ``Allow`` headers, times whose
format matches their declaration (wall-clock times with a zone, simulated times without one,
declared as such), and request constraints stated in the schema (table names, a real
calendar date, the csv_daily rule)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_datagen.api.models import LOCAL_TIME_PATTERN


def _transport_app(client: httpx.AsyncClient) -> FastAPI:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, FastAPI)
    return app


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    schema = _transport_app(client).openapi()["paths"]
    for path, filled in (
        ("/api/config", "/api/config"),
        ("/api/disruptions", "/api/disruptions"),
        ("/api/tasks/{task_id}", "/api/tasks/abc"),
    ):
        response = await client.options(filled)
        assert response.status_code == 405
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        documented = {m.upper() for m in schema[path]}
        assert allowed - {"HEAD"} == documented, (path, allowed)
    assert (await client.options("/api/config")).headers["allow"] == "GET, HEAD, PUT"


async def test_wall_clock_times_carry_a_zone(client: httpx.AsyncClient) -> None:
    task = (await client.post("/api/validate/task")).json()
    stream = (await client.post("/api/stream/stop")).json()
    for value in (task["created_at"], stream.get("stopped_at")):
        if value is not None:
            assert datetime.fromisoformat(value).utcoffset() is not None, value
    schema = _transport_app(client).openapi()["components"]["schemas"]
    assert schema["TaskInfo"]["properties"]["created_at"]["format"] == "date-time"


async def test_simulated_times_are_declared_as_local_times(
    data_client: httpx.AsyncClient,
) -> None:
    """EventTS is local store time with no zone: the schema must not call it ``date-time``
    (RFC 3339 demands an offset) but state its real pattern."""
    span = (await data_client.get("/api/tables/fact_receipts/date-range")).json()
    for value in (span["start"], span["end"]):
        assert re.fullmatch(LOCAL_TIME_PATTERN[1:-1], value), value
    schema = _transport_app(data_client).openapi()["components"]["schemas"]
    for model, field in (("DateRange", "start"), ("DisruptionInfo", "start")):
        declared = schema[model]["properties"][field]
        options = declared.get("anyOf", [declared])
        assert all(o.get("format") != "date-time" for o in options), (model, declared)
        assert any(o.get("pattern") == LOCAL_TIME_PATTERN for o in options), (model, declared)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2024-01-05T08:00:00", True),
        ("2024-01-05 08:00", True),
        ("2024-02-29T00:00:00.123456", True),
        ("2024-01-05", True),
        ("2024-01-05T08:00:00Z", False),
        ("2024-01-05T08:00:00+02:00", False),
        ("2023-02-29T00:00:00", False),
        ("0000-01-01", False),
        ("2024-13-01", False),
    ],
)
async def test_local_times_follow_the_declared_pattern(
    client: httpx.AsyncClient, value: str, accepted: bool
) -> None:
    assert bool(re.fullmatch(LOCAL_TIME_PATTERN[1:-1], value)) is accepted
    listed = await client.get("/api/disruptions", params={"active_at": value})
    assert (listed.status_code == 200) is accepted, listed.text
    body: dict[str, Any] = {
        "kind": "weather_delay",
        "target_type": "network",
        "start": value,
        "end": "9999-12-31T00:00:00",
    }
    created = await client.post("/api/disruptions", json=body)
    if accepted:
        assert created.status_code == 201, created.text
        assert re.fullmatch(LOCAL_TIME_PATTERN[1:-1], created.json()["start"])
    else:
        assert created.status_code == 422
        assert "without a zone" in created.json()["detail"] or "start" in created.json()["detail"]


def test_request_constraints_are_in_the_schema(make_app: Any) -> None:
    schema = make_app().openapi()
    paths, components = schema["paths"], schema["components"]["schemas"]
    preview = paths["/api/tables/{name}/preview"]["get"]["parameters"][0]["schema"]
    assert "dim_customers" in preview["enum"] and "fact_receipts" in preview["enum"]
    span = paths["/api/tables/{name}/date-range"]["get"]["parameters"][0]["schema"]
    assert "fact_receipts" in span["enum"] and "dim_customers" not in span["enum"]
    export = components["ExportRequest"]
    assert export["then"] == {"properties": {"format": {"const": "csv"}}}
    tables = export["properties"]["tables"]["anyOf"][0]["items"]
    assert "fact_receipts" in tables["enum"]
    facts = components["GenerateFactsRequest"]["allOf"]
    assert {"properties": {"end": {"type": "null"}}} in [rule["then"] for rule in facts]


async def test_streaming_responses_declare_their_real_shapes(client: httpx.AsyncClient) -> None:
    """The streaming seam is typed: its responses are schemas, not free-form objects."""
    schemas = _transport_app(client).openapi()["components"]["schemas"]
    stats = schemas["StreamerStatistics"]
    assert {"events_sent", "day_position", "active_disruptions", "lag_seconds"} <= set(
        stats["required"]
    )
    assert schemas["DayPosition"]["properties"]["settled"]["type"] == "integer"
    envelope = schemas["EventEnvelope"]["properties"]
    assert {"event_type", "trace_id", "partition_key", "payload"} <= set(envelope)
    info = schemas["ConnectionInfo"]["properties"]
    assert {"namespace", "entity_path", "has_key"} <= set(info) and "key" not in info
    assert set(schemas["ReplayResult"]["properties"]) == {"replayed", "failed"}
    assert "attempts" in schemas["DeadLetter"]["properties"]
    assert schemas["StreamStatus"]["properties"]["params"]["anyOf"][0]["$ref"].endswith(
        "/StreamParams"
    )
